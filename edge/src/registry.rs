//! The sessions on this edge, by user, and the core's view of them: the core
//! sends an edge events only for users with a session here.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};

use crate::core_client::CoreClient;
use chat_discovery::ownership::owner;
use chat_proto::v1::{InterestRequest, SessionClosedRequest, SessionRef};
use futures::StreamExt;
use tokio::sync::{Mutex, Notify};

use crate::error::{ApiError, CloseReason};
use crate::protocol::{CallResult, Delivery, SharedFrame};
use crate::watches::Watches;

/// A request to close one session from outside its task.
#[derive(Debug, Default)]
pub struct Kick {
    reason: OnceLock<CloseReason>,
    /// Wakes the session; lighter than a cancellation token, which
    /// allocates a node of its own for every connection.
    notify: Notify,
}

impl Kick {
    /// Asks the session to close; the first reason wins. True for the first kick.
    pub fn kick(&self, reason: CloseReason) -> bool {
        let first = self.reason.set(reason).is_ok();
        self.notify.notify_waiters();
        first
    }

    /// Resolves once kicked, with the reason.
    pub async fn kicked(&self) -> CloseReason {
        loop {
            // Made before the check, so a kick between the two still wakes it.
            let notified = self.notify.notified();
            if let Some(reason) = self.reason.get() {
                return *reason;
            }
            notified.await;
        }
    }
}

/// How to reach one session.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The session's id.
    pub session_id: u64,
    /// The token it authenticated with.
    pub token_id: u64,
    /// Its bounded outbound queue.
    pub tx: flume::Sender<Delivery>,
    /// Its close switch.
    pub kick: Arc<Kick>,
    /// How it ended, once it has: set before it leaves the registry, so
    /// an announcement racing with its end reports that same end again.
    pub ended: Arc<OnceLock<Ended>>,
}

/// How a session ended, as its user's presence home must hear it.
#[derive(Debug, Clone, Copy)]
pub struct Ended {
    /// The client said goodbye (offline at once, not after a grace).
    pub clean: bool,
    /// When the client was last heard from.
    pub last_heard_ms: i64,
}

/// Locks that order interest changes, each for the users of one stripe.
const INTEREST_STRIPES: u64 = 64;

/// The interest stripe of `user_id`.
fn stripe(user_id: u64) -> usize {
    let hash = user_id.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (hash >> (64 - INTEREST_STRIPES.trailing_zeros())) as usize
}

/// Sessions by user.
pub struct Registry {
    core: CoreClient,
    edge_id: u64,
    users: RwLock<HashMap<u64, Vec<Entry>>>,
    /// Orders one user's interest changes so the core never sees them
    /// reversed; striped by user, so that over a far link one user's
    /// round trip does not hold up every other user's connect.
    interest: Box<[Mutex<()>]>,
    /// The channels the users here are in.
    watches: Arc<Watches>,
    /// Woken whenever the last session leaves ([`Self::until_empty`]).
    emptied: Notify,
}

impl Registry {
    /// An empty registry for `edge_id`, whose users' channels `watches` follows.
    pub fn new(core: CoreClient, edge_id: u64, watches: Arc<Watches>) -> Self {
        Self {
            core,
            edge_id,
            users: RwLock::new(HashMap::new()),
            interest: (0..INTEREST_STRIPES).map(|_| Mutex::new(())).collect(),
            watches,
            emptied: Notify::new(),
        }
    }

    /// The channels this edge watches.
    pub fn watches(&self) -> &Watches {
        &self.watches
    }

