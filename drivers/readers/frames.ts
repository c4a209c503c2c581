/**
 * Reader text out of a byte stream (docs/credentials.md, "Readers"). Serial QR readers end a read
 * with CR, LF or CR LF; card readers and Wiegand-to-serial bridges often frame it as STX ... ETX;
 * a few send nothing after it, so a pause of `idleMs` ends a read too. A read longer than
 * `maxChars` is dropped whole (noise on the line, a reader in a wrong mode), and reported.
 */
import type { Clock, TimerHandle } from '../../core/clock.js';

const STX = 0x02;
const ETX = 0x03;
const CR = 0x0d;
const LF = 0x0a;

export interface FrameSink {
  text(text: string): void;
  /** something that is not a read: too long, or not text */
  bad(reason: 'too-long' | 'not-text', bytes: number): void;
}

export class FrameSplitter {
  private buf: number[] = [];
  private overflowed = false;
  private idle: TimerHandle | undefined;

  constructor(
    private readonly sink: FrameSink,
    private readonly clock: Clock,
    private readonly o: { idleMs: number; maxChars: number } = { idleMs: 50, maxChars: 1024 },
  ) {}

  push(chunk: Uint8Array): void {
    for (const byte of chunk) {
      if (byte === STX) {
        this.buf = [];
        this.overflowed = false;
      } else if (byte === CR || byte === LF || byte === ETX) {
        this.end();
      } else if (this.buf.length >= this.o.maxChars) {
        if (!this.overflowed) this.sink.bad('too-long', this.buf.length);
        this.overflowed = true;
        this.buf = [];
      } else if (!this.overflowed) {
        this.buf.push(byte);
      }
    }
    this.clock.clearTimeout(this.idle);
    this.idle = this.buf.length ? this.clock.setTimeout(() => this.end(), this.o.idleMs) : undefined;
  }

  /** Ends the read in progress (the line closed, or a pause). */
  end(): void {
    this.clock.clearTimeout(this.idle);
    this.idle = undefined;
    const bytes = this.buf;
    this.buf = [];
    if (this.overflowed) {
      this.overflowed = false;
      return;
    }
    if (bytes.length === 0) return;
    // Readers send ASCII (a pass is base64url, a card number digits); anything else is noise or a wrong mode.
    if (bytes.some((b) => b < 0x20 || b > 0x7e)) {
      this.sink.bad('not-text', bytes.length);
      return;
    }
    this.sink.text(String.fromCharCode(...bytes));
  }
}
