// A bot's message for this user alone: marked so, never stored, dismissable.
import type { Ephemeral } from '../protocol';
import { dismissEphemeral } from '../state/chat';
import { nameOf } from '../state/store';
import { MessageText } from './MessageText';
import { clock } from './time';

/** An ephemeral message in the list. */
export function EphemeralItem({ e }: { e: Ephemeral }) {
  return (
    <li class="msg ephemeral" data-ephemeral={e.id}>
      <div class="meta">
        <strong>{nameOf(e.sender_id)}</strong>{' '}
        <span class="time">{clock(e.created_at_ms)}</span>{' '}
        <span class="only-you">Only visible to you</span>
      </div>
      <MessageText text={e.text} />
      <div class="actions">
        <button type="button" class="link" onClick={() => dismissEphemeral(e.channel_id, e.id)}
          aria-label="Dismiss message">Dismiss</button>
      </div>
    </li>
  );
}
