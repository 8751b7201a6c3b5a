// The sidebar's last message of a channel: from `ready` (the newest message
// that is not deleted, its text cut to 200 characters), then kept current
// by live messages, edits and deletes, without asking for history.
import { compareIds, type Id, type LastMessage, type Message } from '../protocol';

/** How many characters of a message the preview keeps, as `ready` does. */
export const PREVIEW_CHARS = 200;

/** A channel's newest message that is not deleted, as the sidebar shows it. */
export interface Preview {
  id: Id;
  sender_id: Id;
  text: string;
  truncated: boolean;
  created_at_ms: number;
}

/** The preview `ready` gives, if any. */
export function fromReady(last: LastMessage | undefined): Preview | undefined {
  if (!last) return undefined;
  return {
    id: last.id, sender_id: last.sender_id, text: last.text,
    truncated: last.text_truncated === true, created_at_ms: last.created_at_ms,
  };
}

/** The preview of a message; none for a tombstone. */
export function fromMessage(m: Message): Preview | undefined {
  if (m.deleted) return undefined;
  // Cut by code points, as the server counts; slicing first keeps a long text cheap.
  const head = m.text.length > PREVIEW_CHARS ? Array.from(m.text.slice(0, 2 * PREVIEW_CHARS)) : null;
  const truncated = head !== null && (head.length > PREVIEW_CHARS || m.text.length > 2 * PREVIEW_CHARS);
  return {
    id: m.id, sender_id: m.sender_id, created_at_ms: m.created_at_ms,
    text: head ? head.slice(0, PREVIEW_CHARS).join('') : m.text, truncated,
  };
}

/** What a change to message `m` (new, edited or deleted) does to the preview. */
export type PreviewChange =
  | { kind: 'keep' }
  | { kind: 'set'; preview: Preview | undefined }
  /** The previewed message was deleted and nothing held replaces it: ask for the one before. */
  | { kind: 'fetch'; before: Id };

/**
 * The preview after message `m` arrived or changed. `held` is the channel's
 * timeline as the tab holds it (oldest first) and `complete` whether it
 * reaches back to the channel's first message.
 */
export function afterChange(current: Preview | undefined, m: Message, held: Message[], complete: boolean): PreviewChange {
  if (current && compareIds(m.id, current.id) < 0) return { kind: 'keep' };
  if (!m.deleted) return { kind: 'set', preview: fromMessage(m) };
  // A tombstone newer than the preview: the preview still holds.
  if (!current || m.id !== current.id) return { kind: 'keep' };
  for (let i = held.length - 1; i >= 0; i--) {
    const x = held[i];
    if (compareIds(x.id, m.id) < 0 && !x.deleted) return { kind: 'set', preview: fromMessage(x) };
  }
  const reachesBefore = held.length > 0 && compareIds(held[0].id, m.id) <= 0;
  return complete && reachesBefore ? { kind: 'set', preview: undefined } : { kind: 'fetch', before: m.id };
}

/** When the channel last saw activity (ms): its preview's time, else its creation. */
export function activityAt(created_at_ms: number, preview: Preview | undefined): number {
  return Math.max(created_at_ms, preview?.created_at_ms ?? 0);
}
