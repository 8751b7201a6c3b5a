// Ids are 64-bit integers written as decimal strings (docs/protocol.md,
// Conventions). They compare by length first, then as text: no BigInt needed.

/** A 64-bit id as the server writes it: decimal digits, no leading zeros. */
export type Id = string;

/** Negative, zero or positive as `a` is older than, equal to or newer than `b`. */
export function compareIds(a: Id, b: Id): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The later of two ids. */
export function maxId(a: Id, b: Id): Id {
  return compareIds(a, b) >= 0 ? a : b;
}

/** Whether `s` reads as an id. */
export function isId(s: unknown): s is Id {
  return typeof s === 'string' && /^(0|[1-9][0-9]{0,19})$/.test(s);
}
