// The open channel's members with their presence; add, remove, leave.
import { useState } from 'preact/hooks';
import type { Channel } from '../protocol';
import { addMember, leaveGroup, removeMember, renameGroup } from '../state/chat';
import { me, nameOf, presence, users } from '../state/store';
import { Avatar } from './Avatar';
import { UserPicker } from './UserPicker';
import { lastSeen } from './time';

/** The side panel of a channel. */
export function Members({ channel }: { channel: Channel }) {
  const mine = me.value?.id ?? '';
  const isAdmin = channel.owner_id === mine || channel.admin_ids.includes(mine);
  const group = channel.kind === 'group';
  return (
    <aside class="members" aria-label="Members">
      <h2>Members</h2>
      <ul>
        {channel.member_ids.map((id) => {
          const p = presence.value.get(id);
          const online = p?.status === 'online';
          const role = channel.owner_id === id && group ? 'owner' : channel.admin_ids.includes(id) ? 'admin' : '';
          const canRemove = group && id !== mine && (channel.owner_id === mine || (isAdmin && !role));
          return (
            <li key={id} class="member">
              <Avatar id={id} dot />
              <span class="member-text">
                <span>{nameOf(id)}{id === mine ? ' (you)' : ''}{role && <span class="hint"> · {role}</span>}</span>
                <span class="hint small" data-testid="presence">
                  {online ? 'online' : lastSeen(p?.last_active_at_ms ?? 0)}
                </span>
                {users.value.get(id)?.status_text && <span class="hint small">{users.value.get(id)?.status_text}</span>}
              </span>
              {canRemove && (
                <button type="button" class="link" aria-label={`Remove ${nameOf(id)}`}
                  onClick={() => void removeMember(channel.id, id)}>Remove</button>
              )}
            </li>
          );
        })}
      </ul>
      {group && isAdmin && <Rename channel={channel} />}
      {group && (
        <>
          <UserPicker label="Add a member" exclude={channel.member_ids} onPick={(u) => void addMember(channel.id, u)} />
          <button type="button" class="danger" onClick={() => void leaveGroup(channel.id)}>Leave group</button>
        </>
      )}
    </aside>
  );
}

function Rename({ channel }: { channel: Channel }) {
  const [name, setName] = useState(channel.name);
  return (
    <form class="row" onSubmit={(e) => { e.preventDefault(); if (name.trim()) void renameGroup(channel.id, name.trim()); }}>
      <label>Group name<input maxLength={100} value={name} onInput={(e) => setName(e.currentTarget.value)} /></label>
      <button type="submit" disabled={!name.trim() || name.trim() === channel.name}>Rename</button>
    </form>
  );
}
