// Frame codec: client frames to JSON text, JSON text to typed server frames.
// Decoding never throws: a frame that cannot be read is reported as such,
// and a frame of a type this client does not know is skipped (a newer
// server may send more), as the protocol asks of clients.
import type { Id } from './ids';
import type {
  Channel, ChannelState, Ephemeral, Limits, Message, Presence, Relationship, Settings, User,
} from './types';

/** Every frame the client sends. */
export type ClientFrame =
  | { type: 'hello'; token: string; cursors?: Record<Id, Id> }
  | { type: 'send'; channel_id: Id; client_msg_id: string; text: string }
  | { type: 'read'; channel_id: Id; message_id: Id }
  | { type: 'typing'; channel_id: Id }
  | { type: 'edit'; channel_id: Id; message_id: Id; text: string }
  | { type: 'delete'; channel_id: Id; message_id: Id }
  | { type: 'watch_presence'; channel_id: Id }
  | { type: 'unwatch_presence'; channel_id: Id }
  | { type: 'ping'; nonce?: string };

/** The `ready` frame: the user, limits, settings and every channel. */
export interface Ready {
  type: 'ready';
  session_id: string;
  user: User;
  heartbeat_interval_ms: number;
  limits: Limits;
  settings: Settings;
  channels: ChannelState[];
  /** Profiles the channel list shows (1:1 peers, last authors); absent from older servers. */
  users?: User[];
}

/** What changed about a channel, in a `channel` frame. */
export type ChannelChange =
  | 'created' | 'member_added' | 'member_removed' | 'renamed'
  | 'role_changed' | 'owner_changed' | 'deleted';

/** Every frame the server sends that this client understands. */
export type ServerFrame =
  | Ready
  | { type: 'synced'; messages: number; changes: number }
  | { type: 'ack'; client_msg_id: string; duplicate: boolean; message: Message }
  | { type: 'message'; message: Message }
  | { type: 'message_edited'; message: Message }
  | { type: 'message_deleted'; message: Message }
  | { type: 'channel'; change: ChannelChange; channel: Channel; user_id?: Id; actor_id?: Id }
  | { type: 'read'; channel_id: Id; user_id: Id; last_read_id: Id; unread_count?: number; mention_count?: number }
  | { type: 'typing'; channel_id: Id; user_id: Id; expires_in_ms: number }
  | { type: 'presence_list'; channel_id: Id; presence: Presence[] }
  | { type: 'presence'; user_id: Id; status: Presence['status']; last_active_at_ms: number }
  | { type: 'profile'; user: User }
  | { type: 'settings'; settings: Settings }
  | { type: 'relationship'; relationship: Relationship }
  | ({ type: 'ephemeral' } & Ephemeral)
  | { type: 'error'; code: string; message: string; client_msg_id?: string; channel_id?: Id; message_id?: Id }
  | { type: 'resync'; channel_id: Id; after_message_id: Id }
  | { type: 'reconnect'; alternatives: string[]; reason: string }
  | { type: 'pong'; nonce?: string };

/** The result of decoding one text frame. */
export type Decoded =
  | { ok: true; frame: ServerFrame }
  | { ok: false; reason: 'malformed' | 'unknown_type'; detail: string };

/** The JSON text of a client frame. */
export function encode(frame: ClientFrame): string {
  return JSON.stringify(frame);
}

/** Which fields each known frame type needs, and of what JSON type. */
const REQUIRED: Record<ServerFrame['type'], Record<string, 'string' | 'object' | 'number'>> = {
  ready: { user: 'object', limits: 'object', settings: 'object', channels: 'object', heartbeat_interval_ms: 'number' },
  synced: {},
  ack: { client_msg_id: 'string', message: 'object' },
  message: { message: 'object' },
  message_edited: { message: 'object' },
  message_deleted: { message: 'object' },
  channel: { change: 'string', channel: 'object' },
  read: { channel_id: 'string', user_id: 'string', last_read_id: 'string' },
  typing: { channel_id: 'string', user_id: 'string' },
  presence_list: { channel_id: 'string', presence: 'object' },
  presence: { user_id: 'string', status: 'string' },
  profile: { user: 'object' },
  settings: { settings: 'object' },
  relationship: { relationship: 'object' },
  ephemeral: { id: 'string', channel_id: 'string', sender_id: 'string', text: 'string' },
  error: { code: 'string' },
  resync: { channel_id: 'string', after_message_id: 'string' },
  reconnect: { alternatives: 'object', reason: 'string' },
  pong: {},
};

function isMessage(v: unknown): v is Message {
  const m = v as Message;
  return typeof m === 'object' && m !== null && typeof m.id === 'string'
    && typeof m.channel_id === 'string' && typeof m.text === 'string';
}

/** Reads one text frame from the server. */
export function decode(text: string): Decoded {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { ok: false, reason: 'malformed', detail: String(e) };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, reason: 'malformed', detail: 'not a JSON object' };
  }
  const obj = value as Record<string, unknown>;
  const type = obj.type;
  if (typeof type !== 'string') return { ok: false, reason: 'malformed', detail: 'no type' };
  if (!Object.hasOwn(REQUIRED, type)) return { ok: false, reason: 'unknown_type', detail: type };
  for (const [field, kind] of Object.entries(REQUIRED[type as ServerFrame['type']])) {
    const got = obj[field];
    if (typeof got !== kind || got === null) {
      return { ok: false, reason: 'malformed', detail: `${type}: ${field} is not a ${kind}` };
    }
  }
  if ('message' in REQUIRED[type as ServerFrame['type']] && !isMessage(obj.message)) {
    return { ok: false, reason: 'malformed', detail: `${type}: message lacks id, channel_id or text` };
  }
  return { ok: true, frame: obj as unknown as ServerFrame };
}
