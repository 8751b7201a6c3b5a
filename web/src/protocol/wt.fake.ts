// Test doubles of the browser's WebTransport and WebSocket, for wt.test.ts
// and transport.test.ts (nothing else imports this file).
import type { SocketLike } from './client';
import type { StreamPairLike, WebTransportLike } from './wt';
import { FrameDecoder } from './wtframes';

/** A promise and the functions that settle it. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
}

/** A WebTransport session the test drives: settle `ready`, push server bytes, read what was written. */
export class FakeTransport implements WebTransportLike {
  readonly readyGate = deferred<unknown>();
  readonly closedGate = deferred<unknown>();
  readonly ready = this.readyGate.promise;
  readonly closed = this.closedGate.promise;
  /** `close` calls, in order. */
  readonly closes: { closeCode?: number; reason?: string }[] = [];
  /** Every chunk written to the chat stream. */
  readonly written: Uint8Array[] = [];
  /** Set to make the next write fail. */
  failWrites = false;
  private controller!: ReadableStreamDefaultController<Uint8Array>;
  private readonly pair: StreamPairLike;

  constructor(readonly url = '', readonly init: unknown = undefined) {
    this.pair = {
      readable: new ReadableStream<Uint8Array>({ start: (c) => { this.controller = c; } }),
      writable: new WritableStream<Uint8Array>({
        write: (chunk) => {
          if (this.failWrites) throw new Error('write failed');
          this.written.push(chunk);
        },
      }),
    };
    this.closed.catch(() => {});
    this.ready.catch(() => {});
  }

  createBidirectionalStream(): Promise<StreamPairLike> {
    return this.ready.then(() => this.pair);
  }

  close(info?: { closeCode?: number; reason?: string }): void {
    this.closes.push(info ?? {});
  }

  /** The server sends bytes. */
  push(bytes: Uint8Array): void {
    this.controller.enqueue(bytes);
  }

  /** The server ends its stream. */
  end(): void {
    this.controller.close();
  }

  /** The connection breaks. */
  error(e: unknown): void {
    this.controller.error(e);
  }

  /** The texts of the frames written so far. */
  frames(): string[] {
    const d = new FrameDecoder();
    return this.written.flatMap((w) => d.push(w));
  }
}

/** A WebSocket the test drives. */
export class FakeWebSocket implements SocketLike {
  sent: string[] = [];
  closes: { code?: number; reason?: string }[] = [];
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  constructor(readonly url: string) {}
  send(data: string): void { this.sent.push(data); }
  close(code?: number, reason?: string): void { this.closes.push({ code, reason }); }
  /** The server accepts. */
  open(): void { this.onopen?.({}); }
  /** The server sends a text frame. */
  receive(text: string): void { this.onmessage?.({ data: text }); }
  /** The connection ends with `code`. */
  drop(code = 1006, reason = ''): void { this.onclose?.({ code, reason }); }
}

/** One event a socket reported. */
export type Logged =
  | { kind: 'open' }
  | { kind: 'message'; data: unknown }
  | { kind: 'close'; code: number; reason: string }
  | { kind: 'error'; error: unknown };

/** Logs every event of `socket`; `until` waits for the log to hold an event of a kind. */
export function record(socket: SocketLike): { log: Logged[]; until: (kind: Logged['kind']) => Promise<Logged[]> } {
  const log: Logged[] = [];
  const waiters: { kind: Logged['kind']; resolve: (l: Logged[]) => void }[] = [];
  const add = (e: Logged) => {
    log.push(e);
    for (const w of waiters.splice(0)) {
      if (w.kind === e.kind) w.resolve(log);
      else waiters.push(w);
    }
  };
  socket.onopen = () => add({ kind: 'open' });
  socket.onmessage = (ev) => add({ kind: 'message', data: ev.data });
  socket.onclose = (ev) => add({ kind: 'close', code: ev.code, reason: ev.reason });
  socket.onerror = (error) => add({ kind: 'error', error });
  const until = (kind: Logged['kind']) => log.some((e) => e.kind === kind)
    ? Promise.resolve(log)
    : new Promise<Logged[]>((resolve) => waiters.push({ kind, resolve }));
  return { log, until };
}

/** Lets every pending promise callback and zero-delay timer run (to check that nothing more happens). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
