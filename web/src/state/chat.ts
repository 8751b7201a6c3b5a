// The controller: turns the protocol client's events into store updates,
// and the views' actions into protocol calls. The only module that holds
// the ChatClient and the Api.
import { signal } from '@preact/signals';
import {
  Api, ApiError, browserTransportEnv, ChatClient, compareIds, Connector, type Channel, type ChannelState, type ClientEvent,
  type Id, type Message, type ReadPosition, type Ready, type Relationship, type ServerFrame, type Settings,
  type TransportKind, type User,
} from '../protocol';
import { navigate, route } from './route';
import { signIn, signOut, type Session } from './session';
import {
  channels, connection, drop, editing, ephemerals, limits, me, notice, outboxVersion, presence, put, receipts,
  relationships, resetStore, settings, started, timeline, transport, typing, users, allTimelines,
  type ChannelEntry,
} from './store';
import { forward } from './receipts';
import { afterChange, fromMessage, fromReady, type Preview, type PreviewChange } from './preview';
import { addMessage, mergeMessages } from './timeline';

let client: ChatClient | null = null;
let api: Api = new Api(null);
let unsubscribe: (() => void) | null = null;
const userRequests = new Map<Id, Promise<User | null>>();
let watchLimitReached = false;
/** One per page, so that a failed WebTransport attempt is remembered (transport.ts). */
let connector: Connector | null = null;

/** Where the "new messages" divider goes: channel → last read id when opened. */
export const dividers = signal<Map<Id, Id>>(new Map());

/** The REST client of the signed-in user. */
export function rest(): Api {
  return api;
}

/** The chat connection's client, while signed in. */
export function ws(): ChatClient | null {
  return client;
}

/** Signs in with an answer of signup or login; main.tsx then connects. */
export function begin(auth: Session): void {
  signIn(auth);
}

/** Connects this tab's session (at start, or after signing in). */
export function connect(s: Session): void {
  end();
  api = new Api(s.token, () => endSession('Your session has ended. Please sign in again.'));
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const prefix = 'w' + Math.random().toString(36).slice(2, 10) + Date.now().toString(36);
  client = new ChatClient({
    url: `${scheme}://${location.host}/ws`,
    token: s.token,
    idPrefix: prefix,
    connect: (url) => sockets().connect(url),
  });
  users.value = new Map([[s.user.id, s.user]]);
  me.value = s.user;
  unsubscribe = client.subscribe(onEvent);
  client.start();
  void loadRelationships();
}

function sockets(): Connector {
  connector ??= new Connector(browserTransportEnv(showTransport));
  return connector;
}

/** Shows the transport in Settings and on `<html data-transport>` (the browser tests read it). */
function showTransport(kind: TransportKind | null): void {
  transport.value = kind;
  if (kind) document.documentElement.dataset.transport = kind;
  else delete document.documentElement.dataset.transport;
}

function end(): void {
  unsubscribe?.();
  unsubscribe = null;
  client?.stop();
  client = null;
  userRequests.clear();
  watchLimitReached = false;
  resetStore();
  readSent.clear();
  dividers.value = new Map();
}

function endSession(reason: string | null): void {
  end();
  signOut(reason);
  navigate({ name: 'home' });
}

/** Ends every session of the user (all tabs and devices). */
export async function logoutEverywhere(): Promise<void> {
  try {
    await api.logoutAll();
  } catch {
    // The local sign-out still happens.
  }
  endSession(null);
}

/** Renames a group (its owner or an admin). */
export async function renameGroup(channelId: Id, name: string): Promise<boolean> {
  const c = await api.renameGroup(channelId, name).catch(report);
  if (c) onChannel({ type: 'channel', change: 'renamed', channel: c });
  return !!c;
}

/** Ends this tab's token on the server and signs out. */
export async function logout(): Promise<void> {
  try {
    await api.logout();
  } catch {
    // Signed out locally all the same.
  }
  endSession(null);
}

