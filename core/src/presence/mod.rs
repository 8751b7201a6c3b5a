//! Who is online, and who watches whom. Pure state: time is an argument,
//! and each change is returned for the caller to publish.
//!
//! A user is online while they have at least one session on any edge. When
//! the last one ends cleanly (the client closed, or logged out) they go
//! offline at once; when it drops, they stay online until `grace` after the
//! last time that session heard from its client, so a reconnect within the
//! grace period is not seen as a flap.
//!
//! In a cluster each core holds the sessions of the users it is the home
//! of (see [`Presence::keep_homed`]) and every watch, so whichever core a
//! user's change happens at knows who watches them.
//!
//! A user who chose to be invisible is online here (their sessions count)
//! but none of their changes is returned for publishing, and [`Presence::status`]
//! does not report them, so they appear offline to everyone else.

mod watches;

use std::collections::HashMap;

use crate::store::Id;
use watches::Watches;

/// One session on one edge: `(edge_id, session_id)`.
pub type SessionKey = (Id, u64);

/// A user's status as published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    /// The user.
    pub user_id: Id,
    /// Online or not.
    pub online: bool,
    /// When last seen active, Unix milliseconds; 0 if unknown.
    pub last_active_ms: i64,
}

#[derive(Debug, Default)]
struct UserState {
    sessions: u32,
    online: bool,
    /// When a dropped connection turns into offline.
    offline_at: Option<i64>,
    last_active_ms: i64,
    /// Appears offline to everyone else.
    invisible: bool,
}

/// Online state and presence watches.
#[derive(Debug)]
pub struct Presence {
    grace_ms: i64,
    users: HashMap<Id, UserState>,
    sessions: HashMap<SessionKey, Id>,
    watches: Watches,
}

impl Presence {
    /// Empty state; dropped connections stay online for `grace_ms`.
    pub fn new(grace_ms: u64) -> Self {
        Self {
            grace_ms: i64::try_from(grace_ms).unwrap_or(i64::MAX),
            users: HashMap::new(),
            sessions: HashMap::new(),
            watches: Watches::default(),
        }
    }

    /// Whether `user` has no session here yet: their first session's
    /// opening must say whether they are invisible.
    pub fn is_new(&self, user: Id) -> bool {
        !self.users.get(&user).is_some_and(|s| s.online)
    }

    /// A session opened; returns the change if the user came online (and
    /// is not invisible). `invisible` counts only for a user who was offline.
    pub fn opened(
        &mut self,
        key: SessionKey,
        user: Id,
        now_ms: i64,
        invisible: bool,
    ) -> Option<Status> {
        if self.sessions.insert(key, user).is_some() {
            return None;
        }
        let state = self.users.entry(user).or_default();
        state.sessions += 1;
        state.offline_at = None;
        state.last_active_ms = state.last_active_ms.max(now_ms);
        if state.online {
            return None;
        }
        state.online = true;
        state.invisible = invisible;
        (!invisible).then(|| status(user, state))
    }

    /// The user turned invisibility on or off. Returns what others should
    /// now see if the user is online: offline or online, as of `now_ms`.
    pub fn set_invisible(&mut self, user: Id, invisible: bool, now_ms: i64) -> Option<Status> {
        let state = self.users.get_mut(&user).filter(|s| s.online)?;
        if state.invisible == invisible {
            return None;
        }
        state.invisible = invisible;
        state.last_active_ms = state.last_active_ms.max(now_ms);
        Some(Status {
            user_id: user,
            online: !invisible,
            last_active_ms: state.last_active_ms,
        })
    }

    /// A session closed. Returns the change if the user went offline now,
    /// or the time to call [`Presence::expire`] if they go offline later.
    pub fn closed(
        &mut self,
        key: SessionKey,
        clean: bool,
        last_heard_ms: i64,
        now_ms: i64,
    ) -> Closed {
        self.watches.end_session(key);
        let Some(user) = self.sessions.remove(&key) else {
            return Closed::Nothing;
        };
        let Some(state) = self.users.get_mut(&user) else {
            return Closed::Nothing;
        };
        state.sessions = state.sessions.saturating_sub(1);
        state.last_active_ms = state.last_active_ms.max(last_heard_ms.min(now_ms));
        if state.sessions > 0 {
            return Closed::Nothing;
        }
        if state.invisible {
            // Nobody saw them online, so nobody is told they left.
            self.users.remove(&user);
            return Closed::Nothing;
        }
        let deadline = state.last_active_ms.saturating_add(self.grace_ms);
        if clean || deadline <= now_ms {
            state.online = false;
            state.offline_at = None;
            return Closed::Offline(status(user, state));
        }
        state.offline_at = Some(deadline);
        Closed::Later {
            user_id: user,
            at_ms: deadline,
        }
    }

