// What a channel's unread badge shows under the user's settings
// (docs/protocol.md, "Settings"): what asks for attention is loud, red and
// counted in the tab title; unread messages that do not (a muted channel,
// a level of "mentions" or "none") still show, quietly, as in Slack.
import type { Settings } from '../protocol';
import type { ChannelEntry } from './store';

/** A badge: how many, and whether it asks for attention. */
export interface Badge {
  count: number;
  loud: boolean;
}

/** The badge of one channel; a count of 0 shows nothing. */
export function badgeFor(e: Pick<ChannelEntry, 'channel' | 'unread' | 'mentions'>, s: Settings): Badge {
  const muted = s.muted_channel_ids.includes(e.channel.id);
  if (!muted && s.notifications === 'all' && e.unread > 0) return { count: e.unread, loud: true };
  if (!muted && s.notifications === 'mentions' && e.mentions > 0) return { count: e.mentions, loud: true };
  return { count: e.unread, loud: false };
}
