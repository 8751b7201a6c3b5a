// What the views draw, as signals. Only chat.ts writes here.
import { signal, type Signal } from '@preact/signals';
import type { Channel, Ephemeral, Id, Limits, Message, Presence, Relationship, Settings, Status, TransportKind, User } from '../protocol';
import type { Preview } from './preview';

/** A channel in the sidebar. */
export interface ChannelEntry {
  channel: Channel;
  lastReadId: Id;
  unread: number;
  mentions: number;
  /** The newest message that is not deleted, for the sidebar. */
  last?: Preview;
}

/** The messages of one channel that this tab holds, oldest first. */
export interface Timeline {
  messages: Message[];
  loaded: boolean;
  loading: boolean;
  hasMoreBefore: boolean;
  /** True after a jump: newer messages exist that are not loaded yet. */
  hasMoreAfter: boolean;
  /** A message to scroll to and highlight. */
  focus?: Id;
}

/** The connection as the banner shows it. */
export const connection = signal<{ status: Status; retryInMs?: number }>({ status: 'connecting' });
/** What carries the open session (WebTransport or WebSocket); null while none is open. */
export const transport = signal<TransportKind | null>(null);
/** The server's limits, from `ready`. */
export const limits = signal<Limits | null>(null);
/** The signed-in user, as `ready` and `profile` frames say. */
export const me = signal<User | null>(null);
/** The user's settings. */
export const settings = signal<Settings>({ notifications: 'all', muted_channel_ids: [], invisible: false });
/** The user's channels. */
export const channels = signal<Map<Id, ChannelEntry>>(new Map());
/** Every user the tab knows. */
export const users = signal<Map<Id, User>>(new Map());
/** Presence of friends and of watched channels' members. */
export const presence = signal<Map<Id, Presence>>(new Map());
/** Who types where: channel → user → until (ms). */
export const typing = signal<Map<Id, Map<Id, number>>>(new Map());
/** Other members' read positions: channel → user → last read id. */
export const receipts = signal<Map<Id, Map<Id, Id>>>(new Map());
/** Friends, requests and blocks. */
export const relationships = signal<Map<Id, Relationship>>(new Map());
/** Bumped whenever the outbox changes, so pending messages redraw. */
export const outboxVersion = signal(0);
/** Bots' messages for this user alone, by channel, oldest first (this tab only). */
export const ephemerals = signal<Map<Id, Ephemeral[]>>(new Map());
/** A short notice for the user (errors mostly). */
export const notice = signal<string | null>(null);
/** The message whose text the user is editing, if any (one at a time). */
export const editing = signal<Id | null>(null);
/** Whether `ready` has arrived at least once. */
export const started = signal(false);

const timelines = new Map<Id, Signal<Timeline>>();

/** The timeline of a channel (created empty on first use). */
export function timeline(channelId: Id): Signal<Timeline> {
  let t = timelines.get(channelId);
  if (!t) {
    t = signal<Timeline>({ messages: [], loaded: false, loading: false, hasMoreBefore: true, hasMoreAfter: false });
    timelines.set(channelId, t);
  }
  return t;
}

/** Every timeline held. */
export function allTimelines(): Map<Id, Signal<Timeline>> {
  return timelines;
}

/** Forgets everything (sign out). */
export function resetStore(): void {
  timelines.clear();
  channels.value = new Map();
  users.value = new Map();
  presence.value = new Map();
  typing.value = new Map();
  receipts.value = new Map();
  relationships.value = new Map();
  ephemerals.value = new Map();
  me.value = null;
  limits.value = null;
  started.value = false;
  editing.value = null;
  connection.value = { status: 'connecting' };
}

/** Replaces one entry of a map signal. */
export function put<K, V>(s: Signal<Map<K, V>>, key: K, value: V): void {
  const next = new Map(s.value);
  next.set(key, value);
  s.value = next;
}

/** Removes one entry of a map signal. */
export function drop<K, V>(s: Signal<Map<K, V>>, key: K): void {
  if (!s.value.has(key)) return;
  const next = new Map(s.value);
  next.delete(key);
  s.value = next;
}

/** A user's display name: the profile's, else the username, else the id. */
export function nameOf(id: Id): string {
  const u = users.value.get(id);
  if (!u) return 'user ' + id.slice(-4);
  return u.display_name || u.username;
}

/** The sidebar title of a channel. */
export function channelTitle(c: Channel): string {
  if (c.kind === 'group') return c.name;
  const mine = me.value?.id;
  const other = c.member_ids.find((m) => m !== mine);
  return other ? nameOf(other) : 'Notes to self';
}

/** The other member of a 1:1 channel. */
export function partnerOf(c: Channel): Id | undefined {
  if (c.kind !== 'direct') return undefined;
  return c.member_ids.find((m) => m !== me.value?.id);
}
