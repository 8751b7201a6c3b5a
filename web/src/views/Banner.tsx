// The connection state ("reconnecting…") and notices, announced politely.
import { connection, notice } from '../state/store';

/** Shown above everything while the connection is not up, and for notices. */
export function Banner() {
  const { status } = connection.value;
  const text = status === 'reconnecting' ? 'Reconnecting…' : status === 'connecting' ? 'Connecting…' : null;
  return (
    <div class="banners">
      <div role="status" aria-live="polite" class={text ? 'banner warn' : 'sr-only'} data-testid="connection">
        {text ?? 'Connected'}
      </div>
      {notice.value && (
        <div class="banner notice" role="alert">
          {notice.value}
          <button type="button" class="link" onClick={() => (notice.value = null)}>Dismiss</button>
        </div>
      )}
    </div>
  );
}