    fn users(&self) -> std::sync::RwLockReadGuard<'_, HashMap<u64, Vec<Entry>>> {
        self.users.read().unwrap_or_else(|p| p.into_inner())
    }

    fn users_mut(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<u64, Vec<Entry>>> {
        self.users.write().unwrap_or_else(|p| p.into_inner())
    }

    async fn tell_core(&self, add: Vec<u64>, remove: Vec<u64>) -> Result<(), ApiError> {
        let req = InterestRequest {
            edge_id: self.edge_id,
            add_users: add,
            remove_users: remove,
        };
        self.core.update_interest(req).await
    }

    /// The lock that orders `user_id`'s interest changes. Snowflake ids'
    /// low bits are mostly a zero sequence number: the stripe comes from a
    /// multiplicative hash's top bits.
    fn interest_of(&self, user_id: u64) -> &Mutex<()> {
        &self.interest[stripe(user_id)]
    }

    /// Adds a session; returns once the core routes the user's events here.
    pub async fn register(&self, user_id: u64, entry: Entry) -> Result<(), ApiError> {
        let session_id = entry.session_id;
        let session = {
            let _order = self.interest_of(user_id).lock().await;
            let first = {
                let mut users = self.users_mut();
                // Most users have one session here; an empty Vec's first
                // push would make room for four.
                let sessions = users
                    .entry(user_id)
                    .or_insert_with(|| Vec::with_capacity(1));
                sessions.push(entry);
                sessions.len() == 1
            };
            let session = SessionRef {
                edge_id: self.edge_id,
                session_id,
                user_id,
            };
            // Side by side: one round trip, not two, to a far core.
            if first {
                tokio::try_join!(
                    self.tell_core(vec![user_id], vec![]),
                    self.core.session_opened(session),
                )?;
                return Ok(());
            }
            session
        };
        // Outside the lock: connects of different users need not wait on
        // each other's presence updates.
        self.core.session_opened(session).await?;
        Ok(())
    }

    /// Removes a session; `clean` when the client said goodbye, and
    /// `last_heard_ms` when it was last heard from (for presence). Removed
    /// here before the core hears of it, so that an announcement to a new
    /// presence home racing with it sees it gone ([`Self::presence_moved`]).
    pub async fn unregister(&self, user_id: u64, session_id: u64, clean: bool, last_heard_ms: i64) {
        {
            let _order = self.interest_of(user_id).lock().await;
            let last = {
                let mut users = self.users_mut();
                let empty = users.get_mut(&user_id).is_some_and(|sessions| {
                    let ended = Ended {
                        clean,
                        last_heard_ms,
                    };
                    for e in sessions.iter().filter(|e| e.session_id == session_id) {
                        // Only the first end counts; a second cannot happen.
                        let _ = e.ended.set(ended);
                    }
                    sessions.retain(|e| e.session_id != session_id);
                    sessions.is_empty()
                });
                if empty {
                    users.remove(&user_id);
                }
                if users.is_empty() {
                    self.emptied.notify_waiters();
                }
                empty
            };
            if last {
                self.watches.leave_all(user_id);
                if let Err(e) = self.tell_core(vec![], vec![user_id]).await {
                    tracing::warn!(error = %e, user_id, "could not withdraw interest");
                }
            }
        }
        self.report_closed(user_id, session_id, clean, last_heard_ms)
            .await;
    }

    /// Tells the core (the user's home, and every core for the watches)
    /// that a session closed.
    async fn report_closed(&self, user_id: u64, session_id: u64, clean: bool, last_heard_ms: i64) {
        let closed = SessionClosedRequest {
            session: Some(SessionRef {
                edge_id: self.edge_id,
                session_id,
                user_id,
            }),
            clean,
            last_heard_ms,
            watches_only: false,
        };
        if let Err(status) = self.core.session_closed(closed).await {
            tracing::warn!(%status, user_id, "could not report the session closed");
        }
    }

    /// Whether session `session_id` of `user_id` is still here.
    fn is_registered(&self, user_id: u64, session_id: u64) -> bool {
        self.users()
            .get(&user_id)
            .is_some_and(|s| s.iter().any(|e| e.session_id == session_id))
    }

    /// Announces every user to core `node`, after its event stream opened
    /// (again).
    pub async fn reannounce_at(&self, node: u64) -> Result<(), ApiError> {
        // Every stripe, always in the same order: no change is half in.
        let mut order = Vec::with_capacity(self.interest.len());
        for stripe in &self.interest {
            order.push(stripe.lock().await);
        }
        let all: Vec<u64> = self.users().keys().copied().collect();
        let req = InterestRequest {
            edge_id: self.edge_id,
            add_users: all,
            remove_users: vec![],
        };
        self.core.update_interest_at(node, req).await
    }

    /// The live cores changed from `before` to `now`: announces each
    /// session whose user's home (the owner of their id) moved to its new
    /// home, then has every session watch its channels again, so a core
    /// that joined learns the watches and every watcher sees the moved
    /// users' presence as their new home has it.
    pub async fn presence_moved(&self, before: &[u64], now: &[u64]) {
        /// Announcements in flight at once.
        const AT_ONCE: usize = 32;
        let moved = |user: u64| owner(user, before) != owner(user, now);
        let sessions: Vec<(u64, Entry)> = self
            .users()
            .iter()
            .flat_map(|(user, entries)| entries.iter().map(|e| (*user, e.clone())))
            .collect();
        let count = sessions.len();
        let announced = std::sync::atomic::AtomicUsize::new(0);
        futures::stream::iter(sessions)
            .for_each_concurrent(AT_ONCE, |(user_id, entry)| {
                let announced = &announced;
                async move {
                    if moved(user_id) {
                        let session = SessionRef {
                            edge_id: self.edge_id,
                            session_id: entry.session_id,
                            user_id,
                        };
                        if let Err(e) = self.core.session_opened(session).await {
                            tracing::warn!(error = %e, user_id, "could not announce a session to its new home");
                            return;
                        }
                        // It closed meanwhile, and its end may have reached
                        // the new home first: end it there again, as it
                        // ended (a goodbye is offline at once, not later).
                        if !self.is_registered(user_id, entry.session_id) {
                            let ended = entry.ended.get().copied().unwrap_or(Ended {
                                clean: false,
                                last_heard_ms: crate::clock::wall_ms(),
                            });
                            self.report_closed(user_id, entry.session_id, ended.clean, ended.last_heard_ms)
                                .await;
                            return;
                        }
                        announced.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                    if let Err(flume::TrySendError::Full(_)) =
                        entry.tx.try_send(Delivery::PresenceMoved)
                        && entry.kick.kick(CloseReason::SLOW_CONSUMER)
                    {
                        metrics::counter!("chat_ws_slow_consumers_total").increment(1);
                    }
                }
            })
            .await;
        tracing::info!(
            sessions = count,
            announced = announced.into_inner(),
            "sessions announced to their new presence homes"
        );
    }

    /// Queues `frame` for every session of `recipients`; a session whose
    /// queue is full is closed as too slow. Returns how many were queued.
    pub fn deliver(&self, recipients: &[u64], frame: &Arc<SharedFrame>) -> usize {
        let users = self.users();
        let mut queued = 0;
        for user in recipients {
            for entry in users.get(user).into_iter().flatten() {
                match entry.tx.try_send(Delivery::Frame(frame.clone())) {
                    Ok(()) => queued += 1,
                    Err(flume::TrySendError::Full(_)) => {
                        if entry.kick.kick(CloseReason::SLOW_CONSUMER) {
                            metrics::counter!("chat_ws_slow_consumers_total").increment(1);
                        }
                    }
                    Err(flume::TrySendError::Disconnected(_)) => {}
                }
            }
        }
        queued
    }

    /// Closes the sessions of `recipients` that used one of `token_ids`.
    pub fn revoke(&self, recipients: &[u64], token_ids: &[u64]) {
        let users = self.users();
        for user in recipients {
            for entry in users.get(user).into_iter().flatten() {
                if token_ids.contains(&entry.token_id) {
                    entry.kick.kick(CloseReason::UNAUTHORIZED);
                }
            }
        }
    }

    /// Watches the channels of a session's `ready` state, before the
    /// session sees it.
    pub fn follow(&self, user_id: u64, result: &CallResult) {
        if let CallResult::Ready(Ok(ready)) = result {
            let at = ready
                .channels
                .iter()
                .map(|c| (c.channel.id, c.channel.last_message_id));
            self.watches.join(user_id, at);
        }
    }

    /// Closes every session here with `reason`; returns how many.
    pub fn kick_all(&self, reason: CloseReason) -> usize {
        let users = self.users();
        users
            .values()
            .flatten()
            .filter(|entry| entry.kick.kick(reason))
            .count()
    }

    /// Queues `frame` for every session here; returns how many were
    /// queued (a session whose queue is full is closed as too slow).
    pub fn deliver_all(&self, frame: &Arc<SharedFrame>) -> usize {
        let users: Vec<u64> = self.users().keys().copied().collect();
        self.deliver(&users, frame)
    }

    /// Returns once no session is registered.
    pub async fn until_empty(&self) {
        loop {
            let emptied = self.emptied.notified();
            tokio::pin!(emptied);
            emptied.as_mut().enable();
            if self.users().is_empty() {
                return;
            }
            emptied.await;
        }
    }

    /// How many sessions are registered.
    pub fn session_count(&self) -> usize {
        self.users().values().map(Vec::len).sum()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn a_kick_wakes_the_session_before_or_after_it_waits() {
        let early = Kick::default();
        assert!(early.kick(CloseReason::UNAUTHORIZED));
        assert!(
            !early.kick(CloseReason::SLOW_CONSUMER),
            "the first reason wins"
        );
        assert_eq!(early.kicked().await, CloseReason::UNAUTHORIZED);

        let late = Arc::new(Kick::default());
        let waiting = tokio::spawn({
            let late = late.clone();
            async move { late.kicked().await }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished(), "nothing kicked it yet");
        late.kick(CloseReason::SLOW_CONSUMER);
        let reason = tokio::time::timeout(Duration::from_secs(5), waiting).await;
        assert_eq!(
            reason.ok().and_then(Result::ok),
            Some(CloseReason::SLOW_CONSUMER)
        );
    }

    #[test]
    fn snowflake_ids_spread_over_the_interest_stripes() {
        // Ids of one node a millisecond apart: the sequence bits are zero.
        let ids = (0..1000u64).map(|ms| ((1_700_000_000_000 + ms) << 22) | (3 << 12));
        let mut used = std::collections::HashSet::new();
        for id in ids {
            let s = stripe(id);
            assert!(s < INTEREST_STRIPES as usize);
            used.insert(s);
        }
        assert!(used.len() >= 60, "{} of 64 stripes", used.len());
    }
}
