/**
 * Our lane-screen frames against the bytes others published (test/fixtures/screen/), and read
 * back by a screen written from the vendor document (test/peers/lane-screen.ts), not by our own
 * builder.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FrameError, RED, clockFrame, crc16, frame, linesFrame, readFrames, spacesFrame, temporaryTextFrame, voiceFrame } from '../drivers/screen/frames.js';
import { answer, decode, modbusCrc, splitFrames } from './peers/lane-screen.js';

const vectors = JSON.parse(readFileSync(new URL('./fixtures/screen/vendor-vectors.json', import.meta.url), 'utf8'));
const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('the vendor document’s own frames', () => {
  it('0x62: the document’s example is what we build, byte for byte', () => {
    const v = vectors.temporaryText;
    const ours = temporaryTextFrame(v.text, { window: 0, entry: 0x15, speed: 1, dwellSec: 2, exit: 0x15, repeat: 0, color: RED });
    expect(ours.toString('hex')).toBe(hex(v.host).toString('hex'));
    expect(decode(splitFrames(ours).frames[0]!)).toMatchObject({ cmd: 'temporary', text: '欢迎光临请入场停车', entry: 0x15, dwellSec: 2 });
  });

  it('both CRCs the document prints check with CRC-16/MODBUS, low byte first (fixtures README)', () => {
    for (const bytes of [hex(vectors.temporaryText.host), hex(vectors.temporaryText.screen), ...vectors.volume.frames.map(hex)]) {
      const body = bytes.subarray(0, -2);
      expect(bytes.readUInt16LE(bytes.length - 2)).toBe(modbusCrc(body));
      expect(crc16(body)).toBe(modbusCrc(body));
    }
  });

  it('the screen’s answer reads as done, and is what a screen sends back', () => {
    const { frames, rest, skipped } = readFrames(hex(vectors.temporaryText.screen));
    expect([frames, rest.length, skipped]).toEqual([[{ address: 0, cmd: 0x62, data: Buffer.from([0]) }], 0, 0]);
    expect(answer({ address: 0, cmd: 0x62, data: Buffer.alloc(0) })).toEqual(hex(vectors.temporaryText.screen));
  });

  it('a second author’s 0x0D frames are what frame() makes', () => {
    expect(vectors.volume.frames.map(hex)).toEqual([frame(0x0d, Buffer.from([0x0a])), frame(0x0d, Buffer.from([0x64]))]);
  });
});

describe('what a lane sends', () => {
  it('0x6E: four lines and a voice, read back by the document’s screen', () => {
    const f = linesFrame([{ text: '欢迎光临' }, { text: '月租车' }, { text: '青AGK916' }, { text: '剩余天数152天' }], '青AGK916，剩余天数152天', {
      dwellSec: 10,
      repeat: 1,
    });
    const shown = decode(splitFrames(f).frames[0]!);
    expect(shown).toMatchObject({
      cmd: 'lines',
      save: 0,
      voice: '青AGK916，剩余天数152天',
      lines: [
        { line: 0, text: '欢迎光临', dwellSec: 10, repeat: 1 },
        { line: 1, text: '月租车' },
        { line: 2, text: '青AGK916' },
        { line: 3, text: '剩余天数152天' },
      ],
    });
  });

  it('0x30 voice, 0x05 clock, 0xE3 spaces', () => {
    expect(decode(splitFrames(voiceFrame('车位已满')).frames[0]!)).toEqual({ cmd: 'voice', option: 2, text: '车位已满' });
    expect(decode(splitFrames(clockFrame({ year: 2026, month: 12, day: 7, weekday: 1, hour: 18, minute: 5, second: 9 })).frames[0]!)).toEqual({
      cmd: 'clock',
      year: 2026,
      month: 12,
      day: 7,
      weekday: 1,
      hour: 18,
      minute: 5,
      second: 9,
    });
    expect(decode(splitFrames(spacesFrame(152, 10)).frames[0]!)).toEqual({ cmd: 'spaces', showSec: 10, spaces: 152 });
  });

  it('refuses what the screen cannot take, naming it', () => {
    expect(() => linesFrame([{ text: '一二三四五六七八九十一二三四五六七' }], undefined, { dwellSec: 1, repeat: 1 })).toThrow(
      new FrameError('line 1 "一二三四五六七八九十一二三四五六七" takes 34 bytes, a line holds 32'),
    );
    expect(() =>
      linesFrame(
        [1, 2, 3, 4, 5].map((n) => ({ text: String(n) })),
        undefined,
        { dwellSec: 1, repeat: 1 },
      ),
    ).toThrow('at most 4 lines');
    expect(() => frame(0x30, Buffer.alloc(256))).toThrow('at most 255 data bytes');
  });

  it('finds frames in a noisy stream delivered in pieces, skipping bad CRCs', () => {
    const good = voiceFrame('请缴费');
    const bad = Buffer.from(good);
    bad[bad.length - 1]! ^= 0xff;
    const stream = Buffer.concat([Buffer.from([0x55, 0xaa, 0x00]), bad, good, good.subarray(0, 5)]);
    const first = readFrames(stream);
    expect(first.frames.map((f) => f.cmd)).toEqual([0x30]);
    expect(first.skipped).toBeGreaterThan(3);
    const second = readFrames(Buffer.concat([first.rest, good.subarray(5)]));
    expect(second.frames.map((f) => f.cmd)).toEqual([0x30]);
    expect(second.rest.length).toBe(0);
  });
});
