import { describe, expect, it } from 'vitest';
import type { Message } from '../protocol';
import { activityAt, afterChange, fromMessage, fromReady, PREVIEW_CHARS } from './preview';

const msg = (id: string, text = 't' + id, over: Partial<Message> = {}): Message => ({
  id, channel_id: '1', sender_id: '5', text, created_at_ms: Number(id) * 1000, ...over,
});
const tomb = (id: string) => msg(id, '', { deleted: true, version_id: '99' });

describe('previews', () => {
  it('reads ready\'s last_message', () => {
    expect(fromReady({ id: '7', sender_id: '5', text: 'hi', created_at_ms: 3, text_truncated: true }))
      .toEqual({ id: '7', sender_id: '5', text: 'hi', truncated: true, created_at_ms: 3 });
    expect(fromReady(undefined)).toBeUndefined();
  });

  it('cuts long text to 200 code points, as the server does', () => {
    const long = fromMessage(msg('1', '😀'.repeat(300)))!;
    expect(Array.from(long.text)).toHaveLength(PREVIEW_CHARS);
    expect(long.truncated).toBe(true);
    const exact = fromMessage(msg('1', '😀'.repeat(200)))!;
    expect(exact.truncated).toBe(false);
    expect(fromMessage(msg('1', 'x'.repeat(100_000)))!.text).toHaveLength(200);
    expect(fromMessage(tomb('1'))).toBeUndefined();
  });

  it('follows newer messages and edits of the previewed one, not older ones', () => {
    const current = fromMessage(msg('10'))!;
    expect(afterChange(current, msg('11', 'new'), [], false)).toEqual({ kind: 'set', preview: fromMessage(msg('11', 'new')) });
    expect(afterChange(current, msg('10', 'edited', { version_id: '12' }), [], false))
      .toMatchObject({ kind: 'set', preview: { id: '10', text: 'edited' } });
    expect(afterChange(current, msg('9'), [], false)).toEqual({ kind: 'keep' });
    expect(afterChange(undefined, msg('3'), [], false)).toMatchObject({ kind: 'set', preview: { id: '3' } });
  });

  it('after the previewed message is deleted, falls back to the newest held one that is not', () => {
    const current = fromMessage(msg('10'))!;
    const held = [msg('7'), tomb('8'), msg('9', '', { deleted: true }), msg('10')];
    expect(afterChange(current, tomb('10'), held, false)).toMatchObject({ kind: 'set', preview: { id: '7' } });
  });

  it('asks for history when nothing held replaces it, unless the channel is known empty', () => {
    const current = fromMessage(msg('10'))!;
    expect(afterChange(current, tomb('10'), [], false)).toEqual({ kind: 'fetch', before: '10' });
    expect(afterChange(current, tomb('10'), [tomb('9'), msg('10')], false)).toEqual({ kind: 'fetch', before: '10' });
    expect(afterChange(current, tomb('10'), [tomb('9'), msg('10')], true)).toEqual({ kind: 'set', preview: undefined });
  });

  it('ignores tombstones of other messages', () => {
    const current = fromMessage(msg('10'))!;
    expect(afterChange(current, tomb('11'), [], false)).toEqual({ kind: 'keep' });
    expect(afterChange(undefined, tomb('4'), [], false)).toEqual({ kind: 'keep' });
  });

  it('orders by the newest activity', () => {
    expect(activityAt(5000, undefined)).toBe(5000);
    expect(activityAt(5000, fromMessage(msg('9')))).toBe(9000);
  });
});
