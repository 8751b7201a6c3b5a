// On a phone only one column shows: pages other than a channel get a way back.
import { navigate } from '../state/route';

/** "← Channels", shown at phone width only. */
export function BackLink() {
  return (
    <button type="button" class="back" onClick={() => navigate({ name: 'home' })}>← Channels</button>
  );
}
