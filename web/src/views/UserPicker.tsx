// Find a user by username as one types: people the tab knows whose names
// start with the text, plus the exact match from the server. (The API has
// no prefix search: GET /users/by-name finds exact names only.)
import { useEffect, useState } from 'preact/hooks';
import type { User } from '../protocol';
import { findUser } from '../state/chat';
import { me, users } from '../state/store';

/** A search box listing matching users; `onPick` gets the chosen one. */
export function UserPicker({ label, onPick, exclude = [] }: { label: string; onPick: (u: User) => void; exclude?: string[] }) {
  const [query, setQuery] = useState('');
  const [exact, setExact] = useState<User | null>(null);
  const [searched, setSearched] = useState('');
  const q = query.trim().toLowerCase();

  useEffect(() => {
    if (!q) return;
    const timer = setTimeout(async () => {
      const u = await findUser(q);
      setExact(u);
      setSearched(q);
    }, 200);
    return () => clearTimeout(timer);
  }, [q]);

  const skip = new Set([...exclude, me.value?.id ?? '']);
  const known = q
    ? [...users.value.values()].filter((u) => !skip.has(u.id) && (u.username.toLowerCase().startsWith(q)
        || u.display_name.toLowerCase().startsWith(q)))
    : [];
  const matches = exact && !skip.has(exact.id) && !known.some((u) => u.id === exact.id) && exact.username.toLowerCase() === q
    ? [exact, ...known] : known;
  const pick = (u: User) => { onPick(u); setQuery(''); setExact(null); };

  return (
    <div class="picker">
      <label>
        {label}
        <input type="search" value={query} autoComplete="off" placeholder="username"
          onInput={(e) => setQuery(e.currentTarget.value)}
          onKeyDown={(e) => { if (e.key === 'Enter') { e.preventDefault(); if (matches[0]) pick(matches[0]); } }} />
      </label>
      {q && (
        <ul class="results" aria-label="Matching users">
          {matches.slice(0, 8).map((u) => (
            <li key={u.id}>
              <button type="button" onClick={() => pick(u)}>
                {u.display_name ? `${u.display_name} (@${u.username})` : `@${u.username}`}
              </button>
            </li>
          ))}
          {matches.length === 0 && searched === q && <li class="hint">No user named “{query.trim()}”.</li>}
        </ul>
      )}
    </div>
  );
}
