import { describe, expect, it } from 'vitest';
import type { Channel, Settings } from '../protocol';
import { badgeFor } from './badge';

const channel = { id: '7' } as Channel;
const settings = (over: Partial<Settings> = {}): Settings => ({ notifications: 'all', muted_channel_ids: [], invisible: false, ...over });

describe('badgeFor', () => {
  it('counts every unread message loudly at level "all"', () => {
    expect(badgeFor({ channel, unread: 3, mentions: 1 }, settings())).toEqual({ count: 3, loud: true });
  });

  it('is quiet in a muted channel, whatever the level', () => {
    const muted = settings({ muted_channel_ids: ['7'] });
    expect(badgeFor({ channel, unread: 3, mentions: 1 }, muted)).toEqual({ count: 3, loud: false });
    expect(badgeFor({ channel, unread: 3, mentions: 1 }, { ...muted, notifications: 'mentions' })).toEqual({ count: 3, loud: false });
  });

  it('at level "mentions" is loud for mentions only', () => {
    const s = settings({ notifications: 'mentions' });
    expect(badgeFor({ channel, unread: 3, mentions: 2 }, s)).toEqual({ count: 2, loud: true });
    expect(badgeFor({ channel, unread: 3, mentions: 0 }, s)).toEqual({ count: 3, loud: false });
  });

  it('at level "none" is quiet', () => {
    expect(badgeFor({ channel, unread: 2, mentions: 2 }, settings({ notifications: 'none' }))).toEqual({ count: 2, loud: false });
  });

  it('shows nothing without unread messages', () => {
    expect(badgeFor({ channel, unread: 0, mentions: 0 }, settings()).count).toBe(0);
  });
});
