// The objects of the wire protocol, as docs/protocol.md ("Objects") defines them.
import type { Id } from './ids';

/** A user's public profile. */
export interface User {
  id: Id;
  username: string;
  created_at_ms: number;
  display_name: string;
  status_text: string;
  avatar_url: string;
  /** For a bot, the user who owns it; absent for a person. */
  bot_owner_id?: Id;
}

/** A bot's message for this user alone: shown once, never stored. */
export interface Ephemeral {
  id: Id;
  channel_id: Id;
  sender_id: Id;
  text: string;
  created_at_ms: number;
  command_id?: Id;
}

/** A direct (1:1) or group channel. */
export interface Channel {
  id: Id;
  kind: 'direct' | 'group';
  name: string;
  owner_id: Id;
  member_ids: Id[];
  admin_ids: Id[];
  created_at_ms: number;
  last_message_id: Id;
}

/** Where `mentions` point into a message's text (offsets in code points). */
export interface Mention {
  user_id: Id;
  offset: number;
  length: number;
}

/** A message; an edit or delete gives it a larger `version_id`. */
export interface Message {
  id: Id;
  channel_id: Id;
  sender_id: Id;
  text: string;
  client_msg_id?: string;
  created_at_ms: number;
  edited_at_ms?: number;
  version_id?: Id;
  deleted?: boolean;
  deleted_by?: Id;
  mentions?: Mention[];
}

/** The user's settings, shared by their devices. */
export interface Settings {
  notifications: 'all' | 'mentions' | 'none';
  muted_channel_ids: Id[];
  invisible: boolean;
}

/** Whether a user is online, and when they were last seen. */
export interface Presence {
  user_id: Id;
  status: 'online' | 'offline';
  last_active_at_ms: number;
}

/** The caller's relationship with another user. */
export interface Relationship {
  user: User;
  kind: 'friend' | 'incoming' | 'outgoing' | 'blocked' | 'none';
  since_ms: number;
  presence?: Presence;
}

/** A channel's newest message that is not deleted, as `ready` carries it (text cut to 200 characters). */
export interface LastMessage {
  id: Id;
  sender_id: Id;
  text: string;
  text_truncated?: boolean;
  created_at_ms: number;
  edited_at_ms?: number;
}

/** A channel as `ready` lists it, with the user's read state. */
export interface ChannelState {
  channel: Channel;
  last_read_id: Id;
  unread_count: number;
  mention_count: number;
  /** Absent when the channel has no message that is not deleted. */
  last_message?: LastMessage;
}

/** A member's read position, as `GET .../reads` lists them. */
export interface ReadPosition {
  user_id: Id;
  last_read_id: Id;
}

/** The server's limits, from `ready`: never hard-coded in the client. */
export interface Limits {
  max_text_chars: number;
  max_frame_bytes: number;
  /** Channels of at most this many members have read receipts (absent from older servers). */
  receipts_max_members?: number;
  [key: string]: number | undefined;
}
