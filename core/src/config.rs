//! The core's settings.

use serde::{Deserialize, Serialize};

use crate::accounts::PasswordCost;
use crate::ids::MAX_NODE_ID;
use crate::login_guard::GuardRule;
use crate::push::{PushConfig, VapidKey};

/// The hard ceiling for `max_group_members`.
pub const GROUP_MEMBERS_CEILING: usize = 500;

const HOUR_MS: u64 = 3_600_000;
const DAY_MS: u64 = 24 * HOUR_MS;

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
    /// Events queued for one edge before it counts as too slow and its
    /// stream is ended (it resumes from its cursors).
    pub edge_queue: usize,
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
    /// How long a token works after its last use (sliding expiry), in ms.
    pub token_ttl_ms: u64,
    /// A use extends a token's life at most this often (each extension is
    /// a write), in ms.
    pub token_touch_ms: u64,
    /// Principals (token → user) the core keeps in memory, so calls on
    /// behalf of a user need no storage read for their token.
    pub principal_cache_size: u64,
    /// Longest a cached principal is trusted before storage is asked
    /// again, in ms. Revocations in this core drop it at once.
    pub principal_cache_ttl_ms: u64,
    /// Failed logins for one account before they are delayed.
    pub login_free_failures_per_account: u32,
    /// Failed logins from one client address before they are delayed.
    pub login_free_failures_per_address: u32,
    /// The first delay after the free failures; it doubles with each
    /// further failure, in ms.
    pub login_delay_base_ms: u64,
    /// The longest delay between login attempts, in ms.
    pub login_delay_max_ms: u64,
    /// Failures are forgotten after this long without another, in ms.
    pub login_failure_window_ms: u64,
    /// Push notifications (`core.push.*`).
    pub push: PushConfig,
    /// Bot accounts one user may own.
    pub max_bots_per_user: usize,
    /// Messages (and ephemeral answers) a bot may send per second, sustained.
    pub bot_messages_per_second: u32,
    /// How many a bot may send at once before that rate applies.
    pub bot_messages_burst: u32,
    /// Whether bots' webhooks may point at loopback, private, link-local
    /// or other non-public addresses (off: the core is not a way into the
    /// network it runs in).
    pub webhook_allow_private_addresses: bool,
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
            edge_queue: 65_536,
            presence_grace_ms: 30_000,
            typing_expiry_ms: 5_000,
            receipts_max_members: 20,
            max_watched_channels: 100,
            password_memory_kib: PasswordCost::default().memory_kib,
            password_iterations: PasswordCost::default().iterations,
            token_ttl_ms: 30 * DAY_MS,
            token_touch_ms: HOUR_MS,
            principal_cache_size: 100_000,
            principal_cache_ttl_ms: 60_000,
            login_free_failures_per_account: 5,
            login_free_failures_per_address: 20,
            login_delay_base_ms: 1_000,
            login_delay_max_ms: 15 * 60_000,
            login_failure_window_ms: HOUR_MS,
            push: PushConfig::default(),
            max_bots_per_user: 10,
            bot_messages_per_second: 5,
            bot_messages_burst: 20,
            webhook_allow_private_addresses: false,
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

    /// The rule for failed logins of one account.
    pub fn account_guard(&self) -> GuardRule {
        GuardRule {
            free: self.login_free_failures_per_account,
            base_ms: self.login_delay_base_ms,
            max_ms: self.login_delay_max_ms,
        }
    }

    /// The rule for failed logins from one client address.
    pub fn address_guard(&self) -> GuardRule {
        GuardRule {
            free: self.login_free_failures_per_address,
            ..self.account_guard()
        }
    }

    /// Checks the values against their allowed ranges.
    pub fn validate(&self) -> Result<(), String> {
        if self.token_ttl_ms == 0 || self.token_touch_ms > self.token_ttl_ms {
            return Err(
                "core.token_ttl_ms must be positive and at least core.token_touch_ms".into(),
            );
        }
        if self.login_delay_base_ms == 0
            || self.login_delay_max_ms < self.login_delay_base_ms
            || self.login_failure_window_ms == 0
        {
            return Err("core.login_delay_base_ms must be positive, at most \
                 core.login_delay_max_ms, and core.login_failure_window_ms positive"
                .into());
        }
        if self.principal_cache_size == 0 || self.principal_cache_ttl_ms == 0 {
            return Err(
                "core.principal_cache_size and core.principal_cache_ttl_ms must be positive".into(),
            );
        }
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
        if self.edge_queue < 16 {
            return Err("core.edge_queue must be at least 16".into());
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
        if self.bot_messages_per_second == 0 || self.bot_messages_burst == 0 {
            return Err(
                "core.bot_messages_per_second and core.bot_messages_burst must be positive".into(),
            );
        }
        let push = &self.push;
        if push.max_targets_per_user == 0 {
            return Err("core.push.max_targets_per_user must be positive".into());
        }
        if !(push.vapid_subject.starts_with("mailto:") || push.vapid_subject.starts_with("https:"))
        {
            return Err("core.push.vapid_subject must be a mailto: or https: URL".into());
        }
        if !push.vapid_private_key.is_empty()
            && let Err(e) = VapidKey::from_base64(&push.vapid_private_key)
        {
            return Err(format!("core.push.vapid_private_key: {e}"));
        }
        if push.concurrency == 0 || push.poll_ms == 0 || push.request_timeout_ms == 0 {
            return Err(
                "core.push.concurrency, poll_ms and request_timeout_ms must be positive".into(),
            );
        }
        if push.retry_base_ms == 0 || push.retry_max_ms < push.retry_base_ms {
            return Err("core.push.retry_base_ms must be positive and at most retry_max_ms".into());
        }
        if push.claim_ms <= push.request_timeout_ms {
            return Err(
                "core.push.claim_ms must exceed request_timeout_ms: a try in \
                        flight must not be taken again"
                    .into(),
            );
        }
        Ok(())
    }
}
