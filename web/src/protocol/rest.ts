// The REST API (docs/protocol.md, "REST"), one method per call the client
// makes. Errors become ApiError with the server's stable code.
import type { Id } from './ids';
import type { Channel, Message, ReadPosition, Relationship, Settings, User } from './types';

/** A refused call: HTTP status plus the server's error code. */
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly retryAfterMs?: number) {
    super(message);
  }
}

/** A signed-in session, as signup and login return it. */
export interface Auth {
  user: User;
  token: string;
}

/** One page of history. */
export interface Page {
  messages: Message[];
  has_more_before: boolean;
  has_more_after: boolean;
}

/** Where a page of history starts. */
export type Anchor = { before: Id } | { after: Id } | { around: Id } | Record<string, never>;

/** The REST client of one signed-in user (or of nobody, for signup and login). */
export class Api {
  constructor(
    private readonly token: string | null,
    private readonly onSignedOut: () => void = () => {},
    private readonly fetchFn: typeof fetch = (...a) => fetch(...a),
  ) {}

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = {};
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let resp: Response;
    try {
      resp = await this.fetchFn(path, {
        method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new ApiError(0, 'unreachable', 'the server cannot be reached');
    }
    const text = await resp.text();
    const json = text ? safeJson(text) : null;
    if (!resp.ok) {
      const err = (json as { error?: { code?: string; message?: string; retry_after_ms?: number } } | null)?.error;
      const code = err?.code ?? 'http_' + resp.status;
      if (resp.status === 401 && this.token && (code === 'invalid_token' || code === 'missing_token')) {
        this.onSignedOut();
      }
      throw new ApiError(resp.status, code, err?.message ?? resp.statusText, err?.retry_after_ms);
    }
    return json as T;
  }

  /** Creates an account and signs it in. */
  signup(username: string, password: string): Promise<Auth> {
    return this.call('POST', '/api/v1/auth/signup', { username, password, device: deviceName() });
  }

  /** Signs in: a new token for this tab. */
  login(username: string, password: string): Promise<Auth> {
    return this.call('POST', '/api/v1/auth/login', { username, password, device: deviceName() });
  }

  /** Ends this tab's token. */
  logout(): Promise<void> {
    return this.call('POST', '/api/v1/auth/logout');
  }

  /** The signed-in user. */
  me(): Promise<User> {
    return this.call('GET', '/api/v1/users/me');
  }

  /** Ends every session of the caller, this one included. */
  logoutAll(): Promise<void> {
    return this.call('POST', '/api/v1/auth/logout-all');
  }

  /** A user by id. */
  user(id: Id): Promise<User> {
    return this.call('GET', `/api/v1/users/${encodeURIComponent(id)}`);
  }

  /** A user by exact username (ignoring case). */
  userByName(name: string): Promise<User> {
    return this.call('GET', `/api/v1/users/by-name/${encodeURIComponent(name)}`);
  }

  /** Users whose username starts with `prefix` (ignoring case), by username; the caller may be among them. */
  async searchUsers(prefix: string, limit = 10): Promise<User[]> {
    const q = new URLSearchParams({ prefix, limit: String(limit) });
    return (await this.call<{ users: User[] }>('GET', `/api/v1/users?${q}`)).users;
  }

  /** Changes the caller's profile; absent fields stay. */
  updateProfile(patch: Partial<Pick<User, 'display_name' | 'status_text' | 'avatar_url'>>): Promise<User> {
    return this.call('PATCH', '/api/v1/users/me', patch);
  }

  /** Changes the caller's settings. */
  updateSettings(patch: { notifications?: Settings['notifications']; mute?: Id[]; unmute?: Id[]; invisible?: boolean }): Promise<Settings> {
    return this.call('PATCH', '/api/v1/users/me/settings', patch);
  }

  /** Friends, requests and blocks. */
  async relationships(): Promise<Relationship[]> {
    return (await this.call<{ relationships: Relationship[] }>('GET', '/api/v1/relationships')).relationships;
  }

  /** Acts on the relationship with another user. */
  relate(userId: Id, action: 'request' | 'accept' | 'decline' | 'remove' | 'block' | 'unblock'): Promise<Relationship> {
    return this.call('POST', `/api/v1/relationships/${encodeURIComponent(userId)}`, { action });
  }

  /** Opens (or finds) the 1:1 channel with a user. */
  openDirect(userId: Id): Promise<Channel> {
    return this.call('POST', '/api/v1/channels/direct', { user_id: userId });
  }

  /** A channel of the caller's. */
  channel(channelId: Id): Promise<Channel> {
    return this.call('GET', `/api/v1/channels/${channelId}`);
  }

  /** Creates a group with the caller as owner. */
  createGroup(name: string, memberIds: Id[]): Promise<Channel> {
    return this.call('POST', '/api/v1/channels', { name, member_ids: memberIds });
  }

  /** Renames a group. */
  renameGroup(channelId: Id, name: string): Promise<Channel> {
    return this.call('PATCH', `/api/v1/channels/${channelId}`, { name });
  }

  /** Adds a member to a group. */
  addMember(channelId: Id, userId: Id): Promise<Channel> {
    return this.call('PUT', `/api/v1/channels/${channelId}/members/${userId}`);
  }

  /** Removes a member from a group (the caller's own id: leave). */
  removeMember(channelId: Id, userId: Id): Promise<Channel> {
    return this.call('DELETE', `/api/v1/channels/${channelId}/members/${userId}`);
  }

  /** One page of a channel's history, oldest first. */
  history(channelId: Id, anchor: Anchor, limit = 50): Promise<Page> {
    const q = new URLSearchParams({ limit: String(limit) });
    for (const [k, v] of Object.entries(anchor)) q.set(k, v);
    return this.call('GET', `/api/v1/channels/${channelId}/messages?${q}`);
  }

  /** The read positions of a small channel's members (`409 receipts_off` above the limit). */
  async reads(channelId: Id): Promise<ReadPosition[]> {
    return (await this.call<{ reads: ReadPosition[] }>('GET', `/api/v1/channels/${channelId}/reads`)).reads;
  }

  /** Moves the caller's read position. */
  markRead(channelId: Id, messageId: Id): Promise<{ unread_count: number; mention_count: number; last_read_id: Id }> {
    return this.call('PUT', `/api/v1/channels/${channelId}/read`, { message_id: messageId });
  }

  /** The key browsers subscribe to Web Push with. */
  pushConfig(): Promise<{ web_push_public_key: string }> {
    return this.call('GET', '/api/v1/push/config');
  }

  /** Runs a slash command: `/command args` goes to the channel's bot of that name. */
  runCommand(channelId: Id, command: string, args: string): Promise<{ command_id: Id }> {
    return this.call('POST', `/api/v1/channels/${channelId}/commands`, { command, args });
  }

  /** Registers this browser's push subscription (`PushSubscription.toJSON()`). */
  registerPush(subscription: PushSubscriptionJSON): Promise<{ id: Id }> {
    return this.call('POST', '/api/v1/users/me/push-targets', { kind: 'web_push', ...subscription });
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** A short name of this browser for the session list. */
function deviceName(): string {
  const ua = typeof navigator === 'undefined' ? 'browser' : navigator.userAgent;
  const browser = /Firefox\//.test(ua) ? 'Firefox' : /Edg\//.test(ua) ? 'Edge'
    : /Chrom(e|ium)\//.test(ua) ? 'Chromium' : /Safari\//.test(ua) ? 'Safari' : 'Browser';
  return `${browser} (web)`;
}
