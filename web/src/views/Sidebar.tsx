// The channel list, most recent first, with unread badges and last messages.
import { compareIds } from '../protocol';
import { logout } from '../state/chat';
import { navigate, route } from '../state/route';
import {
  channelTitle, channels, me, nameOf, partnerOf, presence, settings, type ChannelEntry,
} from '../state/store';
import { badgeFor } from '../state/badge';
import { activityAt } from '../state/preview';
import { Avatar } from './Avatar';

/** A bell with a line through it: the channel is muted. */
function MutedIcon() {
  return (
    <svg class="muted-icon" viewBox="0 0 16 16" width="14" height="14" aria-hidden="true" focusable="false">
      <path d="M8 1.5a4 4 0 0 0-4 4v3L2.5 11h11L12 8.5v-3a4 4 0 0 0-4-4zM6.5 12.5a1.5 1.5 0 0 0 3 0" fill="none" stroke="currentColor" stroke-width="1.4" />
      <path d="M2 2l12 12" stroke="currentColor" stroke-width="1.6" />
    </svg>
  );
}

function preview(e: ChannelEntry): string {
  const m = e.last;
  if (!m) return e.channel.last_message_id === '0' ? 'No messages yet' : '';
  const who = m.sender_id === me.value?.id ? 'You' : nameOf(m.sender_id);
  const text = m.text.slice(0, 80).replace(/\s+/g, ' ');
  return `${who}: ${text}${m.truncated || m.text.length > 80 ? '…' : ''}`;
}

/** The navigation column. */
export function Sidebar({ onNew }: { onNew: (kind: 'direct' | 'group') => void }) {
  // Most recent activity first: the last message's time, else the channel's creation.
  const list = [...channels.value.values()].sort((a, b) => {
    const byTime = activityAt(b.channel.created_at_ms, b.last) - activityAt(a.channel.created_at_ms, a.last);
    return byTime !== 0 ? byTime : compareIds(b.channel.id, a.channel.id);
  });
  const r = route.value;
  const open = r.name === 'channel' ? r.channelId : null;
  const s = settings.value;
  const total = list.reduce((n, e) => {
    const b = badgeFor(e, s);
    return b.loud ? n + b.count : n;
  }, 0);
  document.title = total > 0 ? `(${total}) Chat` : 'Chat';
  return (
    <nav class="sidebar" aria-label="Channels">
      <div class="sidebar-head">
        <strong class="me">{me.value ? nameOf(me.value.id) : ''}</strong>
        <div class="row">
          <button type="button" onClick={() => onNew('direct')}>New chat</button>
          <button type="button" onClick={() => onNew('group')}>New group</button>
        </div>
      </div>
      <ul class="channel-list">
        {list.map((e) => {
          const partner = partnerOf(e.channel);
          const online = partner ? presence.value.get(partner)?.status === 'online' : false;
          const badge = badgeFor(e, s);
          const muted = s.muted_channel_ids.includes(e.channel.id);
          const title = channelTitle(e.channel);
          const cls = ['channel', open === e.channel.id ? 'active' : '', muted ? 'muted' : '', badge.loud ? 'unread' : '']
            .filter(Boolean).join(' ');
          return (
            <li key={e.channel.id}>
              <a href={`/c/${e.channel.id}`} class={cls}
                aria-current={open === e.channel.id ? 'page' : undefined} data-channel={e.channel.id}
                onClick={(ev) => { ev.preventDefault(); navigate({ name: 'channel', channelId: e.channel.id }); }}>
                {partner ? <Avatar id={partner} dot /> : <span class="avatar group" aria-hidden="true">#</span>}
                <span class="channel-text">
                  <span class="channel-name">
                    {title}
                    {partner && <span class="sr-only">{online ? ' (online)' : ' (offline)'}</span>}
                    {muted && <span class="sr-only"> (muted)</span>}
                  </span>
                  <span class="channel-last">{preview(e)}</span>
                </span>
                {muted && <MutedIcon />}
                {badge.count > 0 && (
                  <span class={badge.loud ? 'badge' : 'badge quiet'}>{badge.count}<span class="sr-only"> unread</span></span>
                )}
              </a>
            </li>
          );
        })}
      </ul>
      <div class="sidebar-foot row">
        <a href="/friends" onClick={(ev) => { ev.preventDefault(); navigate({ name: 'friends' }); }}
          aria-current={r.name === 'friends' ? 'page' : undefined}>Friends</a>
        <a href="/settings" onClick={(ev) => { ev.preventDefault(); navigate({ name: 'settings' }); }}
          aria-current={r.name === 'settings' ? 'page' : undefined}>Settings</a>
        <button type="button" class="link" onClick={() => void logout()}>Log out</button>
      </div>
    </nav>
  );
}
