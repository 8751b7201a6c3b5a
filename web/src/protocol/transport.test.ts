import { describe, expect, it } from 'vitest';
import { Backoff } from './backoff';
import { ChatClient } from './client';
import {
  certHashSource, Connector, WEBTRANSPORT_TIMEOUT_MS, type FetchAnswer, type TransportKind, type WebTransportInit,
} from './transport';
import { deferred, FakeTransport, FakeWebSocket, record, settle } from './wt.fake';
import { encodeFrame } from './wtframes';

const HASH = { algorithm: 'sha-256', value: btoa('\x01\x02\x03'), hex: '010203', port: 8443, path: '/wt', expires_at_ms: 1 };

function answer(status: number, body: unknown = {}): FetchAnswer {
  return { ok: status >= 200 && status < 300, status, json: () => Promise.resolve(body) };
}

function setup(options: { webTransport?: boolean; fetch?: (url: string) => Promise<FetchAnswer> } = {}) {
  const transports: FakeTransport[] = [];
  const sockets: FakeWebSocket[] = [];
  const fetched: string[] = [];
  const timers: { fn: () => void; ms: number }[] = [];
  const changes: (TransportKind | null)[] = [];
  const fetchFn = options.fetch ?? (() => Promise.resolve(answer(200, HASH)));
  const connector = new Connector({
    webTransport: options.webTransport === false ? undefined : (url: string, init: WebTransportInit) => {
      const t = new FakeTransport(url, init);
      transports.push(t);
      return t;
    },
    webSocket: (url) => { const s = new FakeWebSocket(url); sockets.push(s); return s; },
    fetch: (url) => { fetched.push(url); return fetchFn(url); },
    origin: 'https://chat.example',
    setTimer: (fn, ms) => { const t = { fn, ms }; timers.push(t); return t; },
    clearTimer: (t) => { const i = timers.indexOf(t as never); if (i >= 0) timers.splice(i, 1); },
    onChange: (kind) => changes.push(kind),
  });
  /** Waits until the connector has made its n-th WebTransport session. */
  const transport = async (n = 1) => {
    while (transports.length < n) await settle();
    return transports[n - 1];
  };
  return { connector, transports, sockets, fetched, timers, changes, transport };
}

