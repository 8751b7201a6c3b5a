// A message's text: always text nodes, links opened safely, very long
// texts shown collapsed until asked for.
import { useState } from 'preact/hooks';
import { linkify } from './linkify';

/** Characters shown before "Show more". */
const COLLAPSED_CHARS = 3000;

/** The text of one message. */
export function MessageText({ text }: { text: string }) {
  const [open, setOpen] = useState(false);
  const long = text.length > COLLAPSED_CHARS;
  const shown = long && !open ? text.slice(0, COLLAPSED_CHARS) : text;
  return (
    <div class="text">
      {linkify(shown).map((run, i) =>
        run.href ? (
          <a key={i} href={run.href} target="_blank" rel="noopener noreferrer nofollow">{run.text}</a>
        ) : (
          run.text
        ),
      )}
      {long && (
        <div>
          <button type="button" class="link" onClick={() => setOpen(!open)} aria-expanded={open}>
            {open ? 'Show less' : `Show more (${(text.length - COLLAPSED_CHARS).toLocaleString()} more characters)`}
          </button>
        </div>
      )}
    </div>
  );
}
