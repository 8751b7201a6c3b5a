// Times as people read them.

/** "14:05" today, else "3 Dec 14:05". */
export function clock(ms: number): string {
  const d = new Date(ms);
  const now = new Date();
  const time = d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  if (d.toDateString() === now.toDateString()) return time;
  return `${d.toLocaleDateString(undefined, { day: 'numeric', month: 'short' })} ${time}`;
}

/** "last seen 5 min ago" for an offline user. */
export function lastSeen(ms: number): string {
  if (!ms) return 'offline';
  const mins = Math.round((Date.now() - ms) / 60000);
  if (mins < 1) return 'last seen just now';
  if (mins < 60) return `last seen ${mins} min ago`;
  const hours = Math.round(mins / 60);
  if (hours < 24) return `last seen ${hours} h ago`;
  return `last seen ${new Date(ms).toLocaleDateString()}`;
}
