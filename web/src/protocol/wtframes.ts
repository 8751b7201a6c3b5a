// WebTransport framing (docs/protocol.md, "WebTransport"): a stream has no
// message boundaries, so each frame is a u32 big-endian length, then that
// many bytes of UTF-8 JSON. Pure: no streams, no timers.

/** The largest frame body accepted: the server's default `edge.max_frame_bytes` (1 MiB). */
export const MAX_FRAME_BYTES = 1_048_576;

/** A stream that cannot be read as frames (too big, or not UTF-8). */
export class FrameError extends Error {}

const encoder = new TextEncoder();

/** One frame: the length prefix, then the UTF-8 of `text`. */
export function encodeFrame(text: string): Uint8Array {
  const body = encoder.encode(text);
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setUint32(0, body.length);
  out.set(body, 4);
  return out;
}

/**
 * Turns the stream's chunks back into frame texts, however they were cut:
 * a frame over several chunks, several frames in one. A declared length
 * over the limit is refused as soon as its 4 bytes are in, before the body.
 */
export class FrameDecoder {
  private readonly header = new Uint8Array(4);
  private headerFill = 0;
  /** The body being filled, once its length is known. */
  private body: Uint8Array | null = null;
  private bodyFill = 0;
  private failed: FrameError | null = null;
  private readonly text = new TextDecoder('utf-8', { fatal: true });

  constructor(private readonly maxBytes: number = MAX_FRAME_BYTES) {}

  /** Whether a frame is partly read (the stream ending now would cut it). */
  get midFrame(): boolean {
    return this.headerFill > 0 || this.body !== null;
  }

  /** The texts of the frames that `chunk` completes; throws FrameError (and keeps throwing) on a bad stream. */
  push(chunk: Uint8Array): string[] {
    if (this.failed) throw this.failed;
    const out: string[] = [];
    let at = 0;
    while (at < chunk.length) {
      if (!this.body) {
        const take = Math.min(4 - this.headerFill, chunk.length - at);
        this.header.set(chunk.subarray(at, at + take), this.headerFill);
        this.headerFill += take;
        at += take;
        if (this.headerFill < 4) break;
        const length = new DataView(this.header.buffer).getUint32(0);
        if (length > this.maxBytes) {
          throw this.fail(`frame of ${length} bytes exceeds the limit of ${this.maxBytes}`);
        }
        this.headerFill = 0;
        this.body = new Uint8Array(length);
        this.bodyFill = 0;
      }
      const take = Math.min(this.body.length - this.bodyFill, chunk.length - at);
      this.body.set(chunk.subarray(at, at + take), this.bodyFill);
      this.bodyFill += take;
      at += take;
      if (this.bodyFill < this.body.length) break;
      const body = this.body;
      this.body = null;
      try {
        out.push(this.text.decode(body));
      } catch {
        throw this.fail('frame is not UTF-8');
      }
    }
    return out;
  }

  private fail(message: string): FrameError {
    this.failed = new FrameError(message);
    return this.failed;
  }
}
