// A user's picture, or their initial when there is none (or it fails to load).
import { useState } from 'preact/hooks';
import type { Id } from '../protocol';
import { nameOf, presence, users } from '../state/store';

/** A round picture with an optional online dot. */
export function Avatar({ id, dot = false }: { id: Id; dot?: boolean }) {
  const user = users.value.get(id);
  const [broken, setBroken] = useState<string | null>(null);
  const url = user?.avatar_url;
  const online = presence.value.get(id)?.status === 'online';
  return (
    <span class="avatar" aria-hidden="true">
      {url && broken !== url ? (
        <img src={url} alt="" referrerPolicy="no-referrer" onError={() => setBroken(url)} />
      ) : (
        <span class="initial">{nameOf(id).slice(0, 1).toUpperCase()}</span>
      )}
      {dot && <span class={online ? 'dot online' : 'dot'} />}
    </span>
  );
}
