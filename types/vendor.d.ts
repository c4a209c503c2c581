// Minimal declarations for untyped CommonJS packages, covering only what drivers/io/firmata.ts uses.
declare module 'johnny-five' {
  import type { EventEmitter } from 'node:events';
  export class Board extends EventEmitter {
    constructor(options: { io: unknown; repl?: boolean; debug?: boolean; sigint?: boolean; timeout?: number; id?: string });
    isReady: boolean;
    /** every Board ever made, kept by johnny-five */
    static readonly cache: Board[];
  }
  const five: { Board: typeof Board };
  export default five;
}

declare module 'firmata-io' {
  import type { EventEmitter } from 'node:events';
  class Firmata extends EventEmitter {
    constructor(transport: unknown, options?: Record<string, unknown>);
  }
  const bindTransport: ((transport: unknown) => typeof Firmata) & { Firmata: typeof Firmata };
  export default bindTransport;
}

declare module 'mock-firmata' {
  import type { EventEmitter } from 'node:events';
  export class Firmata extends EventEmitter {
    constructor(options?: Record<string, unknown>);
    name: string;
    isReady: boolean;
    pinMode(pin: number, mode: number): void;
    digitalWrite(pin: number, value: number): void;
    digitalRead(pin: number, callback: (value: number) => void): void;
  }
}
