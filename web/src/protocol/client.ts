// The WebSocket driver: one connection at a time, hello with cursors,
// heartbeats, reconnects with backoff, and the outbox. Views never touch the
// socket; they call these methods and listen to the events.
import { Backoff } from './backoff';
import { Cursors } from './cursors';
import { decode, encode, type ClientFrame, type Ready, type ServerFrame } from './frames';
import type { Id } from './ids';
import { Outbox, type Pending } from './outbox';
import type { Message } from './types';

/** The part of the browser's WebSocket this client uses (tests pass a fake). */
export interface SocketLike {
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

/** Where the connection stands. */
export type Status = 'connecting' | 'online' | 'reconnecting' | 'signed_out' | 'stopped';

/** What the client tells its listener. */
export type ClientEvent =
  | { kind: 'status'; status: Status; retryInMs?: number }
  | { kind: 'ready'; ready: Ready; reconnect: boolean }
  | { kind: 'message'; message: Message }
  | { kind: 'outbox'; channelId: Id }
  | { kind: 'frame'; frame: ServerFrame };

/** How the client reaches the server and the clock. */
export interface ClientOptions {
  url: string;
  token: string;
  connect: (url: string) => SocketLike;
  now?: () => number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
  backoff?: Backoff;
  /** How long a sent message may wait for its ack before it shows as failed. */
  ackTimeoutMs?: number;
  /** Tab-unique prefix of client_msg_ids. */
  idPrefix: string;
}

/** Close codes after which reconnecting cannot help. */
const SIGNED_OUT = 4001;
/** The server lost events: reconnect at once, with cursors. */
const RESYNC_NOW = 4009;

/** One user's connection to the server, kept up until `stop`. */
export class ChatClient {
  readonly cursors = new Cursors();
  readonly outbox: Outbox;
  private socket: SocketLike | null = null;
  private status: Status = 'stopped';
  private readyOnce = false;
  /** The signed-in user's id, from `ready`. */
  private userId: Id | null = null;
  private heartbeat: unknown = null;
  private retryTimer: unknown = null;
  /** The edge a `reconnect` frame named, for the next connection only. */
  private redirect: string | null = null;
  private readonly watched = new Set<Id>();
  private readonly listeners = new Set<(e: ClientEvent) => void>();
  private readonly backoff: Backoff;
  private readonly now: () => number;
  private readonly setTimer: (fn: () => void, ms: number) => unknown;
  private readonly clearTimer: (handle: unknown) => void;

