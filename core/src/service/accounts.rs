//! Signup, login, logout and token checks.

use chat_proto::v1 as pb;
use chat_proto::v1::event;

use super::{CoreService, now_ms};
use crate::accounts::{self, USERNAME_MAX, token_hash};
use crate::convert;
use crate::error::CoreError;
use crate::store::{Id, Store, StoreError, TokenFilter, TokenRecord, UserRecord};

/// Longest device name, in characters.
pub const DEVICE_MAX: usize = 64;

/// Most users one search returns.
pub const SEARCH_LIMIT_MAX: u32 = 50;
/// Most users one `GetUsers` asks for.
pub const GET_USERS_MAX: usize = 1000;
/// Users read from storage at once for one `GetUsers`.
const USER_READS: usize = 16;

/// Who asks for a token, and from where.
#[derive(Debug, Clone, Default)]
pub struct Client {
    /// A name for the device, shown in the session list; may be empty.
    pub device: String,
    /// The network address the edge saw, for login limits; may be empty.
    pub addr: String,
}

pub(super) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, CoreError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| CoreError::Overloaded)
}

fn check_device(device: &str) -> Result<(), CoreError> {
    if device.is_empty() {
        return Ok(());
    }
    chat_proto::rules::check_name(device, DEVICE_MAX)
        .map_err(|fault| CoreError::invalid("invalid_device", fault.describe("device")))
}

/// The key failed logins of `username` are counted under.
fn account_key(username: &str) -> String {
    username.to_lowercase()
}

impl<S: Store> CoreService<S> {
    /// Creates an account and logs it in.
    pub async fn signup(
        &self,
        username: &str,
        password: &str,
        client: Client,
    ) -> Result<pb::AuthReply, CoreError> {
        accounts::validate_username(username)?;
        accounts::validate_password(password)?;
        check_device(&client.device)?;
        if self.store.user_by_name(username).await?.is_some() {
            return Err(CoreError::UsernameTaken);
        }
        let password = password.to_owned();
        let cost = self.config.password_cost();
        let password_hash = blocking(move || accounts::hash_password(&password, cost)).await??;
        let user = UserRecord::new(self.next_id(), username.to_owned(), password_hash, now_ms());
        match self.store.create_user(user.clone()).await {
            Err(StoreError::Conflict(_)) => return Err(CoreError::UsernameTaken),
            other => other?,
        }
        // Edges' autocomplete answers for the prefixes of the name are stale.
        self.metadata_changed(vec![convert::user(&user)], Vec::new())
            .await;
        self.issue_token(&user, client.device).await
    }

    /// Waits out the login guard for `username` from `addr`, then checks
    /// `password` against the stored hash (or a decoy, for an unknown user).
    /// A failure counts against both.
    pub(super) async fn check_password(
        &self,
        username: &str,
        password: &str,
        addr: &str,
    ) -> Result<UserRecord, CoreError> {
        let key = account_key(username);
        if let Some(wait) = self.guard.wait(&key, addr, now_ms()).await {
            metrics::counter!("chat_login_delayed_total").increment(1);
            return Err(CoreError::TooManyAttempts {
                retry_after_ms: u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
            });
        }
        let user = self.store.user_by_name(username).await?;
        let stored = user
            .as_ref()
            .map(|u| u.password_hash.clone())
            .unwrap_or_else(|| accounts::decoy_hash(self.config.password_cost()).to_owned());
        let password = password.to_owned();
        let ok = blocking(move || accounts::verify_password(&password, &stored)).await?;
        match user {
            Some(user) if ok => {
                self.guard.succeeded(&key).await;
                Ok(user)
            }
            _ => {
                metrics::counter!("chat_login_failures_total").increment(1);
                self.guard.failed(&key, addr, now_ms()).await;
                Err(CoreError::InvalidCredentials)
            }
        }
    }

