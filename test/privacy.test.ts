import { describe, expect, it } from 'vitest';
import { maskPlate, maskPlatesInText } from '../core/privacy.js';
import { capturingLog } from './helpers.js';

describe('plate numbers in logs', () => {
  it('keep the province character and the last two characters', () => {
    expect(maskPlate('粤B12345')).toBe('粤****45');
    expect(maskPlate('粤BD12345')).toBe('粤*****45');
    expect(maskPlate('AB')).toBe('**');
  });

  it('are masked in free text, separators included', () => {
    expect(maskPlatesInText('car 粤B12345 and 京A·9F8E7 seen')).toBe('car 粤****45 and 京*****E7 seen');
  });

  it('never reach a log line, in fields, nested data or messages', () => {
    const { log, lines } = capturingLog();
    log.info({ plate: '粤B12345', event: { data: { plate: '沪AD12345', note: 'driver of 苏E12345 called' } } }, 'granted 粤B12345');
    const text = JSON.stringify(lines());
    expect(text).not.toMatch(/B12345|AD12345|E12345/);
    expect(lines()[0]).toMatchObject({ plate: '粤****45', msg: 'granted 粤****45', event: { data: { plate: '沪*****45' } } });
  });

  it("are masked in vehicle events as the gateway logs them, the camera's raw text included", async () => {
    const { log, lines } = capturingLog();
    const { startGateway } = await import('./helpers.js');
    const h = await startGateway(
      {
        devices: [
          { id: 'gate', type: 'barrier', open: { io: 'sim', pin: 1 } },
          { id: 'cam', type: 'lpr-camera', vendor: 'generic', direction: 'in', lane: 'gate', allowFrom: ['127.0.0.1'] },
        ],
      },
      undefined,
      { log },
    );
    h.gateway.pushSources.get('cam')!.handlePush(Buffer.from('{"plate":"粤Ａ·77777"}'), 'application/json', '/lpr/cam', '127.0.0.1');
    await h.gateway.stop();
    const text = JSON.stringify(lines());
    expect(text).toContain('vehicle.entry');
    expect(text).not.toMatch(/77777|Ａ·7/);
  });
});

describe('secrets in logs', () => {
  it('are redacted by key', () => {
    const { log, lines } = capturingLog();
    log.info({ password: 'hunter2', user: { token: 'abc' }, sig: 'deadbeef', req: { headers: { authorization: 'Bearer x', cookie: 'sid=1' } } }, 'login');
    const line = lines()[0]!;
    expect(JSON.stringify(line)).not.toMatch(/hunter2|abc|deadbeef|Bearer|sid=1/);
    expect(line).toMatchObject({ password: '[redacted]', user: { token: '[redacted]' }, sig: '[redacted]' });
  });
});