  constructor(private readonly options: ClientOptions) {
    this.outbox = new Outbox(options.idPrefix);
    this.backoff = options.backoff ?? new Backoff();
    this.now = options.now ?? Date.now;
    this.setTimer = options.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer = options.clearTimer ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>));
  }

  /** Calls `fn` with every event until the returned function is called. */
  subscribe(fn: (e: ClientEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** The connection's state. */
  get state(): Status {
    return this.status;
  }

  /** Opens the connection (and keeps reopening it). */
  start(): void {
    if (this.status !== 'stopped') return;
    this.open('connecting');
  }

  /** Closes for good (log out, tab closing). */
  stop(): void {
    this.setStatus('stopped');
    this.clearTimers();
    const socket = this.socket;
    this.socket = null;
    socket?.close(1000, 'closed');
  }

  /** Sends a message (now, or once connected); returns its outbox entry. */
  send(channelId: Id, text: string): Pending {
    const item = this.outbox.add(channelId, text);
    this.transmit(item);
    this.emit({ kind: 'outbox', channelId });
    return item;
  }

  /** Sends a failed message again, under the same client_msg_id. */
  retry(clientMsgId: string): void {
    const item = this.outbox.retry(clientMsgId);
    if (!item) return;
    this.transmit(item);
    this.emit({ kind: 'outbox', channelId: item.channelId });
  }

  /** Drops a failed message from the outbox. */
  discard(clientMsgId: string): void {
    const item = this.outbox.get(clientMsgId);
    this.outbox.discard(clientMsgId);
    if (item) this.emit({ kind: 'outbox', channelId: item.channelId });
  }

  /** Moves the read position (if connected; the next open resends nothing). */
  read(channelId: Id, messageId: Id): boolean {
    return this.frame({ type: 'read', channel_id: channelId, message_id: messageId });
  }

  /** Tells the channel's other members that the user is typing. */
  typing(channelId: Id): boolean {
    return this.frame({ type: 'typing', channel_id: channelId });
  }

  /** Replaces the text of one of the user's messages. */
  edit(channelId: Id, messageId: Id, text: string): boolean {
    return this.frame({ type: 'edit', channel_id: channelId, message_id: messageId, text });
  }

  /** Deletes one of the user's messages (or, as a group admin, anyone's). */
  delete(channelId: Id, messageId: Id): boolean {
    return this.frame({ type: 'delete', channel_id: channelId, message_id: messageId });
  }

  /** Starts receiving the presence of the channel's members; kept across reconnects. */
  watch(channelId: Id): void {
    if (this.watched.has(channelId)) return;
    this.watched.add(channelId);
    this.frame({ type: 'watch_presence', channel_id: channelId });
  }

  /** Ends a presence watch. */
  unwatch(channelId: Id): void {
    if (!this.watched.delete(channelId)) return;
    this.frame({ type: 'unwatch_presence', channel_id: channelId });
  }

  /** Whether the channel's presence is watched. */
  watching(channelId: Id): boolean {
    return this.watched.has(channelId);
  }

  private frame(frame: ClientFrame): boolean {
    if (this.status !== 'online' || !this.socket) return false;
    this.socket.send(encode(frame));
    return true;
  }

  private transmit(item: Pending): void {
    const frame: ClientFrame = {
      type: 'send', channel_id: item.channelId, client_msg_id: item.clientMsgId, text: item.text,
    };
    if (this.frame(frame)) this.outbox.sent(item.clientMsgId, this.now());
  }

  private open(status: Status): void {
    this.setStatus(status);
    let socket: SocketLike;
    const url = this.redirect ?? this.options.url;
    this.redirect = null;
    try {
      socket = this.options.connect(url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      const cursors = this.cursors.forHello();
      const hello: ClientFrame = { type: 'hello', token: this.options.token };
      if (Object.keys(cursors).length > 0) hello.cursors = cursors;
      socket.send(encode(hello));
    };
    socket.onmessage = (ev) => {
      if (this.socket !== socket || typeof ev.data !== 'string') return;
      const decoded = decode(ev.data);
      if (decoded.ok) this.handle(decoded.frame);
    };
    socket.onerror = () => {};
    socket.onclose = (ev) => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.clearTimers();
      if (this.status === 'stopped') return;
      if (ev.code === SIGNED_OUT) {
        this.setStatus('signed_out');
        return;
      }
      this.failInFlight();
      if (ev.code === RESYNC_NOW) {
        this.open('reconnecting');
      } else {
        this.scheduleReconnect();
      }
    };
  }

  /**
   * The edge is draining: connect at the first edge it named (the next
   * reconnect after that goes to the usual URL again), with cursors, so
   * nothing is lost or shown twice.
   */
  private moveTo(alternatives: string[]): void {
    const next = alternatives.find((u) => typeof u === 'string' && /^wss?:\/\//.test(u));
    const old = this.socket;
    if (!old) return;
    this.socket = null;
    this.clearTimers();
    old.close(1000, 'reconnect');
    this.failInFlight();
    this.redirect = next ?? null;
    this.open('reconnecting');
  }

  /** Sends on the wire that lost their connection go again after the next hello. */
  private failInFlight(): void {
    for (const item of this.outbox.toResend()) item.sentAt = null;
  }

  private scheduleReconnect(): void {
    const delay = this.backoff.next();
    this.setStatus('reconnecting', delay);
    this.retryTimer = this.setTimer(() => {
      this.retryTimer = null;
      if (this.status === 'reconnecting') this.open('reconnecting');
    }, delay);
  }

  private handle(frame: ServerFrame): void {
    switch (frame.type) {
      case 'ready':
        this.onReady(frame);
        return;
      case 'ack': {
        const item = this.outbox.ack(frame.client_msg_id, frame.message);
        this.deliver(frame.message);
        if (item) this.emit({ kind: 'outbox', channelId: item.channelId });
        return;
      }
      case 'message':
        this.deliver(frame.message);
        return;
      case 'error':
        if (frame.client_msg_id !== undefined) {
          const item = this.outbox.fail(frame.client_msg_id, frame.code);
          if (item) this.emit({ kind: 'outbox', channelId: item.channelId });
        }
        break;
      case 'resync':
        this.cursors.resync(frame.channel_id, frame.after_message_id);
        break;
      case 'reconnect':
        this.moveTo(frame.alternatives);
        break;
      case 'channel':
        if (frame.change === 'deleted') this.cursors.forget(frame.channel.id);
        break;
      default:
        break;
    }
    this.emit({ kind: 'frame', frame });
  }

  private deliver(message: Message): void {
    this.settle(message);
    if (this.cursors.observe(message.channel_id, message.id)) {
      this.emit({ kind: 'message', message });
    }
  }

  /**
   * A message of the user's with a client_msg_id still in the outbox (say,
   * one that failed by timeout, then came back by catch-up): it was stored,
   * so it leaves the outbox and is not shown twice.
   */
  private settle(message: Message): void {
    const cmid = message.client_msg_id;
    if (cmid === undefined || message.sender_id !== this.userId) return;
    const item = this.outbox.get(cmid);
    if (!item || item.channelId !== message.channel_id) return;
    this.outbox.ack(cmid, message);
    this.emit({ kind: 'outbox', channelId: item.channelId });
  }

  private onReady(ready: Ready): void {
    this.userId = ready.user.id;
    this.backoff.reset();
    const reconnect = this.readyOnce;
    this.readyOnce = true;
    this.setStatus('online');
    const interval = Math.max(1000, ready.heartbeat_interval_ms);
    const beat = () => {
      this.frame({ type: 'ping' });
      this.checkAcks();
      this.heartbeat = this.setTimer(beat, interval);
    };
    this.heartbeat = this.setTimer(beat, interval);
    this.emit({ kind: 'ready', ready, reconnect });
    for (const channel of this.watched) this.frame({ type: 'watch_presence', channel_id: channel });
    for (const item of this.outbox.toResend()) this.transmit(item);
  }

  /** Sends that waited too long for their ack show as failed (and can be retried). */
  checkAcks(): void {
    const timeout = this.options.ackTimeoutMs ?? 15_000;
    for (const item of this.outbox.overdue(this.now(), timeout)) {
      this.outbox.fail(item.clientMsgId, 'timeout');
      this.emit({ kind: 'outbox', channelId: item.channelId });
    }
  }

  private clearTimers(): void {
    if (this.heartbeat !== null) this.clearTimer(this.heartbeat);
    if (this.retryTimer !== null) this.clearTimer(this.retryTimer);
    this.heartbeat = null;
    this.retryTimer = null;
  }

  private setStatus(status: Status, retryInMs?: number): void {
    this.status = status;
    this.emit({ kind: 'status', status, retryInMs });
  }

  private emit(event: ClientEvent): void {
    for (const fn of this.listeners) fn(event);
  }
}
