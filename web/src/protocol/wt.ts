// The chat session over WebTransport, behind the same SocketLike as a
// WebSocket: one bidirectional stream of length-prefixed frames
// (wtframes.ts). The server's goodbye is an in-band `close` frame, since
// browsers do not see QUIC close codes; it becomes `onclose` with its code.
import type { SocketLike } from './client';
import { encodeFrame, FrameDecoder, MAX_FRAME_BYTES } from './wtframes';

/** A close as `onclose` reports it. */
export interface CloseInfo {
  code: number;
  reason: string;
}

/** The part of a WebTransport stream pair this client uses. */
export interface StreamPairLike {
  readable: ReadableStream<Uint8Array>;
  writable: WritableStream<Uint8Array>;
}

/** The part of the browser's WebTransport this client uses (tests pass a fake). */
export interface WebTransportLike {
  readonly ready: Promise<unknown>;
  readonly closed: Promise<unknown>;
  createBidirectionalStream(): Promise<StreamPairLike>;
  close(info?: { closeCode?: number; reason?: string }): void;
}

/** What a session that ended without a `close` frame reports, as a dropped WebSocket does. */
export const ABNORMAL_CLOSE = 1006;

/** The code and reason of a server `close` frame, or null for any other frame. */
export function closeFrameOf(text: string): CloseInfo | null {
  if (!text.includes('"close"')) return null;
  try {
    const v = JSON.parse(text) as { type?: unknown; code?: unknown; reason?: unknown } | null;
    if (v === null || typeof v !== 'object' || v.type !== 'close' || typeof v.code !== 'number') return null;
    return { code: v.code, reason: typeof v.reason === 'string' ? v.reason : '' };
  } catch {
    return null;
  }
}

/**
 * A SocketLike over a WebTransport session: opens once `ready` and the chat
 * stream are there; reports one `onclose` (after an `onerror` if something
 * broke) however the session ends.
 */
export class WtSocket implements SocketLike {
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: CloseInfo) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  private writer: WritableStreamDefaultWriter<Uint8Array> | null = null;
  /** Writes go one after another, each after the one before. */
  private writing: Promise<void> = Promise.resolve();
  /** Set once the end is decided: no event but that one `onclose` follows. */
  private done = false;
  private readonly decoder: FrameDecoder;

  constructor(private readonly transport: WebTransportLike, maxFrameBytes: number = MAX_FRAME_BYTES) {
    this.decoder = new FrameDecoder(maxFrameBytes);
    // The read loop sees the end; this only keeps the rejection handled.
    transport.closed.catch(() => {});
    void this.open();
  }

  /** Whether the stream is open for `send`. */
  get isOpen(): boolean {
    return this.writer !== null && !this.done;
  }

  /** Sends one text frame (after the ones before); ignored once closed, as on a WebSocket. */
  send(data: string): void {
    if (this.done) return;
    const writer = this.writer;
    if (!writer) throw new Error('the WebTransport session is not open yet');
    const frame = encodeFrame(data);
    this.writing = this.writing
      .then(() => (this.done ? undefined : writer.write(frame)))
      .catch((e: unknown) => this.fail(e));
  }

  /** Closes the session with `code`; `onclose` then reports that code. */
  close(code = 1000, reason = ''): void {
    if (this.done) return;
    this.done = true;
    this.closeTransport(code, reason);
    void Promise.resolve().then(() => this.onclose?.({ code, reason }));
  }

  private async open(): Promise<void> {
    let stream: StreamPairLike;
    try {
      await this.transport.ready;
      stream = await this.transport.createBidirectionalStream();
    } catch (e) {
      this.fail(e);
      return;
    }
    if (this.done) return;
    this.writer = stream.writable.getWriter();
    const reader = stream.readable.getReader();
    this.onopen?.({});
    await this.read(reader);
  }

  private async read(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch {
        this.finish({ code: ABNORMAL_CLOSE, reason: '' });
        return;
      }
      if (this.done) return;
      if (chunk.done) {
        this.finish({ code: ABNORMAL_CLOSE, reason: this.decoder.midFrame ? 'stream ended inside a frame' : '' });
        return;
      }
      let texts: string[];
      try {
        texts = this.decoder.push(chunk.value);
      } catch (e) {
        this.fail(e);
        return;
      }
      for (const text of texts) {
        if (this.done) return;
        const close = closeFrameOf(text);
        if (close) {
          this.closeTransport(close.code, close.reason);
          this.finish(close);
          return;
        }
        this.onmessage?.({ data: text });
      }
    }
  }

  /** Something broke: `onerror`, the session closed, `onclose` with 1006. */
  private fail(error: unknown): void {
    if (this.done) return;
    this.onerror?.(error);
    const reason = error instanceof Error ? error.message : '';
    this.closeTransport(ABNORMAL_CLOSE, reason);
    this.finish({ code: ABNORMAL_CLOSE, reason });
  }

  private finish(info: CloseInfo): void {
    if (this.done) return;
    this.done = true;
    this.onclose?.(info);
  }

  private closeTransport(code: number, reason: string): void {
    try {
      // WebTransport close codes are u32, reasons at most 1024 bytes.
      this.transport.close({ closeCode: code >>> 0, reason: reason.slice(0, 200) });
    } catch {
      // Already closed.
    }
  }
}
