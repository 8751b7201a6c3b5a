import { describe, expect, it } from 'vitest';
import { Backoff } from './backoff';
import { ChatClient, type ClientEvent, type SocketLike } from './client';

class FakeSocket implements SocketLike {
  url = '';
  sent: Record<string, unknown>[] = [];
  closed = false;
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  send(data: string) { this.sent.push(JSON.parse(data)); }
  close() { this.closed = true; }
  receive(frame: object) { this.onmessage?.({ data: JSON.stringify(frame) }); }
  drop(code = 1006) { this.onclose?.({ code, reason: '' }); }
  ofType(type: string) { return this.sent.filter((f) => f.type === type); }
}

const ready = {
  type: 'ready', session_id: '1', heartbeat_interval_ms: 10000,
  user: { id: '5', username: 'ann', created_at_ms: 0, display_name: '', status_text: '', avatar_url: '' },
  limits: { max_text_chars: 100000, max_frame_bytes: 1048576 },
  settings: { notifications: 'all', muted_channel_ids: [], invisible: false },
  channels: [],
};
const message = (id: string, cmid?: string) => ({
  id, channel_id: '1', sender_id: '5', text: 't' + id, created_at_ms: 0, client_msg_id: cmid,
});

function setup() {
  const sockets: FakeSocket[] = [];
  const timers: { fn: () => void; ms: number }[] = [];
  let now = 0;
  const client = new ChatClient({
    url: 'ws://x/ws', token: 'tok', idPrefix: 'tab',
    connect: (url) => { const s = new FakeSocket(); s.url = url; sockets.push(s); return s; },
    now: () => now,
    setTimer: (fn, ms) => { const t = { fn, ms }; timers.push(t); return t; },
    clearTimer: (t) => { const i = timers.indexOf(t as never); if (i >= 0) timers.splice(i, 1); },
    backoff: new Backoff({ baseMs: 100, maxMs: 1000, factor: 2 }, () => 1),
    ackTimeoutMs: 5000,
  });
  const events: ClientEvent[] = [];
  client.subscribe((e) => events.push(e));
  const connect = () => {
    const s = sockets[sockets.length - 1];
    s.onopen?.({});
    s.receive(ready);
    return s;
  };
  const runTimer = () => { const t = timers.shift(); t?.fn(); return t; };
  return { client, sockets, timers, events, connect, runTimer, tick: (ms: number) => { now += ms; } };
}

