// Which transport carries the session: WebTransport (HTTP/3) first, and
// WebSocket when that cannot open (no WebTransport in the browser, the
// server has it off, UDP blocked, a refused certificate) within 3 s of
// the start. ChatClient sees one socket that opens either way.
//
// Sticky: after one failed WebTransport attempt at the page's own edge the
// page connects over WebSocket only (a network that blocks UDP would cost
// 3 s per reconnect otherwise); a reload tries again. A failed attempt at
// another edge (a `reconnect` frame's) changes nothing for the page's own.
// A WebTransport session that opened and later dropped is no failure:
// ChatClient's usual reconnect tries WebTransport again.
import type { SocketLike } from './client';
import { WtSocket, type CloseInfo, type WebTransportLike } from './wt';

/** The transport of an open session. */
export type TransportKind = 'webtransport' | 'websocket';

/** What `GET /webtransport/cert-hash` says (docs/protocol.md, "WebTransport"). */
export interface CertHash {
  algorithm: string;
  /** The certificate's SHA-256, base64. */
  value: string;
  port: number;
  path: string;
  /** Present for a self-signed certificate, whose hash is pinned. */
  expires_at_ms?: number;
}

/** The options of `new WebTransport` this client sets. */
export interface WebTransportInit {
  serverCertificateHashes?: { algorithm: string; value: Uint8Array<ArrayBuffer> }[];
}

/** A fetch answer, as far as the connector reads it. */
export interface FetchAnswer {
  ok: boolean;
  status: number;
  json(): Promise<unknown>;
}

/** Everything the connector takes from the page; tests pass fakes. */
export interface TransportEnv {
  /** Opens a WebTransport session; absent where the browser has none. */
  webTransport?: (url: string, init: WebTransportInit) => WebTransportLike;
  /** Opens a WebSocket. */
  webSocket: (url: string) => SocketLike;
  /** GETs a URL (relative ones against the page). */
  fetch: (url: string) => Promise<FetchAnswer>;
  /** The page's origin, e.g. `https://chat.example:8443`. */
  origin: string;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
  /** How long WebTransport may take, from the start to the chat stream being open. */
  timeoutMs?: number;
  /** The largest frame the WebTransport decoder takes. */
  maxFrameBytes?: number;
  /** Told the transport when a session opens, and null when it closes. */
  onChange?: (kind: TransportKind | null) => void;
}

/** The bound on a WebTransport attempt, from the start to the stream being open. */
export const WEBTRANSPORT_TIMEOUT_MS = 3000;

/** Where a ws(s) URL's edge serves its certificate hash, and which host its WebTransport is on. */
export function certHashSource(wsUrl: string, origin: string): { fetchUrl: string; hostname: string } | null {
  let u: URL;
  try {
    u = new URL(wsUrl);
  } catch {
    return null;
  }
  const scheme = u.protocol === 'wss:' ? 'https:' : u.protocol === 'ws:' ? 'http:' : null;
  if (!scheme) return null;
  const http = `${scheme}//${u.host}`;
  const path = '/webtransport/cert-hash';
  return { fetchUrl: http === origin ? path : http + path, hostname: u.hostname };
}

/** The certificate-hash answer, checked; throws when it is not one. */
export function parseCertHash(body: unknown): CertHash {
  const v = body as Partial<Record<keyof CertHash, unknown>> | null;
  if (v === null || typeof v !== 'object' || typeof v.algorithm !== 'string' || typeof v.value !== 'string'
    || typeof v.port !== 'number' || typeof v.path !== 'string' || !v.path.startsWith('/')) {
    throw new Error('not a certificate hash');
  }
  const expires = typeof v.expires_at_ms === 'number' ? v.expires_at_ms : undefined;
  return { algorithm: v.algorithm, value: v.value, port: v.port, path: v.path, expires_at_ms: expires };
}

/** The `new WebTransport` options for a certificate: its hash pinned when self-signed. */
export function webTransportInit(info: CertHash): WebTransportInit {
  if (info.expires_at_ms === undefined) return {};
  if (info.algorithm !== 'sha-256') throw new Error(`cannot pin a ${info.algorithm} hash`);
  const bytes = Uint8Array.from(atob(info.value), (c) => c.charCodeAt(0));
  return { serverCertificateHashes: [{ algorithm: 'sha-256', value: bytes }] };
}

/** Opens sockets for ChatClient (`connect`), WebTransport first; one per page. */
export class Connector {
  private webTransportFailed = false;
  /** The newest socket: only its opening and closing change the transport shown. */
  private current: TransportSocket | null = null;

  constructor(private readonly env: TransportEnv) {}

  /** Whether a WebTransport attempt at the page's edge failed, so only WebSocket is tried. */
  get webTransportOff(): boolean {
    return this.webTransportFailed;
  }

  /** A socket to `url` (ws: or wss:) that opens over WebTransport, or else WebSocket. */
  connect(url: string): SocketLike {
    const source = certHashSource(url, this.env.origin);
    const socket = new TransportSocket(this.env, url, {
      opened: (s, kind) => { if (s === this.current) this.env.onChange?.(kind); },
      closed: (s) => { if (s === this.current) this.env.onChange?.(null); },
      failed: () => { if (source?.fetchUrl.startsWith('/')) this.webTransportFailed = true; },
    });
    this.current = socket;
    if (source && this.env.webTransport && !this.webTransportFailed) {
      socket.tryWebTransport(source);
    } else {
      socket.useWebSocket(true);
    }
    return socket;
  }
}

