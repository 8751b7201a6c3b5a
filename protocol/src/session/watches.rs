//! Presence watches reach the core one at a time, in the order the client
//! sent them: a watch needs the members read and an unwatch nothing, so
//! run side by side an unwatch could overtake its watch and leave it on.

use std::collections::{BTreeSet, VecDeque};

use super::Call;

/// The watch or unwatch awaiting the core, and those queued behind it.
#[derive(Debug, Default)]
pub(super) struct WatchQueue {
    busy: bool,
    queued: VecDeque<Call>,
    /// The channels the core accepted a watch of, not since unwatched: to
    /// watch again at a new presence core. Bounded by the core's limit.
    watching: BTreeSet<u64>,
}

impl WatchQueue {
    /// The core answered a watch of `channel`.
    pub(super) fn watched(&mut self, channel: u64, accepted: bool) {
        if accepted {
            self.watching.insert(channel);
        }
    }

    /// The client unwatched `channel` (whatever the core answered).
    pub(super) fn unwatched(&mut self, channel: u64) {
        self.watching.remove(&channel);
    }

    /// The channels watched now.
    pub(super) fn watching(&self) -> Vec<u64> {
        self.watching.iter().copied().collect()
    }

    /// Takes `call`; returns it back when it may go to the core now.
    pub(super) fn start(&mut self, call: Call) -> Option<Call> {
        if self.busy {
            self.queued.push_back(call);
            return None;
        }
        self.busy = true;
        Some(call)
    }

    /// The core answered the call in progress; returns the next to send.
    pub(super) fn finish(&mut self) -> Option<Call> {
        let next = self.queued.pop_front();
        self.busy = next.is_some();
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_go_one_at_a_time_in_order() {
        let mut q = WatchQueue::default();
        let (w, u) = (
            Call::Watch { channel_id: 1 },
            Call::Unwatch { channel_id: 1 },
        );
        assert_eq!(q.start(w.clone()), Some(w));
        assert_eq!(q.start(u.clone()), None);
        assert_eq!(q.start(Call::Watch { channel_id: 2 }), None);
        assert_eq!(q.finish(), Some(u));
        assert_eq!(q.finish(), Some(Call::Watch { channel_id: 2 }));
        assert_eq!(q.finish(), None);
        let again = Call::Unwatch { channel_id: 3 };
        assert_eq!(q.start(again.clone()), Some(again), "idle again");
    }

    #[test]
    fn only_accepted_watches_not_since_unwatched_are_kept() {
        let mut q = WatchQueue::default();
        q.watched(1, true);
        q.watched(2, false);
        q.watched(3, true);
        q.unwatched(1);
        assert_eq!(q.watching(), vec![3]);
    }
}