    /// A grace period ran out; returns the change if the user went offline.
    pub fn expire(&mut self, user: Id, now_ms: i64) -> Option<Status> {
        let state = self.users.get_mut(&user)?;
        if state.invisible {
            return None;
        }
        match state.offline_at {
            Some(at) if at <= now_ms && state.sessions == 0 => {
                state.online = false;
                state.offline_at = None;
                Some(status(user, state))
            }
            _ => None,
        }
    }

    /// The status of `user` as others may see it, if this state knows it;
    /// `None` for an invisible user, who is to be shown as stored: offline,
    /// last active when they went invisible.
    pub fn status(&self, user: Id) -> Option<Status> {
        self.users
            .get(&user)
            .filter(|s| !s.invisible)
            .map(|s| status(user, s))
    }

    /// Starts watching `members` of `channel` from `watcher`'s session
    /// `key` (or watches them anew); false if the session already watches
    /// `max` other channels.
    pub fn watch(
        &mut self,
        key: SessionKey,
        watcher: Id,
        channel: Id,
        members: &[Id],
        max: usize,
    ) -> bool {
        self.watches.watch(key, watcher, channel, members, max)
    }

    /// Keeps the sessions and state of the users `homed` says are this
    /// core's and forgets the rest (their new home hears of their sessions
    /// from the edges); watches stay. Returns how many users stay seen
    /// online.
    pub fn keep_homed(&mut self, homed: impl Fn(Id) -> bool) -> usize {
        self.sessions.retain(|_, user| homed(*user));
        self.users.retain(|user, _| homed(*user));
        self.users
            .values()
            .filter(|s| s.online && !s.invisible)
            .count()
    }

    /// Ends every watch of session `key` (a session whose user lives at
    /// another core).
    pub fn end_watches(&mut self, key: SessionKey) {
        self.watches.end_session(key);
    }

    /// Stops watching `channel` from session `key`.
    pub fn unwatch(&mut self, key: SessionKey, channel: Id) {
        self.watches.unwatch(key, channel);
    }

    /// `user` joined `channel`: those watching it now see them.
    pub fn member_added(&mut self, channel: Id, user: Id) {
        self.watches.member_added(channel, user);
    }

    /// `user` left `channel`: those watching it no longer see them, and
    /// their own watches of it end.
    pub fn member_removed(&mut self, channel: Id, user: Id) {
        self.watches.member_removed(channel, user);
    }

    /// `channel` has exactly `members` (sorted) now: see
    /// [`Watches::set_members`].
    pub fn set_members(&mut self, channel: Id, members: &[Id]) {
        self.watches.set_members(channel, members);
    }

    /// Whether any session watches `channel`.
    pub fn watched(&self, channel: Id) -> bool {
        self.watches.watched(channel)
    }

    /// `channel` was deleted: every watch of it ends.
    pub fn channel_deleted(&mut self, channel: Id) {
        self.watches.channel_deleted(channel);
    }

    /// The users watching `user`.
    pub fn watchers_of(&self, user: Id) -> Vec<Id> {
        self.watches.watchers_of(user)
    }
}

/// What closing a session did to presence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closed {
    /// The user is still online elsewhere (or was unknown).
    Nothing,
    /// The user went offline now.
    Offline(Status),
    /// The user goes offline at `at_ms` unless a session opens first.
    Later {
        /// The user.
        user_id: Id,
        /// When to call [`Presence::expire`].
        at_ms: i64,
    },
}

