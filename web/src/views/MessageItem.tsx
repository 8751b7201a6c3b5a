// One message: author, time (a link to the message), text, and for the
// user's own messages edit and delete.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Message } from '../protocol';
import { deleteMessage, editMessage, tooLong } from '../state/chat';
import { editing as editingId, me, nameOf } from '../state/store';
import { focusComposer } from './Composer';
import { MessageText } from './MessageText';
import { clock } from './time';

/** A message in the list. */
export function MessageItem({ m, highlight, seenBy }: { m: Message; highlight: boolean; seenBy: string[] }) {
  const editing = editingId.value === m.id;
  const setEditing = (on: boolean) => {
    editingId.value = on ? m.id : null;
    // Back to the message box, as in Slack, once an edit is saved or cancelled.
    if (!on) focusComposer();
  };
  const [confirming, setConfirming] = useState(false);
  const own = m.sender_id === me.value?.id;
  const cls = ['msg', own ? 'own' : '', highlight ? 'highlight' : ''].filter(Boolean).join(' ');
  return (
    <li class={cls} id={`m-${m.id}`} data-id={m.id}>
      <div class="meta">
        <strong>{nameOf(m.sender_id)}</strong>{' '}
        <a class="time" href={`/c/${m.channel_id}/m/${m.id}`} title="Link to this message">{clock(m.created_at_ms)}</a>
        {m.edited_at_ms && !m.deleted && <span class="edited"> (edited)</span>}
      </div>
      {m.deleted ? (
        <p class="text deleted">{m.deleted_by && m.deleted_by !== m.sender_id ? 'Deleted by a moderator' : 'This message was deleted'}</p>
      ) : editing ? (
        <EditBox m={m} done={() => setEditing(false)} />
      ) : (
        <MessageText text={m.text} />
      )}
      {own && !m.deleted && !editing && (
        <div class="actions">
          <button type="button" class="link" onClick={() => setEditing(true)} aria-label="Edit message">Edit</button>
          {confirming ? (
            <span role="group" aria-label="Confirm delete">
              Delete this message?{' '}
              <button type="button" class="danger" onClick={() => { deleteMessage(m); setConfirming(false); }}>Yes, delete</button>{' '}
              <button type="button" class="link" autoFocus onClick={() => setConfirming(false)}
                onKeyDown={(e) => { if (e.key === 'Escape') setConfirming(false); }}>Keep</button>
            </span>
          ) : (
            <button type="button" class="link" aria-label="Delete message" onClick={() => setConfirming(true)}>Delete</button>
          )}
        </div>
      )}
      {seenBy.length > 0 && <div class="seen">Seen by {seenBy.join(', ')}</div>}
    </li>
  );
}

function EditBox({ m, done }: { m: Message; done: () => void }) {
  const [text, setText] = useState(m.text);
  const ref = useRef<HTMLTextAreaElement>(null);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.focus();
    el.setSelectionRange(el.value.length, el.value.length);
  }, []);
  const save = () => {
    if (!text.trim() || tooLong(text)) return;
    if (text !== m.text) editMessage(m, text);
    done();
  };
  return (
    <div class="edit">
      <label class="sr-only" for={`edit-${m.id}`}>Edit message</label>
      <textarea id={`edit-${m.id}`} ref={ref} value={text} rows={3}
        onInput={(e) => setText(e.currentTarget.value)}
        onKeyDown={(e) => {
          if (e.key === 'Escape') { e.preventDefault(); done(); }
          if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); save(); }
        }} />
      <div class="row">
        <button type="button" class="primary" onClick={save}>Save</button>
        <button type="button" onClick={done}>Cancel</button>
        <span class="hint">Enter to save, Escape to cancel</span>
      </div>
    </div>
  );
}
