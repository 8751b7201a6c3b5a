// Find a user by the first letters of their username, as one types: the
// server's directory search (GET /api/v1/users?prefix=), debounced, showing
// only the answer to the latest text. A combobox: ArrowUp/ArrowDown move
// through the results, Enter picks, Escape clears.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { LatestSearch, type SearchResult, type User } from '../protocol';
import { searchUsers } from '../state/chat';
import { me } from '../state/store';

let pickers = 0;

/** A search box listing matching users; `onPick` gets the chosen one. */
export function UserPicker({ label, onPick, exclude = [] }: { label: string; onPick: (u: User) => void; exclude?: string[] }) {
  const [query, setQuery] = useState('');
  const [found, setFound] = useState<SearchResult<User[]> | null>(null);
  const [active, setActive] = useState(0);
  const listId = useMemo(() => `picker-${++pickers}`, []);
  const skip = new Set([...exclude, me.value?.id ?? '']);
  // Ask for enough that the caller and the excluded can be left out.
  const limit = Math.min(50, 8 + skip.size);
  const search = useMemo(() => new LatestSearch<User[]>({
    lookup: (q) => searchUsers(q, limit),
    onResult: (r) => { setFound(r); setActive(0); },
  }), [limit]);
  useEffect(() => () => search.cancel(), [search]);

  const q = query.trim();
  const matches = found && found.query === q ? found.value.filter((u) => !skip.has(u.id)).slice(0, 8) : null;
  const open = !!q && !!matches && matches.length > 0;
  const current = open ? Math.min(active, matches.length - 1) : -1;
  const pick = (u: User) => {
    onPick(u);
    setQuery('');
    setFound(null);
    search.cancel();
  };
  const onInput = (value: string) => {
    setQuery(value);
    search.set(value.trim());
  };
  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === 'ArrowDown' && open) {
      e.preventDefault();
      setActive((current + 1) % matches.length);
    } else if (e.key === 'ArrowUp' && open) {
      e.preventDefault();
      setActive((current - 1 + matches.length) % matches.length);
    } else if (e.key === 'Enter') {
      e.preventDefault();
      if (open) pick(matches[current]);
    } else if (e.key === 'Escape' && query) {
      // Clears the box; a second Escape closes the dialog around it.
      e.preventDefault();
      e.stopPropagation();
      onInput('');
    }
  };

  return (
    <div class="picker">
      <label>
        {label}
        <input type="search" value={query} autoComplete="off" spellcheck={false} placeholder="username"
          role="combobox" list={undefined} aria-autocomplete="list" aria-expanded={open} aria-controls={listId}
          aria-activedescendant={open ? `${listId}-${current}` : undefined}
          onInput={(e) => onInput(e.currentTarget.value)} onKeyDown={onKeyDown} />
      </label>
      <ul class="results" id={listId} role="listbox" aria-label="Matching users" hidden={!open}>
        {open && matches.map((u, i) => (
          <li key={u.id} id={`${listId}-${i}`} role="option" aria-selected={i === current}
            class={i === current ? 'active' : undefined}
            onMouseDown={(e) => e.preventDefault()} onClick={() => pick(u)} onMouseEnter={() => setActive(i)}>
            {u.display_name ? `${u.display_name} (@${u.username})` : `@${u.username}`}
          </li>
        ))}
      </ul>
      <p class="hint small" role="status">
        {!q ? '' : !matches ? 'Searching…' : matches.length === 0 ? `No user whose name starts with “${q}”.` : ''}
      </p>
    </div>
  );
}