/** What a socket tells its connector. */
interface Hooks {
  opened(s: TransportSocket, kind: TransportKind): void;
  closed(s: TransportSocket): void;
  failed(): void;
}

/** One connection: a WebTransport attempt, maybe a WebSocket after it, one set of events. */
class TransportSocket implements SocketLike {
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: CloseInfo) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  /** The socket events come from (the others' are dropped). */
  private inner: SocketLike | null = null;
  /** Set once the WebTransport attempt opened, or gave way to WebSocket. */
  private settled = false;
  /** Set by `close`. */
  private closed = false;
  private timer: unknown = null;

  constructor(private readonly env: TransportEnv, private readonly url: string, private readonly hooks: Hooks) {}

  /** Starts the WebTransport attempt, bounded by the timeout. */
  tryWebTransport(source: { fetchUrl: string; hostname: string }): void {
    const setTimer = this.env.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.timer = setTimer(() => {
      this.timer = null;
      this.giveUp();
    }, this.env.timeoutMs ?? WEBTRANSPORT_TIMEOUT_MS);
    void this.attempt(source).catch(() => this.giveUp());
  }

  /** Opens the WebSocket; `sync` lets a throwing constructor throw to the caller. */
  useWebSocket(sync: boolean): void {
    this.settled = true;
    let ws: SocketLike;
    try {
      ws = this.env.webSocket(this.url);
    } catch (e) {
      if (sync) throw e;
      this.onerror?.(e);
      this.onclose?.({ code: 1006, reason: '' });
      return;
    }
    this.inner = ws;
    ws.onopen = (ev) => {
      if (this.inner !== ws) return;
      this.hooks.opened(this, 'websocket');
      this.onopen?.(ev);
    };
    this.forward(ws);
  }

  send(data: string): void {
    if (!this.inner) throw new Error('not open yet');
    this.inner.send(data);
  }

  close(code?: number, reason?: string): void {
    if (this.closed) return;
    this.closed = true;
    this.stopTimer();
    if (this.settled && this.inner) {
      this.inner.close(code, reason);
      return;
    }
    // Still trying WebTransport: abandon it, and report the close as a WebSocket would.
    this.settled = true;
    const attempt = this.inner;
    this.inner = null;
    attempt?.close(code, reason);
    void Promise.resolve().then(() => this.onclose?.({ code: code ?? 1000, reason: reason ?? '' }));
  }

  private async attempt(source: { fetchUrl: string; hostname: string }): Promise<void> {
    const answer = await this.env.fetch(source.fetchUrl);
    if (!answer.ok) throw new Error(`certificate hash: HTTP ${answer.status}`);
    const info = parseCertHash(await answer.json());
    if (this.settled || this.closed) return;
    const open = this.env.webTransport;
    if (!open) throw new Error('no WebTransport');
    const wt = new WtSocket(open(`https://${source.hostname}:${info.port}${info.path}`, webTransportInit(info)),
      this.env.maxFrameBytes);
    this.inner = wt;
    wt.onopen = (ev) => {
      if (this.inner !== wt) return;
      this.settled = true;
      this.stopTimer();
      this.hooks.opened(this, 'webtransport');
      this.onopen?.(ev);
    };
    wt.onclose = (ev) => {
      if (this.inner !== wt) return;
      if (this.settled) this.ended(ev);
      else this.giveUp();
    };
    wt.onerror = (ev) => { if (this.inner === wt && this.settled) this.onerror?.(ev); };
    wt.onmessage = (ev) => { if (this.inner === wt) this.onmessage?.(ev); };
  }

  /** WebTransport did not open: WebSocket instead, and for the rest of the page. */
  private giveUp(): void {
    if (this.settled || this.closed) return;
    this.stopTimer();
    this.hooks.failed();
    const attempt = this.inner;
    this.inner = null;
    attempt?.close(1000, 'falling back to WebSocket');
    this.useWebSocket(false);
  }

  private forward(s: SocketLike): void {
    s.onmessage = (ev) => { if (this.inner === s) this.onmessage?.(ev); };
    s.onerror = (ev) => { if (this.inner === s) this.onerror?.(ev); };
    s.onclose = (ev) => { if (this.inner === s) this.ended(ev); };
  }

  private ended(ev: CloseInfo): void {
    this.hooks.closed(this);
    this.onclose?.(ev);
  }

  private stopTimer(): void {
    if (this.timer === null) return;
    const clearTimer = this.env.clearTimer ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>));
    clearTimer(this.timer);
    this.timer = null;
  }
}

/** The page's real WebTransport, WebSocket, fetch and origin. */
export function browserTransportEnv(onChange: (kind: TransportKind | null) => void): TransportEnv {
  const WT = typeof WebTransport === 'function' ? WebTransport : undefined;
  return {
    webTransport: WT && ((url, init) => new WT(url, init) as unknown as WebTransportLike),
    webSocket: (url) => new WebSocket(url) as unknown as SocketLike,
    fetch: (url) => fetch(url, { cache: 'no-store' }),
    origin: location.origin,
    onChange,
  };
}
