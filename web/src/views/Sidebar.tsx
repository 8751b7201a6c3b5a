// The channel list, most recent first, with unread badges and last messages.
import { compareIds } from '../protocol';
import { logout } from '../state/chat';
import { navigate, route } from '../state/route';
import {
  channelTitle, channels, me, nameOf, partnerOf, presence, settings, type ChannelEntry,
} from '../state/store';
import { Avatar } from './Avatar';

/** The badge a channel shows under the user's notification settings. */
export function badgeOf(e: ChannelEntry): number {
  const s = settings.value;
  if (s.muted_channel_ids.includes(e.channel.id) || s.notifications === 'none') return 0;
  return s.notifications === 'mentions' ? e.mentions : e.unread;
}

function preview(e: ChannelEntry): string {
  const m = e.last;
  if (!m) return e.channel.last_message_id === '0' ? 'No messages yet' : '';
  const who = m.sender_id === me.value?.id ? 'You' : nameOf(m.sender_id);
  const text = m.deleted ? 'message deleted' : m.text.slice(0, 80).replace(/\s+/g, ' ');
  return `${who}: ${text}`;
}

/** The navigation column. */
export function Sidebar({ onNew }: { onNew: (kind: 'direct' | 'group') => void }) {
  const list = [...channels.value.values()].sort((a, b) => {
    const byLast = compareIds(b.channel.last_message_id, a.channel.last_message_id);
    return byLast !== 0 ? byLast : b.channel.created_at_ms - a.channel.created_at_ms;
  });
  const r = route.value;
  const open = r.name === 'channel' ? r.channelId : null;
  const total = list.reduce((n, e) => n + badgeOf(e), 0);
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
          const badge = badgeOf(e);
          const title = channelTitle(e.channel);
          return (
            <li key={e.channel.id}>
              <a href={`/c/${e.channel.id}`} class={open === e.channel.id ? 'channel active' : 'channel'}
                aria-current={open === e.channel.id ? 'page' : undefined} data-channel={e.channel.id}
                onClick={(ev) => { ev.preventDefault(); navigate({ name: 'channel', channelId: e.channel.id }); }}>
                {partner ? <Avatar id={partner} dot /> : <span class="avatar group" aria-hidden="true">#</span>}
                <span class="channel-text">
                  <span class="channel-name">
                    {title}
                    {partner && <span class="sr-only">{online ? ' (online)' : ' (offline)'}</span>}
                  </span>
                  <span class="channel-last">{preview(e)}</span>
                </span>
                {badge > 0 && <span class="badge">{badge}<span class="sr-only"> unread</span></span>}
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
