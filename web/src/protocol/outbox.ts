// Messages the user sent that the server has not acknowledged yet. Each has
// a client_msg_id chosen here; every resend (after a reconnect, or the
// user's "retry") uses the same one, so the server stores it once.
import type { Id } from './ids';
import type { Message } from './types';

/** Error codes after which the same send may succeed later. */
export const RETRYABLE = new Set([
  'overloaded',
  'storage_unavailable',
  'rate_limited',
  'timeout',
  'unavailable',
  'not_owner',
]);

/** Whether a send that failed with `code` is worth retrying as it is. */
export function canRetry(code: string | undefined): boolean {
  return code === undefined || RETRYABLE.has(code);
}

/** A message on its way. */
export interface Pending {
  clientMsgId: string;
  channelId: Id;
  text: string;
  state: 'pending' | 'failed';
  /** When it was last put on the wire (ms), or null while not sent. */
  sentAt: number | null;
  /** Why it failed, when it did. */
  error?: string;
}

/** The unacknowledged sends of one tab. */
export class Outbox {
  private readonly items = new Map<string, Pending>();
  private seq = 0;

  /** `prefix` keeps ids unique per tab; the server needs them unique per sender and channel. */
  constructor(private readonly prefix: string) {}

  /** A new message to send; not yet on the wire. */
  add(channelId: Id, text: string): Pending {
    this.seq += 1;
    const item: Pending = {
      clientMsgId: `${this.prefix}-${this.seq}`,
      channelId,
      text,
      state: 'pending',
      sentAt: null,
    };
    this.items.set(item.clientMsgId, item);
    return item;
  }

  /** Marks `item` as written to the socket at `now`. */
  sent(clientMsgId: string, now: number): void {
    const item = this.items.get(clientMsgId);
    if (item) item.sentAt = now;
  }

  /** Everything to put on the wire after (re)connecting: pending, in order. */
  toResend(): Pending[] {
    return [...this.items.values()].filter((p) => p.state === 'pending');
  }

  /** The server stored it (or had already): it leaves the outbox. */
  ack(clientMsgId: string, _message: Message): Pending | undefined {
    const item = this.items.get(clientMsgId);
    this.items.delete(clientMsgId);
    return item;
  }

  /** The server refused it, or no ack came in time. */
  fail(clientMsgId: string, code: string): Pending | undefined {
    const item = this.items.get(clientMsgId);
    if (!item) return undefined;
    item.state = 'failed';
    item.error = code;
    item.sentAt = null;
    return item;
  }

  /** The user asked to try again: pending once more, with the same id. */
  retry(clientMsgId: string): Pending | undefined {
    const item = this.items.get(clientMsgId);
    if (!item) return undefined;
    item.state = 'pending';
    item.error = undefined;
    return item;
  }

  /** The user gave up on a failed message. */
  discard(clientMsgId: string): void {
    this.items.delete(clientMsgId);
  }

  /** Sends on the wire longer than `timeoutMs` without an ack. */
  overdue(now: number, timeoutMs: number): Pending[] {
    return [...this.items.values()].filter(
      (p) => p.state === 'pending' && p.sentAt !== null && now - p.sentAt > timeoutMs,
    );
  }

  /** A message of the outbox, by its client_msg_id. */
  get(clientMsgId: string): Pending | undefined {
    return this.items.get(clientMsgId);
  }

  /**
   * Copies of the outbox's messages in `channelId`, oldest first. Copies, so
   * that a view handed one sees a change as a new object (Preact with
   * signals skips a component whose props are the same objects).
   */
  inChannel(channelId: Id): Pending[] {
    return [...this.items.values()].filter((p) => p.channelId === channelId).map((p) => ({ ...p }));
  }
}
