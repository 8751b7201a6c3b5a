// Two copies of one message: keep the one with the larger version_id
// (an absent one counts as "0"), as docs/protocol.md asks.
import { compareIds } from './ids';
import type { Message } from './types';

/** The copy to keep of two copies of the same message. */
export function newerCopy(held: Message | undefined, incoming: Message): Message {
  if (!held) return incoming;
  const a = held.version_id ?? '0';
  const b = incoming.version_id ?? '0';
  return compareIds(b, a) >= 0 ? incoming : held;
}