    /// Checks credentials and issues a new token.
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        client: Client,
    ) -> Result<pb::AuthReply, CoreError> {
        check_device(&client.device)?;
        let user = self
            .check_password(username, password, &client.addr)
            .await?;
        // A login is a good moment to forget the user's dead tokens.
        self.store
            .delete_tokens(user.id, TokenFilter::ExpiredBy(now_ms()))
            .await?;
        self.issue_token(&user, client.device).await
    }

    fn ttl_ms(&self) -> i64 {
        i64::try_from(self.config.token_ttl_ms).unwrap_or(i64::MAX)
    }

    pub(super) async fn issue_token(
        &self,
        user: &UserRecord,
        device: String,
    ) -> Result<pb::AuthReply, CoreError> {
        let token = accounts::new_token();
        let now = now_ms();
        let record = TokenRecord {
            id: self.next_id(),
            hash: token_hash(&token),
            user_id: user.id,
            created_at_ms: now,
            device,
            last_used_at_ms: now,
            expires_at_ms: now.saturating_add(self.ttl_ms()),
        };
        self.store.insert_token(record.clone()).await?;
        Ok(pb::AuthReply {
            user: Some(convert::user(user)),
            token,
            info: Some(convert::token(&record)),
        })
    }

    /// Revokes a token and closes the sessions that use it.
    pub async fn logout(&self, token: &str) -> Result<(), CoreError> {
        let record = self
            .store
            .delete_token(token_hash(token))
            .await?
            .ok_or(CoreError::InvalidToken)?;
        self.revoked(record.user_id, &[record]).await;
        Ok(())
    }

    /// Tells the edges to close the sessions opened with `tokens`.
    pub(super) async fn revoked(&self, user: Id, tokens: &[TokenRecord]) {
        if tokens.is_empty() {
            return;
        }
        // Storage no longer holds them: no call may pass on a cached copy.
        let hashes: Vec<_> = tokens.iter().map(|t| t.hash).collect();
        self.principals.revoke(&hashes).await;
        let kind = event::Kind::TokenRevoked(pb::TokenRevoked {
            token_ids: tokens.iter().map(|t| t.id).collect(),
        });
        self.hub.publish(&[user], kind).await;
    }

    /// The live token `token`, used now: an expired one is deleted (and
    /// its sessions closed), a live one's life is extended when its last
    /// extension is older than the touch interval, or always with `force`.
    pub(super) async fn use_token(
        &self,
        token: &str,
        force: bool,
    ) -> Result<TokenRecord, CoreError> {
        let mut record = self
            .store
            .token_by_hash(token_hash(token))
            .await?
            .ok_or(CoreError::InvalidToken)?;
        let now = now_ms();
        if record.expires_at_ms != 0 && record.expires_at_ms <= now {
            if let Some(dead) = self.store.delete_token(record.hash).await? {
                self.revoked(dead.user_id, &[dead]).await;
            }
            return Err(CoreError::InvalidToken);
        }
        if force || self.touch_due(record.expires_at_ms, now) {
            let expires = now.saturating_add(self.ttl_ms());
            self.store.touch_token(record.id, now, expires).await?;
            record.last_used_at_ms = now;
            record.expires_at_ms = expires;
        }
        Ok(record)
    }

    /// Whether a use at `now` of a token expiring at `expires_at_ms` must
    /// reach storage: to extend its life (last extended a touch interval
    /// ago or more), or because it has expired.
    pub(super) fn touch_due(&self, expires_at_ms: i64, now: i64) -> bool {
        let touch = i64::try_from(self.config.token_touch_ms).unwrap_or(i64::MAX);
        expires_at_ms == 0 || now.saturating_add(self.ttl_ms()) - expires_at_ms >= touch
    }

    /// The user a token belongs to; the use extends the token's life.
    pub async fn authenticate(&self, token: &str) -> Result<pb::Principal, CoreError> {
        let record = self.use_token(token, false).await?;
        let user = self
            .store
            .user_by_id(record.user_id)
            .await?
            .ok_or(CoreError::InvalidToken)?;
        Ok(pb::Principal {
            user: Some(convert::user(&user)),
            token_id: record.id,
            expires_at_ms: record.expires_at_ms,
        })
    }

    /// Up to `limit` users whose username starts with `prefix`,
    /// case-insensitively, ascending by username.
    pub async fn search_users(&self, prefix: &str, limit: u32) -> Result<pb::UserList, CoreError> {
        let chars = prefix.chars().count();
        if chars == 0 || chars > USERNAME_MAX || prefix.chars().any(char::is_control) {
            return Err(CoreError::invalid(
                "invalid_prefix",
                format!(
                    "prefix must be 1 to {USERNAME_MAX} characters, none of them a control character"
                ),
            ));
        }
        if !(1..=SEARCH_LIMIT_MAX).contains(&limit) {
            return Err(CoreError::invalid(
                "invalid_limit",
                format!("limit must be between 1 and {SEARCH_LIMIT_MAX}"),
            ));
        }
        let key = prefix.to_lowercase();
        // No username holds other characters, so nobody can match.
        if !key.chars().all(accounts::username_char) {
            return Ok(pb::UserList { users: Vec::new() });
        }
        let users = self.store.users_by_prefix(&key, limit as usize).await?;
        Ok(pb::UserList {
            users: users.iter().map(convert::user).collect(),
        })
    }

    /// A user by id or username.
    pub async fn get_user(
        &self,
        key: Option<pb::get_user_request::Key>,
    ) -> Result<pb::User, CoreError> {
        use pb::get_user_request::Key;
        let user = match key {
            Some(Key::Id(id)) => self.store.user_by_id(id).await?,
            Some(Key::Username(name)) => self.store.user_by_name(&name).await?,
            None => None,
        };
        user.map(|u| convert::user(&u))
            .ok_or(CoreError::UserNotFound)
    }

    /// The users of `ids` (at most [`GET_USERS_MAX`]) that exist, in the
    /// order asked, each once.
    pub async fn get_users(&self, ids: &[Id]) -> Result<pb::UserList, CoreError> {
        if ids.len() > GET_USERS_MAX {
            return Err(CoreError::invalid(
                "too_many_ids",
                format!("at most {GET_USERS_MAX} users at once"),
            ));
        }
        let mut seen = std::collections::HashSet::new();
        let wanted: Vec<Id> = ids.iter().copied().filter(|id| seen.insert(*id)).collect();
        let mut users = Vec::with_capacity(wanted.len());
        // A few reads at a time rather than one after another.
        for chunk in wanted.chunks(USER_READS) {
            let reads = chunk.iter().map(|id| self.store.user_by_id(*id));
            let found = futures::future::try_join_all(reads).await?;
            users.extend(found.into_iter().flatten().map(|u| convert::user(&u)));
        }
        Ok(pb::UserList { users })
    }
}
