import { describe, expect, it } from 'vitest';
import type { Message } from '../protocol';
import { addMessage, mergeMessages } from './timeline';

const m = (id: string, extra: Partial<Message> = {}): Message => ({
  id, channel_id: '1', sender_id: '2', text: 't' + id, created_at_ms: 0, ...extra,
});

describe('timeline', () => {
  it('merges pages and live messages in id order, one copy each', () => {
    const live = [m('105'), m('106')];
    const page = [m('99'), m('100'), m('105')];
    expect(mergeMessages(live, page).map((x) => x.id)).toEqual(['99', '100', '105', '106']);
  });

  it('keeps the newer version of a message', () => {
    const edited = m('5', { text: 'new', version_id: '9' });
    expect(mergeMessages([edited], [m('5')])[0].text).toBe('new');
    expect(mergeMessages([m('5')], [edited])[0].text).toBe('new');
  });

  it('appends newer messages and places late ones', () => {
    expect(addMessage([m('1'), m('3')], m('4')).map((x) => x.id)).toEqual(['1', '3', '4']);
    expect(addMessage([m('1'), m('3')], m('2')).map((x) => x.id)).toEqual(['1', '2', '3']);
    expect(addMessage([m('1'), m('3')], m('3')).map((x) => x.id)).toEqual(['1', '3']);
  });
});
