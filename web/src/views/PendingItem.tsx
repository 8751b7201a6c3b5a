// A message of the user's on its way: "Sending…", or failed with Retry.
import type { Pending } from '../protocol';
import { canRetry } from '../protocol/outbox';
import { ws } from '../state/chat';
import { me, nameOf } from '../state/store';
import { MessageText } from './MessageText';

/** Why a send failed, in words. */
function reason(code: string | undefined): string {
  switch (code) {
    case 'timeout':
      return 'no answer from the server';
    case 'rate_limited':
    case 'overloaded':
      return 'the server is busy';
    case 'blocked':
      return 'you cannot message this person';
    default:
      return code ?? 'error';
  }
}

/** An unacknowledged message at the end of the list. */
export function PendingItem({ p }: { p: Pending }) {
  const failed = p.state === 'failed';
  return (
    <li class={failed ? 'msg own failed' : 'msg own pending'} data-client-msg-id={p.clientMsgId}>
      <div class="meta">
        <strong>{me.value ? nameOf(me.value.id) : ''}</strong>{' '}
        <span class="status">{failed ? `Not sent: ${reason(p.error)}` : 'Sending…'}</span>
      </div>
      <MessageText text={p.text} />
      {failed && (
        <div class="actions">
          {canRetry(p.error) && (
            <button type="button" onClick={() => ws()?.retry(p.clientMsgId)}>
              Retry
            </button>
          )}
          <button type="button" class="link" onClick={() => ws()?.discard(p.clientMsgId)}>Discard</button>
        </div>
      )}
    </li>
  );
}