function onEvent(e: ClientEvent): void {
  switch (e.kind) {
    case 'status':
      connection.value = { status: e.status, retryInMs: e.retryInMs };
      if (e.status === 'signed_out') endSession('Your session has ended. Please sign in again.');
      return;
    case 'ready':
      applyReady(e.ready, e.reconnect);
      return;
    case 'message':
      onMessage(e.message);
      return;
    case 'outbox':
      outboxVersion.value += 1;
      return;
    case 'frame':
      onFrame(e.frame);
  }
}

function entryOf(state: ChannelState): ChannelEntry {
  return {
    channel: state.channel,
    lastReadId: state.last_read_id,
    unread: state.unread_count,
    mentions: state.mention_count,
    // `ready` is a cut: its last message is the newest, whatever the tab held.
    last: fromReady(state.last_message),
  };
}

function applyReady(ready: Ready, reconnect: boolean): void {
  me.value = ready.user;
  // Later profiles arrive as `profile` frames just before the first
  // message that needs them.
  const known = new Map(users.value);
  for (const u of [ready.user, ...(ready.users ?? [])]) known.set(u.id, u);
  users.value = known;
  limits.value = ready.limits;
  settings.value = ready.settings;
  const old = channels.value;
  const next = new Map<Id, ChannelEntry>();
  for (const state of ready.channels) next.set(state.channel.id, entryOf(state));
  channels.value = next;
  for (const id of old.keys()) if (!next.has(id)) forgetChannel(id);
  started.value = true;
  void ensureUsers(ready.channels.flatMap((s) => s.channel.member_ids));
  watchPartners();
  if (reconnect) void loadRelationships();
  const r = route.value;
  if (reconnect && r.name === 'channel') void loadReads(r.channelId);
}

/** Online dots for 1:1 partners: watch the most recent direct channels. */
function watchPartners(): void {
  const direct = [...channels.value.values()]
    .filter((e) => e.channel.kind === 'direct' && e.channel.member_ids.length > 1)
    .sort((a, b) => compareIds(b.channel.last_message_id, a.channel.last_message_id));
  for (const e of direct.slice(0, 20)) {
    if (watchLimitReached) return;
    client?.watch(e.channel.id);
  }
}

function mentionsMe(m: Message): boolean {
  const mine = me.value?.id;
  return !!m.mentions?.some((x) => x.user_id === mine);
}

function onMessage(m: Message): void {
  const entry = channels.value.get(m.channel_id);
  if (entry) {
    const next = { ...entry, channel: { ...entry.channel } };
    const change = previewChange(next.last, m);
    if (change.kind === 'set') next.last = change.preview;
    if (compareIds(m.id, entry.channel.last_message_id) > 0) {
      next.channel.last_message_id = m.id;
      if (m.sender_id !== me.value?.id && compareIds(m.id, entry.lastReadId) > 0 && !m.deleted) {
        next.unread += 1;
        if (mentionsMe(m)) next.mentions += 1;
        notify(next, m);
      }
    }
    put(channels, m.channel_id, next);
  } else {
    // A channel this tab has not heard of yet (its `channel` frame is late).
    void api.channel(m.channel_id).then((c) => {
      if (!channels.value.has(c.id)) {
        put(channels, c.id, {
          channel: c, lastReadId: '0', unread: m.sender_id === me.value?.id ? 0 : 1, mentions: 0, last: fromMessage(m),
        });
      }
    }).catch(() => {});
  }
  const t = timeline(m.channel_id);
  // While the first page loads, live messages wait in the timeline and are
  // merged with it (a page computed before they were sent lacks them).
  if ((t.value.loaded || t.value.loading) && !t.value.hasMoreAfter) {
    t.value = { ...t.value, messages: addMessage(t.value.messages, m) };
  }
  const inChannel = typing.value.get(m.channel_id);
  if (inChannel?.has(m.sender_id)) {
    const next = new Map(inChannel);
    next.delete(m.sender_id);
    put(typing, m.channel_id, next);
  }
}

