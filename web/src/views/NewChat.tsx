// Dialogs to start a 1:1 chat or create a group.
import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { User } from '../protocol';
import { createGroup, startDirect } from '../state/chat';
import { UserPicker } from './UserPicker';

/** A modal dialog that closes on Escape and returns focus where it was. */
export function Dialog({ title, onClose, children }: { title: string; onClose: () => void; children: preact.ComponentChildren }) {
  const ref = useRef<HTMLDialogElement>(null);
  // Opened as soon as it is in the page, before the browser paints or reads
  // another event: with useEffect (after paint) keys typed right after the
  // click went to a dialog still hidden, and were lost.
  useLayoutEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    return () => d?.close();
  }, []);
  return (
    <dialog ref={ref} aria-label={title} onClose={onClose} onCancel={onClose}>
      <h2>{title}</h2>
      {children}
      <button type="button" class="close" onClick={onClose}>Close</button>
    </dialog>
  );
}

/** Start a 1:1 chat by username. */
export function NewDirect({ onClose }: { onClose: () => void }) {
  return (
    <Dialog title="New chat" onClose={onClose}>
      <UserPicker label="Chat with" onPick={(u) => { void startDirect(u); onClose(); }} />
    </Dialog>
  );
}

/** Create a group with a name and members. */
export function NewGroup({ onClose }: { onClose: () => void }) {
  const [name, setName] = useState('');
  const [members, setMembers] = useState<User[]>([]);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (await createGroup(name.trim(), members.map((m) => m.id))) onClose();
  };
  return (
    <Dialog title="New group" onClose={onClose}>
      <form onSubmit={submit}>
        <label>
          Group name
          <input required maxLength={100} value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <UserPicker label="Add members" exclude={members.map((m) => m.id)}
          onPick={(u) => setMembers([...members, u])} />
        <ul class="chips" aria-label="Members to add">
          {members.map((m) => (
            <li key={m.id}>
              @{m.username}
              <button type="button" class="link" aria-label={`Remove ${m.username}`}
                onClick={() => setMembers(members.filter((x) => x.id !== m.id))}>×</button>
            </li>
          ))}
        </ul>
        <button type="submit" class="primary" disabled={!name.trim()}>Create group</button>
      </form>
    </Dialog>
  );
}
