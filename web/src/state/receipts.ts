// Other members' read positions in one channel, as receipts show them.
// They come from two places, `GET .../reads` when a channel opens and live
// `read` frames, in either order; a position only ever moves forward.
import { compareIds, type Id, type ReadPosition } from '../protocol';

/** `held` with `reads` applied, forward only and without the user's own; null when nothing moved. */
export function forward(held: Map<Id, Id> | undefined, reads: ReadPosition[], me: Id | undefined): Map<Id, Id> | null {
  let next: Map<Id, Id> | null = null;
  for (const r of reads) {
    if (r.user_id === me) continue;
    const had = (next ?? held)?.get(r.user_id);
    if (had !== undefined && compareIds(r.last_read_id, had) <= 0) continue;
    next ??= new Map(held);
    next.set(r.user_id, r.last_read_id);
  }
  return next;
}
