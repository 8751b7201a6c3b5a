//! The core's settings.

use serde::{Deserialize, Serialize};

use crate::accounts::PasswordCost;
use crate::ids::MAX_NODE_ID;

/// The hard ceiling for `max_group_members`.
pub const GROUP_MEMBERS_CEILING: usize = 500;

/// Limits and tuning of the core.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CoreConfig {
    /// This node's id inside message ids (0 to 1023); unique per core node.
    pub node_id: u16,
    /// Most members a group channel may have (at most 500).
    pub max_group_members: usize,
    /// Longest message text, in Unicode characters.
    pub max_text_chars: usize,
    /// Most messages one history page may hold.
    pub max_history_page: usize,
    /// Most messages written in one storage transaction (group commit).
    pub append_batch_max: usize,
    /// Messages that may wait for the writer before senders get `overloaded`.
    pub append_queue: usize,
    /// How long a user whose connection dropped stays online, from their
    /// last heartbeat, so a brief network drop does not flap their status.
    pub presence_grace_ms: u64,
    /// How long a typing indicator lasts unless renewed.
    pub typing_expiry_ms: u32,
    /// Channels up to this many members share everyone's read positions.
    pub receipts_max_members: usize,
    /// Channels one session may watch the presence of at once.
    pub max_watched_channels: usize,
    /// Argon2id memory per new password hash, KiB (default 19 MiB). Lower it
    /// only for load tests that sign up many users.
    pub password_memory_kib: u32,
    /// Argon2id passes per new password hash (default 2).
    pub password_iterations: u32,
}

impl Default for CoreConfig {
    fn default() -> Self {
        Self {
            node_id: 1,
            max_group_members: 100,
            max_text_chars: 100_000,
            max_history_page: 100,
            append_batch_max: 512,
            append_queue: 16_384,
            presence_grace_ms: 30_000,
            typing_expiry_ms: 5_000,
            receipts_max_members: 20,
            max_watched_channels: 100,
            password_memory_kib: PasswordCost::default().memory_kib,
            password_iterations: PasswordCost::default().iterations,
        }
    }
}

impl CoreConfig {
    /// The work factors for new password hashes.
    pub fn password_cost(&self) -> PasswordCost {
        PasswordCost {
            memory_kib: self.password_memory_kib,
            iterations: self.password_iterations,
        }
    }

    /// Checks the values against their allowed ranges.
    pub fn validate(&self) -> Result<(), String> {
        if self.node_id > MAX_NODE_ID {
            return Err(format!("core.node_id must be at most {MAX_NODE_ID}"));
        }
        if !(2..=GROUP_MEMBERS_CEILING).contains(&self.max_group_members) {
            return Err(format!(
                "core.max_group_members must be between 2 and {GROUP_MEMBERS_CEILING}"
            ));
        }
        if self.max_text_chars == 0 || self.max_history_page == 0 {
            return Err("core.max_text_chars and core.max_history_page must be positive".into());
        }
        if self.append_batch_max == 0 || self.append_queue == 0 {
            return Err("core.append_batch_max and core.append_queue must be positive".into());
        }
        if self.password_memory_kib < 8 || self.password_iterations == 0 {
            return Err(
                "core.password_memory_kib must be at least 8 and core.password_iterations positive"
                    .into(),
            );
        }
        if self.typing_expiry_ms == 0 || self.max_watched_channels == 0 {
            return Err(
                "core.typing_expiry_ms and core.max_watched_channels must be positive".into(),
            );
        }
        Ok(())
    }
}
