// Sync cursors: for each channel whose messages this tab holds, the largest
// id it holds with nothing missing before it. They go in `hello`, so the
// server replays exactly what came after, and a reconnect neither misses
// nor repeats a message.
//
// A cursor moves only in order: past a `resync` point it stays put until
// the gap was paged in from history (`filled`), so a reconnect meanwhile
// asks for the missing messages again instead of skipping them.
import { compareIds, type Id } from './ids';

/** How many message ids per channel are remembered for deduplication. */
const SEEN_PER_CHANNEL = 4096;

/** Cursor and deduplication bookkeeping of one connection's client. */
export class Cursors {
  private readonly held = new Map<Id, Id>();
  private readonly gaps = new Map<Id, Id>();
  private readonly seen = new Map<Id, Set<Id>>();

  /** Starts (or moves) the cursor of `channel`: the tab now holds up to `latest`. */
  track(channel: Id, latest: Id): void {
    if (this.gaps.has(channel)) return;
    const at = this.held.get(channel);
    if (at === undefined || compareIds(latest, at) > 0) this.held.set(channel, latest);
  }

  /** Whether the tab keeps a cursor for `channel`. */
  tracks(channel: Id): boolean {
    return this.held.has(channel);
  }

  /** The cursor of `channel`, if tracked. */
  cursor(channel: Id): Id | undefined {
    return this.held.get(channel);
  }

  /**
   * A message arrived (live, from catch-up or as an ack). Returns false when
   * it was seen before: the caller shows nothing new.
   */
  observe(channel: Id, id: Id): boolean {
    let seen = this.seen.get(channel);
    if (!seen) {
      seen = new Set();
      this.seen.set(channel, seen);
    }
    if (seen.has(id)) return false;
    const at = this.held.get(channel);
    if (at !== undefined && compareIds(id, at) <= 0 && !this.gaps.has(channel)) {
      // At or before the cursor: catch-up never sends these, so it is a repeat
      // of something the tab holds from history.
      seen.add(id);
      return false;
    }
    seen.add(id);
    if (seen.size > SEEN_PER_CHANNEL) {
      const oldest = seen.values().next().value;
      if (oldest !== undefined) seen.delete(oldest);
    }
    if (at !== undefined && !this.gaps.has(channel) && compareIds(id, at) > 0) {
      this.held.set(channel, id);
    }
    return true;
  }

  /** The server could not replay messages after `after`: hold the cursor there. */
  resync(channel: Id, after: Id): void {
    const at = this.held.get(channel);
    if (at === undefined || compareIds(after, at) < 0) this.held.set(channel, after);
    this.gaps.set(channel, after);
  }

  /** Whether a resync gap is open in `channel`. */
  hasGap(channel: Id): boolean {
    return this.gaps.has(channel);
  }

  /** History after the gap was paged in up to `upTo`: the cursor moves on. */
  filled(channel: Id, upTo: Id): void {
    this.gaps.delete(channel);
    this.track(channel, upTo);
  }

  /** The channel is gone (left, deleted): no cursor for it any more. */
  forget(channel: Id): void {
    this.held.delete(channel);
    this.gaps.delete(channel);
    this.seen.delete(channel);
  }

  /** The cursors for a `hello`. */
  forHello(): Record<Id, Id> {
    return Object.fromEntries(this.held);
  }
}