function notify(entry: ChannelEntry, m: Message): void {
  const s = settings.value;
  if (typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
  if (!document.hidden || s.muted_channel_ids.includes(entry.channel.id)) return;
  if (s.notifications === 'none' || (s.notifications === 'mentions' && !mentionsMe(m))) return;
  const from = users.value.get(m.sender_id);
  new Notification(from?.display_name || from?.username || 'New message', { body: m.text.slice(0, 140) });
}

function replaceMessage(m: Message): void {
  const t = timeline(m.channel_id);
  if (t.value.messages.some((x) => x.id === m.id)) {
    t.value = { ...t.value, messages: mergeMessages(t.value.messages, [m]) };
  }
  const entry = channels.value.get(m.channel_id);
  if (!entry) return;
  const change = previewChange(entry.last, m);
  if (change.kind === 'set') put(channels, m.channel_id, { ...entry, last: change.preview });
  if (change.kind === 'fetch') {
    put(channels, m.channel_id, { ...entry, last: undefined });
    void previewBefore(m.channel_id, change.before);
  }
}

/** What message `m` does to a channel's preview, given what the tab holds. */
function previewChange(current: Preview | undefined, m: Message): PreviewChange {
  const t = timeline(m.channel_id).value;
  const complete = t.loaded && !t.hasMoreBefore;
  return afterChange(current, m, t.hasMoreAfter ? [] : t.messages, complete);
}

/**
 * The previewed message was deleted and the tab holds nothing older: one
 * small page before it, for the newest message left (Slack shows the one
 * before, not a blank). Rare, and only for the channel where it happened.
 */
async function previewBefore(channelId: Id, before: Id): Promise<void> {
  const page = await api.history(channelId, { before }, 20).catch(() => null);
  const entry = channels.value.get(channelId);
  if (!page || !entry) return;
  const found = [...page.messages].reverse().find((x) => !x.deleted);
  const preview = found ? fromMessage(found) : undefined;
  // Something newer may have come meanwhile: keep it.
  if (preview && (!entry.last || compareIds(preview.id, entry.last.id) > 0)) put(channels, channelId, { ...entry, last: preview });
}

function forgetChannel(id: Id): void {
  drop(channels, id);
  allTimelines().delete(id);
  client?.cursors.forget(id);
  client?.unwatch(id);
  const r = route.value;
  if (r.name === 'channel' && r.channelId === id) navigate({ name: 'home' });
}

function onChannel(f: Extract<ServerFrame, { type: 'channel' }>): void {
  const mine = me.value?.id;
  if (f.change === 'deleted' || (f.change === 'member_removed' && f.user_id === mine)) {
    forgetChannel(f.channel.id);
    if (f.actor_id !== mine) notice.value = `You are no longer in ${f.channel.name || 'a channel'}.`;
    return;
  }
  const old = channels.value.get(f.channel.id);
  const channel = old && compareIds(old.channel.last_message_id, f.channel.last_message_id) > 0
    ? { ...f.channel, last_message_id: old.channel.last_message_id } : f.channel;
  put(channels, f.channel.id, old
    ? { ...old, channel }
    : { channel, lastReadId: '0', unread: 0, mentions: 0 });
  void ensureUsers(f.channel.member_ids);
  if (!old && f.channel.kind === 'direct' && !watchLimitReached) client?.watch(f.channel.id);
}

function onFrame(f: ServerFrame): void {
  switch (f.type) {
    case 'message_edited':
    case 'message_deleted':
      replaceMessage(f.message);
      return;
    case 'channel':
      onChannel(f);
      return;
    case 'read': {
      if (f.user_id === me.value?.id) {
        const e = channels.value.get(f.channel_id);
        if (e && compareIds(f.last_read_id, e.lastReadId) >= 0) {
          put(channels, f.channel_id, {
            ...e, lastReadId: f.last_read_id, unread: f.unread_count ?? e.unread, mentions: f.mention_count ?? e.mentions,
          });
        }
      } else {
        moveReceipts(f.channel_id, [{ user_id: f.user_id, last_read_id: f.last_read_id }]);
      }
      return;
    }
    case 'typing':
      onTyping(f.channel_id, f.user_id, f.expires_in_ms);
      return;
    case 'presence_list': {
      const next = new Map(presence.value);
      for (const p of f.presence) next.set(p.user_id, p);
      presence.value = next;
      return;
    }
    case 'presence':
      put(presence, f.user_id, { user_id: f.user_id, status: f.status, last_active_at_ms: f.last_active_at_ms });
      return;
    case 'profile':
      put(users, f.user.id, f.user);
      if (f.user.id === me.value?.id) me.value = f.user;
      return;
    case 'settings':
      settings.value = f.settings;
      return;
    case 'ephemeral': {
      const { type: _type, ...e } = f;
      const list = [...(ephemerals.value.get(e.channel_id) ?? []), e].slice(-EPHEMERALS_KEPT);
      ephemerals.value = new Map(ephemerals.value).set(e.channel_id, list);
      void ensureUsers([e.sender_id]);
      break;
    }
    case 'relationship':
      applyRelationship(f.relationship);
      return;
    case 'resync':
      void fillGap(f.channel_id, f.after_message_id);
      return;
    case 'error':
      if (f.code === 'too_many_watches') {
        watchLimitReached = true;
      } else if (f.client_msg_id === undefined && f.code !== 'rate_limited') {
        notice.value = f.message;
      }
      return;
    default:
      return;
  }
}

function onTyping(channelId: Id, userId: Id, expiresInMs: number): void {
  const until = Date.now() + expiresInMs;
  const next = new Map(typing.value.get(channelId));
  next.set(userId, until);
  put(typing, channelId, next);
  setTimeout(() => {
    const now = typing.value.get(channelId);
    if (now && (now.get(userId) ?? 0) <= Date.now()) {
      const pruned = new Map(now);
      pruned.delete(userId);
      put(typing, channelId, pruned);
    }
  }, expiresInMs + 50);
}

function applyRelationship(r: Relationship): void {
  put(users, r.user.id, r.user);
  if (r.kind === 'none') drop(relationships, r.user.id);
  else put(relationships, r.user.id, r);
  if (r.presence) put(presence, r.user.id, r.presence);
}

async function loadRelationships(): Promise<void> {
  try {
    const list = await api.relationships();
    relationships.value = new Map();
    for (const r of list) applyRelationship(r);
  } catch {
    // Shown as an empty list; the next reconnect tries again.
  }
}

/** Fetches the profiles of users the tab has not seen yet. */
export async function ensureUsers(ids: Id[]): Promise<void> {
  const missing = [...new Set(ids)].filter((id) => !users.value.has(id) && !userRequests.has(id));
  await Promise.all(missing.map((id) => {
    const p = api.user(id).then((u) => { put(users, u.id, u); return u; }).catch(() => null);
    userRequests.set(id, p);
    return p;
  }));
}

/** A page after a `resync` point, until the gap is closed. */
async function fillGap(channelId: Id, after: Id): Promise<void> {
  let from = after;
  for (;;) {
    const page = await api.history(channelId, { after: from }, 100).catch(() => null);
    if (!page) return;
    const t = timeline(channelId);
    if (t.value.loaded && !t.value.hasMoreAfter) {
      t.value = { ...t.value, messages: mergeMessages(t.value.messages, page.messages) };
    }
    const last = page.messages[page.messages.length - 1];
    if (last) from = last.id;
    if (!page.has_more_after || !last) break;
  }
  client?.cursors.filled(channelId, from);
}

/** Other members' read positions, moved forward only (a REST answer may come after a newer live frame). */
function moveReceipts(channelId: Id, reads: ReadPosition[]): void {
  const next = forward(receipts.value.get(channelId), reads, me.value?.id);
  if (next) put(receipts, channelId, next);
}

/**
 * The members' read positions when a channel opens, so receipts show at
 * once; live `read` frames move them on. Only for channels that have
 * receipts (at most `receipts_max_members`, from `ready`; an older server
 * that does not say has no such call).
 */
async function loadReads(channelId: Id): Promise<void> {
  const max = limits.value?.receipts_max_members;
  const entry = channels.value.get(channelId);
  if (max === undefined || !entry || entry.channel.member_ids.length > max) return;
  const reads = await api.reads(channelId).catch(() => null);
  if (reads && channels.value.has(channelId)) moveReceipts(channelId, reads);
}

/** Opens a channel: its latest page (or the page around `messageId`), presence, divider. */
export async function openChannel(channelId: Id, messageId?: Id): Promise<void> {
  const entry = channels.value.get(channelId);
  if (entry && entry.unread > 0 && !dividers.value.has(channelId)) put(dividers, channelId, entry.lastReadId);
  if (!watchLimitReached) client?.watch(channelId);
  void loadReads(channelId);
  const t = timeline(channelId);
  if (messageId) {
    if (t.value.messages.some((m) => m.id === messageId)) {
      t.value = { ...t.value, focus: messageId };
      return;
    }
    await loadPage(channelId, { around: messageId }, messageId);
    return;
  }
  if (!t.value.loaded && !t.value.loading) await loadPage(channelId, {});
}

async function loadPage(channelId: Id, anchor: { around: Id } | Record<string, never>, focus?: Id): Promise<void> {
  const t = timeline(channelId);
  t.value = { ...t.value, loading: true, hasMoreAfter: false };
  try {
    const page = await api.history(channelId, anchor, 50);
    const live = 'around' in anchor ? [] : t.value.messages;
    const merged = mergeMessages(live, page.messages);
    t.value = {
      messages: merged,
      loaded: true,
      loading: false,
      hasMoreBefore: page.has_more_before,
      hasMoreAfter: page.has_more_after,
      focus,
    };
    if (!page.has_more_after) {
      const last = merged[merged.length - 1];
      client?.cursors.track(channelId, last?.id ?? channels.value.get(channelId)?.channel.last_message_id ?? '0');
    }
  } catch (e) {
    t.value = { ...t.value, loading: false };
    notice.value = e instanceof ApiError ? e.message : 'Could not load messages.';
  }
}

/** Loads the page before the oldest held message. */
export async function loadOlder(channelId: Id): Promise<void> {
  const t = timeline(channelId);
  const first = t.value.messages[0];
  if (!first || t.value.loading || !t.value.hasMoreBefore) return;
  t.value = { ...t.value, loading: true };
  try {
    const page = await api.history(channelId, { before: first.id }, 50);
    t.value = {
      ...t.value, messages: mergeMessages(t.value.messages, page.messages), loading: false,
      hasMoreBefore: page.has_more_before, focus: undefined,
    };
  } catch {
    t.value = { ...t.value, loading: false };
  }
}

/** After a jump: loads the page after the newest held message. */
export async function loadNewer(channelId: Id): Promise<void> {
  const t = timeline(channelId);
  const last = t.value.messages[t.value.messages.length - 1];
  if (!last || t.value.loading || !t.value.hasMoreAfter) return;
  t.value = { ...t.value, loading: true };
  try {
    const page = await api.history(channelId, { after: last.id }, 50);
    t.value = {
      ...t.value, messages: mergeMessages(t.value.messages, page.messages), loading: false,
      hasMoreAfter: page.has_more_after, focus: undefined,
    };
    if (!page.has_more_after) {
      const newest = page.messages[page.messages.length - 1] ?? last;
      client?.cursors.track(channelId, newest.id);
    }
  } catch {
    t.value = { ...t.value, loading: false };
  }
}

/** Leaves a jump: back to the latest page. */
export async function jumpToLatest(channelId: Id): Promise<void> {
  const t = timeline(channelId);
  t.value = { ...t.value, messages: [], loaded: false, hasMoreAfter: false, focus: undefined };
  navigate({ name: 'channel', channelId });
  await loadPage(channelId, {});
}

/** Stops showing a channel: its presence watch ends (partners' stay). */
export function closeChannel(channelId: Id): void {
  drop(dividers, channelId);
  editing.value = null;
  const entry = channels.value.get(channelId);
  if (entry && entry.channel.kind === 'group') client?.unwatch(channelId);
}

const readSent = new Map<Id, Id>();
/** Moves the read position to the newest held message, if it is newer. */
export function markRead(channelId: Id): void {
  const t = timeline(channelId).value;
  const entry = channels.value.get(channelId);
  const last = t.messages[t.messages.length - 1];
  if (!entry || !last || t.hasMoreAfter) return;
  if (compareIds(last.id, entry.lastReadId) <= 0) return;
  const sent = readSent.get(channelId);
  if (sent !== undefined && compareIds(last.id, sent) <= 0 && client?.state === 'online') return;
  if (client?.read(channelId, last.id)) readSent.set(channelId, last.id);
}

/** Ephemeral messages kept per channel; older ones are dropped. */
const EPHEMERALS_KEPT = 50;

/**
 * Sends a message; `/name args` where `name` is a bot in the channel runs
 * that bot's command instead (not stored; its answer may be for this user
 * alone). Any other text starting with `/` is sent as it is.
 */
export function sendMessage(channelId: Id, text: string): void {
  drop(dividers, channelId);
  const bot = commandBot(channelId, text);
  if (bot) {
    api.runCommand(channelId, bot.name, bot.args).catch((e: unknown) => {
      notice.value = e instanceof ApiError ? `/${bot.name}: ${e.message}` : `/${bot.name} failed`;
    });
    return;
  }
  client?.send(channelId, text);
}

/** The command and its arguments if `text` is `/name args` for a bot member of the channel. */
export function commandBot(channelId: Id, text: string): { name: string; args: string } | null {
  const m = /^\/(\S+)(?:\s+([\s\S]*))?$/.exec(text.trim());
  if (!m) return null;
  const name = m[1].toLowerCase();
  const members = channels.value.get(channelId)?.channel.member_ids ?? [];
  const isBot = members.some((id) => {
    const u = users.value.get(id);
    return u?.bot_owner_id !== undefined && u.username.toLowerCase() === name;
  });
  return isBot ? { name, args: (m[2] ?? '').trim() } : null;
}

/** Hides an ephemeral message. */
export function dismissEphemeral(channelId: Id, id: Id): void {
  const list = ephemerals.value.get(channelId) ?? [];
  ephemerals.value = new Map(ephemerals.value).set(channelId, list.filter((e) => e.id !== id));
}

/** Whether the limit allows this text. */
export function tooLong(text: string): boolean {
  const max = limits.value?.max_text_chars;
  return max !== undefined && [...text].length > max;
}

let lastTyping = new Map<Id, number>();
/** Tells others the user types, at most every 2 s per channel. */
export function typingIn(channelId: Id): void {
  const now = Date.now();
  if (now - (lastTyping.get(channelId) ?? 0) < 2000) return;
  if (client?.typing(channelId)) lastTyping = new Map(lastTyping).set(channelId, now);
}

/** Replaces a message's text. */
export function editMessage(m: Message, text: string): boolean {
  return client?.edit(m.channel_id, m.id, text) ?? false;
}

/** Deletes a message. */
export function deleteMessage(m: Message): boolean {
  return client?.delete(m.channel_id, m.id) ?? false;
}

/** What the server accepts as a username prefix: 1 to 32 characters, no control character. */
function searchable(prefix: string): boolean {
  // eslint-disable-next-line no-control-regex
  return prefix.length > 0 && [...prefix].length <= 32 && !/[\u0000-\u001f\u007f-\u009f]/.test(prefix);
}

/** Users whose username starts with `prefix` (ignoring case); [] when none or on an error. */
export async function searchUsers(prefix: string, limit = 10): Promise<User[]> {
  if (!searchable(prefix)) return [];
  try {
    const found = await api.searchUsers(prefix, Math.min(50, limit));
    for (const u of found) put(users, u.id, u);
    return found;
  } catch (e) {
    // A server from before the directory search (no such route): the exact name only.
    if (e instanceof ApiError && e.code === 'not_found') {
      const u = await api.userByName(prefix).catch(() => null);
      if (u) put(users, u.id, u);
      return u ? [u] : [];
    }
    return [];
  }
}

function report(e: unknown): null {
  notice.value = e instanceof ApiError ? e.message : 'Something went wrong.';
  return null;
}

/** Opens (or finds) the 1:1 channel with a user and shows it. */
export async function startDirect(user: User): Promise<void> {
  const channel = await api.openDirect(user.id).catch(report);
  if (!channel) return;
  addChannel(channel);
  navigate({ name: 'channel', channelId: channel.id });
}

/** Creates a group and shows it. */
export async function createGroup(name: string, memberIds: Id[]): Promise<boolean> {
  const channel = await api.createGroup(name, memberIds).catch(report);
  if (!channel) return false;
  addChannel(channel);
  navigate({ name: 'channel', channelId: channel.id });
  return true;
}

function addChannel(channel: Channel): void {
  if (!channels.value.has(channel.id)) {
    put(channels, channel.id, { channel, lastReadId: '0', unread: 0, mentions: 0 });
  }
  void ensureUsers(channel.member_ids);
}

/** Adds a member to a group. */
export async function addMember(channelId: Id, user: User): Promise<void> {
  const c = await api.addMember(channelId, user.id).catch(report);
  if (c) addChannel(c);
}

/** Removes a member from a group. */
export async function removeMember(channelId: Id, userId: Id): Promise<void> {
  await api.removeMember(channelId, userId).catch(report);
}

/** Leaves a group. */
export async function leaveGroup(channelId: Id): Promise<void> {
  const mine = me.value?.id;
  if (!mine) return;
  const left = await api.removeMember(channelId, mine).then(() => true).catch(report);
  if (left) forgetChannel(channelId);
}

/** Acts on a relationship. */
export async function relate(userId: Id, action: Parameters<Api['relate']>[1]): Promise<void> {
  const r = await api.relate(userId, action).catch(report);
  if (r) applyRelationship(r);
}

/** Saves the profile. */
export async function saveProfile(patch: Parameters<Api['updateProfile']>[0]): Promise<boolean> {
  const u = await api.updateProfile(patch).catch(report);
  if (!u) return false;
  put(users, u.id, u);
  me.value = u;
  const s = JSON.parse(sessionStorage.getItem('chat.session') ?? 'null') as Session | null;
  if (s) signIn({ ...s, user: u });
  return true;
}

/** Saves settings. */
export async function saveSettings(patch: Parameters<Api['updateSettings']>[0]): Promise<Settings | null> {
  const s = await api.updateSettings(patch).catch(report);
  if (s) settings.value = s;
  return s;
}

/**
 * Turns on push notifications for this browser: asks for permission,
 * registers the service worker, subscribes with the server's VAPID key and
 * registers the subscription. Resolves to `null` when on, else to why not
 * (the browser's own words when it refuses).
 */
export async function enablePush(): Promise<string | null> {
  if (!('serviceWorker' in navigator) || typeof PushManager === 'undefined') {
    return 'This browser has no push notifications.';
  }
  const permission = await Notification.requestPermission();
  if (permission !== 'granted') return 'Notifications are blocked in this browser.';
  try {
    await navigator.serviceWorker.register('/sw.js');
    const registration = await navigator.serviceWorker.ready;
    const { web_push_public_key: key } = await api.pushConfig();
    const subscription = (await registration.pushManager.getSubscription())
      ?? (await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: base64url(key) }));
    await api.registerPush(subscription.toJSON());
    return null;
  } catch (e) {
    return `Push notifications could not be turned on: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`;
  }
}

/** The bytes of base64url `text`. */
function base64url(text: string): Uint8Array<ArrayBuffer> {
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/');
  const raw = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}

/** Mutes or unmutes a channel. */
export function setMuted(channelId: Id, muted: boolean): Promise<Settings | null> {
  return saveSettings(muted ? { mute: [channelId] } : { unmute: [channelId] });
}
