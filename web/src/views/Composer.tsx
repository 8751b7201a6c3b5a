// The message box: Enter sends, Shift+Enter adds a line; the length limit
// comes from the server's `ready`.
import { useState } from 'preact/hooks';
import type { Id } from '../protocol';
import { sendMessage, typingIn } from '../state/chat';
import { limits } from '../state/store';

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
