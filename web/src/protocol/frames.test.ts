import { describe, expect, it } from 'vitest';
import { decode, encode } from './frames';
import { compareIds, maxId } from './ids';
import { newerCopy } from './merge';

const msg = { id: '20', channel_id: '1', sender_id: '5', text: 'hi', created_at_ms: 1 };

describe('frames', () => {
  it('encodes client frames as JSON text', () => {
    expect(JSON.parse(encode({ type: 'send', channel_id: '1', client_msg_id: 'c-1', text: 'x' })))
      .toEqual({ type: 'send', channel_id: '1', client_msg_id: 'c-1', text: 'x' });
  });

  it('decodes known frames', () => {
    const d = decode(JSON.stringify({ type: 'message', message: msg }));
    expect(d).toEqual({ ok: true, frame: { type: 'message', message: msg } });
  });

  it('decodes a bot\'s ephemeral message, and refuses one without its text', () => {
    const e = { type: 'ephemeral', id: '9', channel_id: '1', sender_id: '7', text: 'only you', created_at_ms: 2, command_id: '8' };
    expect(decode(JSON.stringify(e))).toEqual({ ok: true, frame: e });
    expect(decode(JSON.stringify({ ...e, text: undefined }))).toMatchObject({ ok: false, reason: 'malformed' });
  });

  it('reports broken and unknown frames without throwing', () => {
    expect(decode('{').ok).toBe(false);
    expect(decode('[1]')).toMatchObject({ ok: false, reason: 'malformed' });
    expect(decode('{"type":"future_thing"}')).toMatchObject({ ok: false, reason: 'unknown_type' });
    expect(decode('{"type":"message","message":{"id":1}}')).toMatchObject({ ok: false, reason: 'malformed' });
    expect(decode('{"type":"read","channel_id":"1"}')).toMatchObject({ ok: false, reason: 'malformed' });
    expect(decode('{"type":"constructor"}')).toMatchObject({ ok: false, reason: 'unknown_type' });
  });

  it('ignores fields it does not know', () => {
    const d = decode(JSON.stringify({ type: 'pong', nonce: '1', extra: true }));
    expect(d.ok).toBe(true);
  });
});

describe('ids', () => {
  it('compare as 64-bit numbers, beyond what a double holds', () => {
    expect(compareIds('9', '10')).toBeLessThan(0);
    expect(compareIds('250575636798640129', '250575636798640128')).toBeGreaterThan(0);
    expect(maxId('18446744073709551615', '18446744073709551614')).toBe('18446744073709551615');
  });
});

describe('merge', () => {
  it('keeps the copy with the larger version_id', () => {
    const edited = { ...msg, text: 'edited', version_id: '30' };
    const deleted = { ...msg, text: '', deleted: true, version_id: '31' };
    expect(newerCopy(msg, edited)).toBe(edited);
    expect(newerCopy(edited, msg)).toBe(edited);
    expect(newerCopy(deleted, edited)).toBe(deleted);
    expect(newerCopy(undefined, msg)).toBe(msg);
  });
});
