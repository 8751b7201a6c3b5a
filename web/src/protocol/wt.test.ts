import { describe, expect, it } from 'vitest';
import { closeFrameOf, WtSocket } from './wt';
import { FakeTransport, record, settle } from './wt.fake';
import { encodeFrame } from './wtframes';

const CLOSE = '{"code":4001,"reason":"invalid or logged-out token","type":"close"}';

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

async function opened() {
  const t = new FakeTransport();
  const s = new WtSocket(t);
  const r = record(s);
  t.readyGate.resolve(undefined);
  await r.until('open');
  return { t, s, r };
}

describe('WtSocket', () => {
  it('opens once ready and the stream are there, then writes frames in order', async () => {
    const t = new FakeTransport();
    const s = new WtSocket(t);
    const r = record(s);
    expect(() => s.send('early')).toThrow(/not open/);
    await settle();
    expect(r.log).toEqual([]);
    t.readyGate.resolve(undefined);
    await r.until('open');
    expect(s.isOpen).toBe(true);
    s.send('{"type":"hello","token":"t"}');
    s.send('{"type":"ping"}');
    s.send('{"text":"é"}');
    await settle();
    expect(t.frames()).toEqual(['{"type":"hello","token":"t"}', '{"type":"ping"}', '{"text":"é"}']);
    expect(t.written[0]).toEqual(encodeFrame('{"type":"hello","token":"t"}'));
  });

  it('delivers frames however the stream cuts them', async () => {
    const { t, r } = await opened();
    const bytes = concat(encodeFrame('{"type":"ready"}'), encodeFrame('{"type":"pong"}'));
    t.push(bytes.subarray(0, 3));
    t.push(bytes.subarray(3, 25));
    t.push(bytes.subarray(25));
    await settle();
    expect(r.log.filter((e) => e.kind === 'message')).toEqual([
      { kind: 'message', data: '{"type":"ready"}' }, { kind: 'message', data: '{"type":"pong"}' },
    ]);
  });

  it('turns the close frame into onclose with its code, not a message', async () => {
    const { t, r } = await opened();
    t.push(concat(encodeFrame('{"type":"error","code":"invalid_token"}'), encodeFrame(CLOSE), encodeFrame('{"type":"late"}')));
    const log = await r.until('close');
    t.end();
    await settle();
    expect(log).toEqual([
      { kind: 'open' },
      { kind: 'message', data: '{"type":"error","code":"invalid_token"}' },
      { kind: 'close', code: 4001, reason: 'invalid or logged-out token' },
    ]);
    expect(t.closes).toEqual([{ closeCode: 4001, reason: 'invalid or logged-out token' }]);
  });

  it('reports 1006 when the stream ends without a close frame', async () => {
    const { t, r } = await opened();
    t.push(encodeFrame('{"type":"pong"}').subarray(0, 6));
    t.end();
    const log = await r.until('close');
    expect(log.slice(1)).toEqual([{ kind: 'close', code: 1006, reason: 'stream ended inside a frame' }]);
  });

  it('reports 1006 once when the connection breaks', async () => {
    const { t, r } = await opened();
    t.error(new Error('Connection lost.'));
    t.closedGate.reject(new Error('Connection lost.'));
    await r.until('close');
    await settle();
    expect(r.log).toEqual([{ kind: 'open' }, { kind: 'close', code: 1006, reason: '' }]);
  });

  it('reports an error and a close, and never opens, when ready rejects', async () => {
    const t = new FakeTransport();
    const r = record(new WtSocket(t));
    t.readyGate.reject(new Error('refused'));
    t.closedGate.reject(new Error('refused'));
    await r.until('close');
    await settle();
    expect(r.log.map((e) => e.kind)).toEqual(['error', 'close']);
    expect(r.log[1]).toEqual({ kind: 'close', code: 1006, reason: 'refused' });
  });

  it('closes the session on a frame over the limit', async () => {
    const t = new FakeTransport();
    const s = new WtSocket(t, 8);
    const r = record(s);
    t.readyGate.resolve(undefined);
    await r.until('open');
    t.push(encodeFrame('{"type":"too long"}'));
    await r.until('close');
    expect(r.log.map((e) => e.kind)).toEqual(['open', 'error', 'close']);
    expect(t.closes).toHaveLength(1);
    s.send('ignored');
    await settle();
    expect(t.written).toEqual([]);
  });

  it('closes the session when the client closes, and reports that code once', async () => {
    const { t, s, r } = await opened();
    s.close(1000, 'closed');
    s.close(1000, 'again');
    t.push(encodeFrame('{"type":"pong"}'));
    t.end();
    await r.until('close');
    await settle();
    expect(r.log).toEqual([{ kind: 'open' }, { kind: 'close', code: 1000, reason: 'closed' }]);
    expect(t.closes).toEqual([{ closeCode: 1000, reason: 'closed' }]);
    expect(s.isOpen).toBe(false);
  });

  it('reports a failed write as an error and one close', async () => {
    const { t, s, r } = await opened();
    t.failWrites = true;
    s.send('a');
    s.send('b');
    await r.until('close');
    await settle();
    expect(r.log.map((e) => e.kind)).toEqual(['open', 'error', 'close']);
    expect(t.closes).toHaveLength(1);
  });

  it('recognizes close frames only', () => {
    expect(closeFrameOf(CLOSE)).toEqual({ code: 4001, reason: 'invalid or logged-out token' });
    expect(closeFrameOf('{"type": "close", "code": 1001}')).toEqual({ code: 1001, reason: '' });
    expect(closeFrameOf('{"type":"message","message":{"text":"close"}}')).toBeNull();
    expect(closeFrameOf('{"type":"close"}')).toBeNull();
    expect(closeFrameOf('"close"')).toBeNull();
  });
});
