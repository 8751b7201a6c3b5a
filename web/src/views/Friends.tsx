// Friends, requests both ways and blocks.
import type { Relationship } from '../protocol';
import { BackLink } from './BackLink';
import { relate, startDirect } from '../state/chat';
import { presence, relationships } from '../state/store';
import { Avatar } from './Avatar';
import { UserPicker } from './UserPicker';
import { lastSeen } from './time';

const GROUPS: [Relationship['kind'], string][] = [
  ['incoming', 'Requests to you'], ['friend', 'Friends'], ['outgoing', 'Requests you sent'], ['blocked', 'Blocked'],
];

function Actions({ r }: { r: Relationship }) {
  const id = r.user.id;
  const b = (label: string, action: Parameters<typeof relate>[1]) => (
    <button type="button" onClick={() => void relate(id, action)} aria-label={`${label} ${r.user.username}`}>{label}</button>
  );
  return (
    <span class="row">
      {r.kind === 'incoming' && <>{b('Accept', 'accept')}{b('Decline', 'decline')}</>}
      {r.kind === 'outgoing' && b('Cancel', 'decline')}
      {r.kind === 'friend' && (
        <>
          <button type="button" onClick={() => void startDirect(r.user)}>Message</button>
          {b('Remove', 'remove')}
        </>
      )}
      {r.kind === 'blocked' ? b('Unblock', 'unblock') : b('Block', 'block')}
    </span>
  );
}

/** The friends page. */
export function Friends() {
  const all = [...relationships.value.values()];
  return (
    <main class="main page" id="main" aria-labelledby="friends-title">
      <BackLink />
      <h1 id="friends-title">Friends</h1>
      <UserPicker label="Add a friend" onPick={(u) => void relate(u.id, 'request')} />
      {GROUPS.map(([kind, title]) => {
        const list = all.filter((r) => r.kind === kind);
        if (list.length === 0) return null;
        return (
          <section key={kind} aria-label={title}>
            <h2>{title}</h2>
            <ul class="people">
              {list.map((r) => {
                const p = presence.value.get(r.user.id) ?? r.presence;
                return (
                  <li key={r.user.id} class="member">
                    <Avatar id={r.user.id} dot={kind === 'friend'} />
                    <span class="member-text">
                      <span>{r.user.display_name || r.user.username} <span class="hint">@{r.user.username}</span></span>
                      {kind === 'friend' && <span class="hint small">{p?.status === 'online' ? 'online' : lastSeen(p?.last_active_at_ms ?? 0)}</span>}
                    </span>
                    <Actions r={r} />
                  </li>
                );
              })}
            </ul>
          </section>
        );
      })}
      {all.length === 0 && <p class="hint">No friends yet. Add someone by their username.</p>}
    </main>
  );
}