describe('ChatClient', () => {
  it('says hello with the token and, once it holds messages, cursors', () => {
    const t = setup();
    t.client.start();
    const s = t.connect();
    expect(s.sent[0]).toEqual({ type: 'hello', token: 'tok' });
    t.client.cursors.track('1', '10');
    s.receive({ type: 'message', message: message('11') });
    s.drop();
    t.runTimer();
    const s2 = t.connect();
    expect(s2.sent[0]).toEqual({ type: 'hello', token: 'tok', cursors: { '1': '11' } });
  });

  it('delivers each message once, whether ack or message comes first', () => {
    const t = setup();
    t.client.start();
    const s = t.connect();
    const p = t.client.send('1', 'hi');
    expect(s.ofType('send')).toEqual([{ type: 'send', channel_id: '1', client_msg_id: p.clientMsgId, text: 'hi' }]);
    s.receive({ type: 'ack', client_msg_id: p.clientMsgId, duplicate: false, message: message('20', p.clientMsgId) });
    s.receive({ type: 'message', message: message('20', p.clientMsgId) });
    const delivered = t.events.filter((e) => e.kind === 'message');
    expect(delivered).toHaveLength(1);
    expect(t.client.outbox.inChannel('1')).toEqual([]);
  });

  it('resends unacknowledged messages after a reconnect with the same client_msg_id', () => {
    const t = setup();
    t.client.start();
    const s = t.connect();
    const p = t.client.send('1', 'hi');
    s.drop();
    expect(t.client.state).toBe('reconnecting');
    t.runTimer();
    const s2 = t.connect();
    expect(s2.ofType('send')).toEqual([{ type: 'send', channel_id: '1', client_msg_id: p.clientMsgId, text: 'hi' }]);
  });

  it('queues sends while offline and sends them once connected', () => {
    const t = setup();
    t.client.start();
    const p = t.client.send('1', 'early');
    const s = t.connect();
    expect(s.ofType('send').map((f) => f.client_msg_id)).toEqual([p.clientMsgId]);
  });

  it('marks a refused send failed; retry uses the same id', () => {
    const t = setup();
    t.client.start();
    const s = t.connect();
    const p = t.client.send('1', 'hi');
    s.receive({ type: 'error', code: 'overloaded', message: 'busy', client_msg_id: p.clientMsgId });
    expect(t.client.outbox.get(p.clientMsgId)?.state).toBe('failed');
    t.client.retry(p.clientMsgId);
    expect(s.ofType('send').map((f) => f.client_msg_id)).toEqual([p.clientMsgId, p.clientMsgId]);
    expect(t.client.outbox.get(p.clientMsgId)?.state).toBe('pending');
  });

  it('fails a send whose ack is overdue', () => {
    const t = setup();
    t.client.start();
    t.connect();
    const p = t.client.send('1', 'hi');
    t.tick(6000);
    t.client.checkAcks();
    expect(t.client.outbox.get(p.clientMsgId)).toMatchObject({ state: 'failed', error: 'timeout' });
  });

  it('retries a timed-out send under the same id; the duplicate ack shows it once', () => {
    const t = setup();
    t.client.start();
    const s = t.connect();
    const p = t.client.send('1', 'hi');
    t.tick(6000);
    t.client.checkAcks();
    t.client.retry(p.clientMsgId);
    expect(s.ofType('send').map((f) => f.client_msg_id)).toEqual([p.clientMsgId, p.clientMsgId]);
    // The server got both frames: the first is stored, the second is a duplicate.
    s.receive({ type: 'ack', client_msg_id: p.clientMsgId, duplicate: false, message: message('20', p.clientMsgId) });
    s.receive({ type: 'message', message: message('20', p.clientMsgId) });
    s.receive({ type: 'ack', client_msg_id: p.clientMsgId, duplicate: true, message: message('20', p.clientMsgId) });
    expect(t.events.filter((e) => e.kind === 'message')).toHaveLength(1);
    expect(t.client.outbox.inChannel('1')).toEqual([]);
  });

  it('keeps a failed send failed across a reconnect, and drops it when catch-up brings it', () => {
    const t = setup();
    t.client.start();
    const s = t.connect();
    const p = t.client.send('1', 'hi');
    t.tick(6000);
    t.client.checkAcks();
    s.drop();
    t.runTimer();
    const s2 = t.connect();
    // Failed is the user's to retry: nothing goes out by itself.
    expect(s2.ofType('send')).toEqual([]);
    expect(t.client.outbox.get(p.clientMsgId)?.state).toBe('failed');
    // It had been stored after all: the message of the user's with that id settles it.
    s2.receive({ type: 'message', message: message('21', p.clientMsgId) });
    expect(t.client.outbox.inChannel('1')).toEqual([]);
  });

  it('does not settle an outbox entry with a message of someone else', () => {
    const t = setup();
    t.client.start();
    const s = t.connect();
    const p = t.client.send('1', 'hi');
    s.receive({ type: 'message', message: { ...message('22', p.clientMsgId), sender_id: '6' } });
    expect(t.client.outbox.get(p.clientMsgId)?.state).toBe('pending');
  });

  it('hands views copies of pending messages, so a change is a new object', () => {
    const t = setup();
    t.client.start();
    t.connect();
    const p = t.client.send('1', 'hi');
    const before = t.client.outbox.inChannel('1')[0];
    t.tick(6000);
    t.client.checkAcks();
    const after = t.client.outbox.inChannel('1')[0];
    expect(before).toMatchObject({ clientMsgId: p.clientMsgId, state: 'pending' });
    expect(after).toMatchObject({ clientMsgId: p.clientMsgId, state: 'failed' });
    expect(after).not.toBe(before);
  });

  it('backs off between attempts and resets once ready', () => {
    const t = setup();
    t.client.start();
    t.sockets[0].drop();
    expect(t.timers.map((x) => x.ms)).toEqual([100]);
    t.runTimer();
    t.sockets[1].drop();
    expect(t.timers.map((x) => x.ms)).toEqual([200]);
    t.runTimer();
    const s = t.connect();
    s.drop();
    expect(t.timers.map((x) => x.ms)).toEqual([100]);
  });

  it('reconnects at once after 4009 and stops after 4001', () => {
    const t = setup();
    t.client.start();
    t.connect().drop(4009);
    expect(t.sockets).toHaveLength(2);
    t.connect().drop(4001);
    expect(t.client.state).toBe('signed_out');
    expect(t.timers).toEqual([]);
  });

  it('follows a reconnect frame to the edge it names, with cursors, once', () => {
    const t = setup();
    t.client.start();
    const s = t.connect();
    t.client.cursors.track('1', '10');
    const p = t.client.send('1', 'in flight');
    s.receive({ type: 'reconnect', alternatives: ['ws://b/ws', 'ws://c/ws'], reason: 'draining' });
    expect(s.closed).toBe(true);
    expect(t.sockets).toHaveLength(2);
    expect(t.sockets[1].url).toBe('ws://b/ws');
    const s2 = t.connect();
    expect(s2.sent[0]).toEqual({ type: 'hello', token: 'tok', cursors: { '1': '10' } });
    expect(s2.ofType('send')).toEqual([{ type: 'send', channel_id: '1', client_msg_id: p.clientMsgId, text: 'in flight' }]);
    // The old socket's late close changes nothing.
    s.drop(1001);
    expect(t.client.state).toBe('online');
    // A later loss goes back to the usual URL.
    s2.drop();
    t.runTimer();
    expect(t.sockets[2].url).toBe('ws://x/ws');
  });

  it('re-watches presence after a reconnect', () => {
    const t = setup();
    t.client.start();
    t.connect();
    t.client.watch('1');
    t.sockets[0].drop();
    t.runTimer();
    const s = t.connect();
    expect(s.ofType('watch_presence')).toEqual([{ type: 'watch_presence', channel_id: '1' }]);
  });

  it('pings at the interval the server asked for', () => {
    const t = setup();
    t.client.start();
    const s = t.connect();
    expect(t.timers.map((x) => x.ms)).toEqual([10000]);
    t.runTimer();
    expect(s.ofType('ping')).toHaveLength(1);
  });
});