describe('Connector', () => {
  it('opens over WebTransport with the pinned hash of the page origin', async () => {
    const t = setup();
    const s = t.connector.connect('wss://chat.example/ws');
    const r = record(s);
    const wt = await t.transport();
    expect(t.fetched).toEqual(['/webtransport/cert-hash']);
    expect(wt.url).toBe('https://chat.example:8443/wt');
    expect(wt.init).toEqual({ serverCertificateHashes: [{ algorithm: 'sha-256', value: new Uint8Array([1, 2, 3]) }] });
    expect(t.timers.map((x) => x.ms)).toEqual([WEBTRANSPORT_TIMEOUT_MS]);
    wt.readyGate.resolve(undefined);
    await r.until('open');
    expect(t.timers).toEqual([]);
    expect(t.changes).toEqual(['webtransport']);
    s.send('{"type":"hello","token":"t"}');
    wt.push(encodeFrame('{"type":"pong"}'));
    await r.until('message');
    await settle();
    expect(wt.frames()).toEqual(['{"type":"hello","token":"t"}']);
    expect(r.log).toEqual([{ kind: 'open' }, { kind: 'message', data: '{"type":"pong"}' }]);
    expect(t.sockets).toEqual([]);
  });

  it('connects without pinning to a server with a real certificate', async () => {
    const { expires_at_ms: _, ...real } = HASH;
    const t = setup({ fetch: () => Promise.resolve(answer(200, real)) });
    t.connector.connect('wss://chat.example/ws');
    expect((await t.transport()).init).toEqual({});
  });

  it('uses WebSocket at once where the browser has no WebTransport', () => {
    const t = setup({ webTransport: false });
    const s = t.connector.connect('wss://chat.example/ws');
    const r = record(s);
    expect(t.sockets.map((x) => x.url)).toEqual(['wss://chat.example/ws']);
    expect(t.fetched).toEqual([]);
    t.sockets[0].open();
    expect(r.log).toEqual([{ kind: 'open' }]);
    expect(t.changes).toEqual(['websocket']);
  });

  it('falls back to WebSocket when the server has WebTransport off, and stays there', async () => {
    const t = setup({ fetch: () => Promise.resolve(answer(404)) });
    const s = t.connector.connect('wss://chat.example/ws');
    const r = record(s);
    while (t.sockets.length === 0) await settle();
    expect(t.connector.webTransportOff).toBe(true);
    expect(t.timers).toEqual([]);
    t.sockets[0].open();
    t.sockets[0].receive('{"type":"pong"}');
    expect(r.log).toEqual([{ kind: 'open' }, { kind: 'message', data: '{"type":"pong"}' }]);
    expect(t.changes).toEqual(['websocket']);
    s.send('x');
    expect(t.sockets[0].sent).toEqual(['x']);

    t.sockets[0].drop(1006);
    expect(t.changes).toEqual(['websocket', null]);
    t.connector.connect('wss://chat.example/ws');
    expect(t.fetched).toHaveLength(1);
    expect(t.sockets).toHaveLength(2);
    expect(t.transports).toEqual([]);
  });

  it('falls back when the session is refused, and only one open reaches the client', async () => {
    const t = setup();
    const s = t.connector.connect('wss://chat.example/ws');
    const r = record(s);
    const wt = await t.transport();
    wt.readyGate.reject(new Error('Opening handshake failed.'));
    while (t.sockets.length === 0) await settle();
    t.sockets[0].open();
    await settle();
    expect(r.log).toEqual([{ kind: 'open' }]);
    expect(t.changes).toEqual(['websocket']);
    expect(t.connector.webTransportOff).toBe(true);
  });

  it('gives WebTransport 3 s from the start, then uses WebSocket and ignores a late open', async () => {
    const t = setup();
    const s = t.connector.connect('wss://chat.example/ws');
    const r = record(s);
    const wt = await t.transport();
    expect(t.sockets).toEqual([]);
    t.timers.shift()!.fn();
    expect(t.sockets).toHaveLength(1);
    expect(wt.closes).toHaveLength(1);
    wt.readyGate.resolve(undefined);
    await settle();
    expect(r.log).toEqual([]);
    t.sockets[0].open();
    expect(r.log).toEqual([{ kind: 'open' }]);
    expect(t.changes).toEqual(['websocket']);
  });

  it('bounds a certificate-hash fetch that never answers by the same 3 s', async () => {
    const never = deferred<FetchAnswer>();
    const t = setup({ fetch: () => never.promise });
    record(t.connector.connect('wss://chat.example/ws'));
    t.timers.shift()!.fn();
    expect(t.sockets).toHaveLength(1);
    never.resolve(answer(200, HASH));
    await settle();
    expect(t.transports).toEqual([]);
  });

  it('asks a redirect target edge for its own hash, and uses WebSocket there if it cannot', async () => {
    const t = setup({ fetch: () => Promise.reject(new TypeError('Failed to fetch')) });
    t.connector.connect('wss://edge-2.example:9443/ws');
    while (t.sockets.length === 0) await settle();
    expect(t.fetched).toEqual(['https://edge-2.example:9443/webtransport/cert-hash']);
    expect(t.sockets[0].url).toBe('wss://edge-2.example:9443/ws');
    // The page's own edge is tried again: that failure was another edge's.
    expect(t.connector.webTransportOff).toBe(false);
    expect(certHashSource('ws://10.0.0.2:8080/ws', 'https://chat.example'))
      .toEqual({ fetchUrl: 'http://10.0.0.2:8080/webtransport/cert-hash', hostname: '10.0.0.2' });
    expect(certHashSource('wss://chat.example/ws', 'https://chat.example'))
      .toEqual({ fetchUrl: '/webtransport/cert-hash', hostname: 'chat.example' });
  });

  it('passes on a drop after WebTransport opened, and tries WebTransport again next time', async () => {
    const t = setup();
    const r = record(t.connector.connect('wss://chat.example/ws'));
    const wt = await t.transport();
    wt.readyGate.resolve(undefined);
    await r.until('open');
    wt.end();
    const log = await r.until('close');
    expect(log[1]).toEqual({ kind: 'close', code: 1006, reason: '' });
    expect(t.changes).toEqual(['webtransport', null]);
    expect(t.sockets).toEqual([]);
    expect(t.connector.webTransportOff).toBe(false);
    t.connector.connect('wss://chat.example/ws');
    await t.transport(2);
    expect(t.fetched).toHaveLength(2);
  });

  it('passes the server close frame on as the close code', async () => {
    const t = setup();
    const r = record(t.connector.connect('wss://chat.example/ws'));
    const wt = await t.transport();
    wt.readyGate.resolve(undefined);
    await r.until('open');
    wt.push(encodeFrame('{"type":"close","code":4009,"reason":"events were lost"}'));
    const log = await r.until('close');
    expect(log).toEqual([{ kind: 'open' }, { kind: 'close', code: 4009, reason: 'events were lost' }]);
  });

  it('closed while trying: no WebSocket, one close, and WebTransport stays on', async () => {
    const t = setup();
    const s = t.connector.connect('wss://chat.example/ws');
    const r = record(s);
    const wt = await t.transport();
    s.close(1000, 'closed');
    await r.until('close');
    wt.readyGate.reject(new Error('aborted'));
    await settle();
    expect(r.log).toEqual([{ kind: 'close', code: 1000, reason: 'closed' }]);
    expect(wt.closes).toHaveLength(1);
    expect(t.timers).toEqual([]);
    expect(t.sockets).toEqual([]);
    expect(t.connector.webTransportOff).toBe(false);
  });

  it('shows only the newest socket: a replaced one closing late changes nothing', async () => {
    const t = setup({ webTransport: false });
    const first = t.connector.connect('wss://chat.example/ws');
    t.sockets[0].open();
    first.close(1000, 'reconnect');
    t.connector.connect('wss://chat.example/ws');
    t.sockets[1].open();
    t.sockets[0].drop(1000);
    expect(t.changes).toEqual(['websocket', 'websocket']);
  });

  it('carries ChatClient: hello over WebTransport, or over WebSocket after a failure', async () => {
    for (const works of [true, false]) {
      const t = setup();
      const client = new ChatClient({
        url: 'wss://chat.example/ws', token: 'tok', idPrefix: 'tab',
        connect: (url) => t.connector.connect(url),
        setTimer: () => null, clearTimer: () => {},
        backoff: new Backoff({ baseMs: 100, maxMs: 1000, factor: 2 }, () => 1),
      });
      client.start();
      const wt = await t.transport();
      if (works) {
        wt.readyGate.resolve(undefined);
        while (wt.written.length === 0) await settle();
        expect(wt.frames()).toEqual(['{"type":"hello","token":"tok"}']);
      } else {
        wt.readyGate.reject(new Error('refused'));
        while (t.sockets.length === 0) await settle();
        t.sockets[0].open();
        expect(t.sockets[0].sent).toEqual(['{"type":"hello","token":"tok"}']);
      }
      expect(client.state).toBe('connecting');
      client.stop();
    }
  });
});
