// The message box: Enter sends, Shift+Enter adds a line, ArrowUp in an
// empty box edits the user's last message (as in Slack and Discord); the
// length limit comes from the server's `ready`.
import { useState } from 'preact/hooks';
import type { Id } from '../protocol';
import { sendMessage, typingIn } from '../state/chat';
import { editing, limits, me, timeline } from '../state/store';

/** Puts the keyboard focus in the message box, if one is shown. */
export function focusComposer(): void {
  document.getElementById('composer')?.focus();
}

/** The user's newest message in the channel that can still be edited. */
function lastOwn(channelId: Id): Id | undefined {
  const list = timeline(channelId).value.messages;
  const mine = me.value?.id;
  for (let i = list.length - 1; i >= 0; i--) {
    if (list[i].sender_id === mine && !list[i].deleted) return list[i].id;
  }
  return undefined;
}

/** Writes and sends messages to one channel. */
export function Composer({ channelId, label }: { channelId: Id; label: string }) {
  const [text, setText] = useState('');
  const max = limits.value?.max_text_chars ?? Infinity;
  const length = text.length > max / 2 ? [...text].length : text.length;
  const over = length > max;
  const send = () => {
    const body = text.replace(/\r\n?/g, '\n');
    if (!body.trim() || over) return;
    sendMessage(channelId, body);
    setText('');
  };
  return (
    <form class="composer" onSubmit={(e) => { e.preventDefault(); send(); }}>
      <label class="sr-only" for="composer">{label}</label>
      <textarea id="composer" rows={2} value={text} placeholder={label} aria-describedby="composer-hint"
        onInput={(e) => { setText(e.currentTarget.value); typingIn(channelId); }}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); send(); }
          if (e.key === 'ArrowUp' && text === '' && !e.shiftKey && !e.altKey && !e.ctrlKey && !e.metaKey) {
            const id = lastOwn(channelId);
            if (id) { e.preventDefault(); editing.value = id; }
          }
        }} />
      <div class="composer-side">
        <button type="submit" class="primary" disabled={!text.trim() || over}>Send</button>
        <span id="composer-hint" class={over ? 'error small' : 'hint small'}>
          {length > max * 0.9 ? `${length.toLocaleString()} / ${max.toLocaleString()}` : 'Shift+Enter for a new line'}
        </span>
      </div>
    </form>
  );
}
