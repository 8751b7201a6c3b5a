// Merging messages into a timeline: sorted by id, one copy each (the newer
// version wins), whatever order pages and live frames arrive in.
import { compareIds, newerCopy, type Message } from '../protocol';

/** `list` with `incoming` merged in, still sorted and without duplicates. */
export function mergeMessages(list: Message[], incoming: Message[]): Message[] {
  if (incoming.length === 0) return list;
  const byId = new Map(list.map((m) => [m.id, m]));
  for (const m of incoming) byId.set(m.id, newerCopy(byId.get(m.id), m));
  return [...byId.values()].sort((a, b) => compareIds(a.id, b.id));
}

/** `list` with one message appended or replaced; cheap in the common case. */
export function addMessage(list: Message[], m: Message): Message[] {
  const last = list[list.length - 1];
  if (!last || compareIds(m.id, last.id) > 0) return [...list, m];
  return mergeMessages(list, [m]);
}
