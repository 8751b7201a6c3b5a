//! Who watches whom: per session, the channels it watches and those
//! channels' members, kept current as members come and go, so a watcher
//! sees exactly the members of the channels it watches.

use std::collections::{HashMap, HashSet};

use super::SessionKey;
use crate::store::Id;

/// Presence watches of every session.
#[derive(Debug, Default)]
pub struct Watches {
    /// Per session: the watching user and, per watched channel, its members.
    sessions: HashMap<SessionKey, (Id, HashMap<Id, Vec<Id>>)>,
    /// Per channel: the sessions watching it.
    by_channel: HashMap<Id, HashSet<SessionKey>>,
    /// Per watched user: the watching users, with a count of watches.
    watchers: HashMap<Id, HashMap<Id, u32>>,
}

impl Watches {
    /// Starts watching `members` of `channel` from `watcher`'s session `key`
    /// (again: with the members as they are now); false if the session
    /// already watches `max` other channels.
    pub fn watch(
        &mut self,
        key: SessionKey,
        watcher: Id,
        channel: Id,
        members: &[Id],
        max: usize,
    ) -> bool {
        self.unwatch(key, channel);
        let (_, channels) = self
            .sessions
            .entry(key)
            .or_insert_with(|| (watcher, HashMap::new()));
        if channels.len() >= max {
            return false;
        }
        channels.insert(channel, members.to_vec());
        self.by_channel.entry(channel).or_default().insert(key);
        for member in members {
            self.count(*member, watcher, true);
        }
        true
    }

    /// Stops watching `channel` from session `key`.
    pub fn unwatch(&mut self, key: SessionKey, channel: Id) {
        let Some((watcher, channels)) = self.sessions.get_mut(&key) else {
            return;
        };
        let watcher = *watcher;
        let members = channels.remove(&channel).unwrap_or_default();
        if channels.is_empty() {
            self.sessions.remove(&key);
        }
        self.forget_session_of(channel, key);
        for member in members {
            self.count(member, watcher, false);
        }
    }

    /// Ends every watch of session `key`.
    pub fn end_session(&mut self, key: SessionKey) {
        let Some((watcher, channels)) = self.sessions.remove(&key) else {
            return;
        };
        for (channel, members) in channels {
            self.forget_session_of(channel, key);
            for member in members {
                self.count(member, watcher, false);
            }
        }
    }

    /// `user` joined `channel`: its watchers now see them.
    pub fn member_added(&mut self, channel: Id, user: Id) {
        for key in self.watching(channel) {
            let Some((watcher, channels)) = self.sessions.get_mut(&key) else {
                continue;
            };
            let watcher = *watcher;
            let Some(members) = channels.get_mut(&channel) else {
                continue;
            };
            if let Err(at) = members.binary_search(&user) {
                members.insert(at, user);
                self.count(user, watcher, true);
            }
        }
    }

    /// `user` left `channel`: its watchers no longer see them, and their
    /// own sessions stop watching it.
    pub fn member_removed(&mut self, channel: Id, user: Id) {
        for key in self.watching(channel) {
            let Some((watcher, channels)) = self.sessions.get_mut(&key) else {
                continue;
            };
            let watcher = *watcher;
            if watcher == user {
                self.unwatch(key, channel);
                continue;
            }
            let Some(members) = channels.get_mut(&channel) else {
                continue;
            };
            if let Ok(at) = members.binary_search(&user) {
                members.remove(at);
                self.count(user, watcher, false);
            }
        }
    }

    /// `channel` has exactly `members` (sorted) now, as storage says after
    /// a change another node made: each watch of it sees those who joined
    /// and stops seeing those who left; a watcher who left stops watching.
    pub fn set_members(&mut self, channel: Id, members: &[Id]) {
        for key in self.watching(channel) {
            let Some((watcher, channels)) = self.sessions.get_mut(&key) else {
                continue;
            };
            let watcher = *watcher;
            if members.binary_search(&watcher).is_err() {
                self.unwatch(key, channel);
                continue;
            }
            let Some(seen) = channels.get_mut(&channel) else {
                continue;
            };
            let before = std::mem::replace(seen, members.to_vec());
            let left = before.iter().filter(|m| members.binary_search(m).is_err());
            let joined = members.iter().filter(|m| before.binary_search(m).is_err());
            let changes: Vec<(Id, bool)> = left
                .map(|m| (*m, false))
                .chain(joined.map(|m| (*m, true)))
                .collect();
            for (member, watching) in changes {
                self.count(member, watcher, watching);
            }
        }
    }

    /// Whether any session watches `channel`.
    pub fn watched(&self, channel: Id) -> bool {
        self.by_channel.contains_key(&channel)
    }

    /// `channel` is gone: every watch of it ends.
    pub fn channel_deleted(&mut self, channel: Id) {
        for key in self.watching(channel) {
            self.unwatch(key, channel);
        }
    }

    /// The users watching `user`.
    pub fn watchers_of(&self, user: Id) -> Vec<Id> {
        self.watchers
            .get(&user)
            .map(|by| by.keys().copied().collect())
            .unwrap_or_default()
    }

    fn watching(&self, channel: Id) -> Vec<SessionKey> {
        self.by_channel
            .get(&channel)
            .map(|keys| keys.iter().copied().collect())
            .unwrap_or_default()
    }

    fn forget_session_of(&mut self, channel: Id, key: SessionKey) {
        if let Some(keys) = self.by_channel.get_mut(&channel) {
            keys.remove(&key);
            if keys.is_empty() {
                self.by_channel.remove(&channel);
            }
        }
    }

    /// One more (`up`) or one fewer watch of `member` by `watcher`.
    fn count(&mut self, member: Id, watcher: Id, up: bool) {
        if up {
            *self
                .watchers
                .entry(member)
                .or_default()
                .entry(watcher)
                .or_default() += 1;
            return;
        }
        if let Some(by) = self.watchers.get_mut(&member) {
            if let Some(count) = by.get_mut(&watcher) {
                *count = count.saturating_sub(1);
                if *count == 0 {
                    by.remove(&watcher);
                }
            }
            if by.is_empty() {
                self.watchers.remove(&member);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watchers_follow_the_members_of_the_channels_they_watch() {
        let mut w = Watches::default();
        assert!(w.watch((1, 1), 7, 100, &[7, 8], 10));
        assert!(w.watch((1, 2), 9, 100, &[7, 8, 9], 10));
        assert_eq!(w.watchers_of(8).len(), 2);
        w.member_added(100, 5);
        let mut of5 = w.watchers_of(5);
        of5.sort_unstable();
        assert_eq!(of5, vec![7, 9]);
        w.member_removed(100, 8);
        assert!(w.watchers_of(8).is_empty(), "nobody sees a member who left");
        w.member_removed(100, 9);
        assert_eq!(w.watchers_of(7), vec![7], "the leaver's own watch ended");
        w.member_removed(100, 9);
        w.channel_deleted(100);
        assert!(w.watchers_of(7).is_empty());
        assert!(w.watchers_of(5).is_empty());
        assert!(w.sessions.is_empty() && w.by_channel.is_empty());
    }
}