fn status(user: Id, s: &UserState) -> Status {
    Status {
        user_id: user,
        online: s.online,
        last_active_ms: s.last_active_ms,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GRACE: u64 = 30_000;

    #[test]
    fn online_with_any_session_offline_at_once_after_a_clean_close() {
        let mut p = Presence::new(GRACE);
        let on = p.opened((1, 1), 7, 1_000, false).expect("came online");
        assert!(on.online);
        assert_eq!(p.opened((1, 2), 7, 2_000, false), None, "already online");
        assert_eq!(p.closed((1, 1), true, 3_000, 3_000), Closed::Nothing);
        match p.closed((1, 2), true, 4_000, 4_000) {
            Closed::Offline(s) => assert_eq!((s.online, s.last_active_ms), (false, 4_000)),
            other => panic!("expected offline, got {other:?}"),
        }
    }

    #[test]
    fn a_dropped_connection_stays_online_through_the_grace_period() {
        let mut p = Presence::new(GRACE);
        p.opened((1, 1), 7, 0, false);
        let later = p.closed((1, 1), false, 10_000, 12_000);
        assert_eq!(
            later,
            Closed::Later {
                user_id: 7,
                at_ms: 40_000
            }
        );
        assert_eq!(p.expire(7, 39_999), None, "not yet");
        assert!(p.status(7).expect("known").online);
        assert_eq!(p.expire(7, 40_000).map(|s| s.online), Some(false));
    }

    #[test]
    fn reconnecting_within_the_grace_period_does_not_flap() {
        let mut p = Presence::new(GRACE);
        p.opened((1, 1), 7, 0, false);
        p.closed((1, 1), false, 5_000, 6_000);
        assert_eq!(p.opened((1, 2), 7, 8_000, false), None, "no online event");
        assert_eq!(
            p.expire(7, 35_000),
            None,
            "the pending offline is cancelled"
        );
    }

    #[test]
    fn a_session_silent_past_the_grace_goes_offline_on_close() {
        let mut p = Presence::new(GRACE);
        p.opened((1, 1), 7, 0, false);
        assert!(matches!(
            p.closed((1, 1), false, 1_000, 45_000),
            Closed::Offline(_)
        ));
    }

    #[test]
    fn watches_count_per_watcher_and_end_with_the_session() {
        let mut p = Presence::new(GRACE);
        p.opened((1, 1), 7, 0, false);
        p.opened((1, 2), 7, 0, false);
        assert!(p.watch((1, 1), 7, 100, &[7, 8, 9], 10));
        assert!(p.watch((1, 2), 7, 100, &[7, 8, 9], 10));
        assert_eq!(p.watchers_of(8), vec![7]);
        p.unwatch((1, 1), 100);
        assert_eq!(p.watchers_of(8), vec![7], "the other session still watches");
        p.closed((1, 2), true, 0, 0);
        assert!(p.watchers_of(8).is_empty());
    }

    #[test]
    fn an_invisible_user_is_online_to_nobody() {
        let mut p = Presence::new(GRACE);
        assert_eq!(p.opened((1, 1), 7, 1_000, true), None, "nobody is told");
        assert!(p.status(7).is_none(), "shown as stored: offline");
        let seen = p.set_invisible(7, false, 2_000).expect("now visible");
        assert!(seen.online);
        assert!(p.status(7).is_some_and(|s| s.online));
        let hidden = p.set_invisible(7, true, 3_000).expect("hidden again");
        assert!(!hidden.online);
        assert_eq!(p.set_invisible(7, true, 3_000), None, "no change");
        assert_eq!(p.closed((1, 1), false, 4_000, 4_000), Closed::Nothing);
        assert_eq!(
            p.set_invisible(8, true, 0),
            None,
            "offline users need no event"
        );
    }

    #[test]
    fn members_set_from_storage_join_and_leave_the_watches() {
        let mut p = Presence::new(GRACE);
        p.opened((1, 1), 7, 0, false);
        p.opened((1, 2), 8, 0, false);
        assert!(p.watch((1, 1), 7, 100, &[7, 8, 9], 10));
        assert!(p.watch((1, 2), 8, 100, &[7, 8, 9], 10));
        assert!(p.watched(100));
        p.set_members(100, &[7, 9, 10]);
        assert_eq!(
            p.watchers_of(10),
            vec![7],
            "10 joined; 8 left and stopped watching"
        );
        assert!(p.watchers_of(8).is_empty());
        let mut of_nine = p.watchers_of(9);
        of_nine.sort_unstable();
        assert_eq!(of_nine, vec![7]);
        p.set_members(100, &[]);
        assert!(!p.watched(100), "a deleted channel has no watches left");
        assert!(p.watchers_of(9).is_empty());
    }

    #[test]
    fn a_session_watches_at_most_max_channels() {
        let mut p = Presence::new(GRACE);
        p.opened((1, 1), 7, 0, false);
        assert!(p.watch((1, 1), 7, 100, &[8], 2));
        assert!(p.watch((1, 1), 7, 101, &[8], 2));
        assert!(p.watch((1, 1), 7, 101, &[8], 2), "watching again is fine");
        assert!(!p.watch((1, 1), 7, 102, &[8], 2));
    }

    #[test]
    fn watching_again_sees_the_members_as_they_are_now() {
        let mut p = Presence::new(GRACE);
        assert!(p.watch((1, 1), 7, 100, &[7, 8], 10));
        assert!(p.watch((1, 1), 7, 100, &[7, 9], 10));
        assert!(
            p.watchers_of(8).is_empty(),
            "8 left before the second watch"
        );
        assert_eq!(p.watchers_of(9), vec![7]);
        p.unwatch((1, 1), 100);
        assert!(p.watchers_of(9).is_empty() && p.watchers_of(7).is_empty());
    }

    #[test]
    fn a_core_keeps_only_the_users_it_is_the_home_of_and_every_watch() {
        let mut p = Presence::new(GRACE);
        p.opened((1, 1), 7, 0, false);
        p.opened((1, 2), 8, 0, false);
        p.opened((1, 3), 9, 0, true);
        assert!(p.watch((1, 4), 5, 100, &[7, 8], 10));
        assert_eq!(p.keep_homed(|u| u != 8), 1, "7 online; 9 hides");
        assert!(p.status(8).is_none(), "8 lives elsewhere now");
        assert_eq!(p.closed((1, 2), true, 0, 0), Closed::Nothing);
        assert_eq!(p.watchers_of(8), vec![5], "watches stay");
        assert!(p.status(7).is_some_and(|s| s.online));
    }
}
