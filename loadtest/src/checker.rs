//! A checker for ordering and loss: it records, for every client, each
//! send, its ack (the stored id) or failure, each delivery, and the final
//! history of each channel, then checks the whole record:
//!
//! - no acknowledged message is missing from the channel's history, nor
//!   from the view (deliveries and history reads) of any viewer that was
//!   asked to see the whole channel;
//! - no message is stored twice (two ids for one `client_msg_id`, or one id
//!   twice in history), and no session is given one twice;
//! - every session sees each channel in the order of ids, so all members
//!   see one order, and a session's view of a channel never goes back;
//! - every retry of one `client_msg_id` is acknowledged with the same id.
//!
//! It is pure bookkeeping, with no clock and no I/O, so the failover tests
//! and `loadtest`'s `failover` scenario feed it the same way.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

/// A channel id.
pub type ChannelId = u64;
/// A message id.
pub type MessageId = u64;

/// One message's identity as its sender knows it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SendKey {
    /// The channel sent to.
    pub channel: ChannelId,
    /// The sending user.
    pub sender: u64,
    /// The sender's idempotency key.
    pub client_msg_id: String,
}

/// Something the checker found wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Violation {
    /// An acknowledged message is not in the channel's history.
    AckedNotStored(SendKey, MessageId),
    /// An acknowledged message never reached a viewer of the whole channel.
    AckedNotSeen {
        /// Who should have seen it.
        viewer: String,
        /// The message.
        key: SendKey,
        /// Its id.
        id: MessageId,
    },
    /// One `client_msg_id` was acknowledged with two ids.
    TwoIds(SendKey, MessageId, MessageId),
    /// One id appears twice in a channel's history.
    StoredTwice(ChannelId, MessageId),
    /// A session was given one message twice.
    DeliveredTwice {
        /// The session.
        session: String,
        /// The channel.
        channel: ChannelId,
        /// The message.
        id: MessageId,
    },
    /// A session was given a message with a smaller id after a larger one.
    WentBack {
        /// The session.
        session: String,
        /// The channel.
        channel: ChannelId,
        /// The larger id seen first.
        after: MessageId,
        /// The smaller id seen later.
        id: MessageId,
    },
    /// A channel's history is not in id order.
    HistoryOutOfOrder(ChannelId),
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Violation::AckedNotStored(k, id) => write!(
                f,
                "acked {id} ({} from {} in {}) is not in history",
                k.client_msg_id, k.sender, k.channel
            ),
            Violation::AckedNotSeen { viewer, key, id } => write!(
                f,
                "{viewer} never saw acked {id} ({} in {})",
                key.client_msg_id, key.channel
            ),
            Violation::TwoIds(k, a, b) => write!(
                f,
                "{} from {} in {} was acked as {a} and as {b}",
                k.client_msg_id, k.sender, k.channel
            ),
            Violation::StoredTwice(c, id) => write!(f, "{id} is twice in the history of {c}"),
            Violation::DeliveredTwice {
                session,
                channel,
                id,
            } => write!(f, "{session} got {id} of {channel} twice"),
            Violation::WentBack {
                session,
                channel,
                after,
                id,
            } => write!(f, "{session} got {id} of {channel} after {after}"),
            Violation::HistoryOutOfOrder(c) => write!(f, "the history of {c} is not in id order"),
        }
    }
}

/// What the checker concluded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verdict {
    /// Sends recorded.
    pub sends: usize,
    /// Distinct messages acknowledged.
    pub acked: usize,
    /// Sends that ended in an error and were never acknowledged.
    pub failed_unacked: usize,
    /// Deliveries recorded.
    pub deliveries: usize,
    /// Everything found wrong; empty when the record is clean.
    pub violations: Vec<Violation>,
}

impl Verdict {
    /// True when nothing was found wrong.
    pub fn passed(&self) -> bool {
        self.violations.is_empty()
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = if self.passed() { "PASSED" } else { "FAILED" };
        write!(
            f,
            "checker {state}: {} sends, {} acked, {} failed and never acked, {} deliveries, {} violations",
            self.sends,
            self.acked,
            self.failed_unacked,
            self.deliveries,
            self.violations.len()
        )?;
        for v in self.violations.iter().take(20) {
            write!(f, "\n  {v}")?;
        }
        if self.violations.len() > 20 {
            write!(f, "\n  … and {} more", self.violations.len() - 20)?;
        }
        Ok(())
    }
}

/// The record of a run.
#[derive(Debug, Default)]
pub struct Checker {
    sends: usize,
    acks: HashMap<SendKey, MessageId>,
    failed: BTreeSet<SendKey>,
    two_ids: Vec<Violation>,
    /// Per session and channel: the ids given, in order.
    deliveries: BTreeMap<(String, ChannelId), Vec<MessageId>>,
    /// Per viewer and channel: every id the viewer saw (all its sessions,
    /// and its history reads).
    views: BTreeMap<(String, ChannelId), BTreeSet<MessageId>>,
    /// Viewers that must have seen every acked message of a channel.
    complete: BTreeSet<(String, ChannelId)>,
    /// The final history of each channel, in the order read.
    history: BTreeMap<ChannelId, Vec<MessageId>>,
}

impl Checker {
    /// An empty record.
    pub fn new() -> Self {
        Self::default()
    }

    /// A send went out (a first try or a retry).
    pub fn sent(&mut self, _key: &SendKey) {
        self.sends += 1;
    }

    /// A send was acknowledged with the stored id.
    pub fn acked(&mut self, key: &SendKey, id: MessageId) {
        match self.acks.get(key) {
            Some(&first) if first != id => {
                self.two_ids.push(Violation::TwoIds(key.clone(), first, id))
            }
            Some(_) => {}
            None => {
                self.acks.insert(key.clone(), id);
            }
        }
    }

    /// A send ended in an error (it may still have been stored).
    pub fn failed(&mut self, key: &SendKey) {
        self.failed.insert(key.clone());
    }

    /// `session` of `viewer` was given message `id` of `channel`, live or
    /// in catch-up.
    pub fn delivered(&mut self, viewer: &str, session: &str, channel: ChannelId, id: MessageId) {
        self.deliveries
            .entry((session.to_owned(), channel))
            .or_default()
            .push(id);
        self.views
            .entry((viewer.to_owned(), channel))
            .or_default()
            .insert(id);
    }

    /// `viewer` read these ids of `channel` from history.
    pub fn read_history(&mut self, viewer: &str, channel: ChannelId, ids: &[MessageId]) {
        self.views
            .entry((viewer.to_owned(), channel))
            .or_default()
            .extend(ids.iter().copied());
    }

    /// `viewer` was a member of `channel` throughout and must have seen
    /// every acknowledged message of it.
    pub fn expect_complete(&mut self, viewer: &str, channel: ChannelId) {
        self.complete.insert((viewer.to_owned(), channel));
    }

    /// The channel's whole history, read at the end, oldest first.
    pub fn final_history(&mut self, channel: ChannelId, ids: Vec<MessageId>) {
        self.history.insert(channel, ids);
    }

    /// Checks the whole record.
    pub fn verdict(&self) -> Verdict {
        let mut violations = self.two_ids.clone();
        for (&channel, ids) in &self.history {
            if ids.windows(2).any(|w| w[0] > w[1]) {
                violations.push(Violation::HistoryOutOfOrder(channel));
            }
            let mut seen = BTreeSet::new();
            for &id in ids {
                if !seen.insert(id) {
                    violations.push(Violation::StoredTwice(channel, id));
                }
            }
        }
        let stored: HashMap<ChannelId, BTreeSet<MessageId>> = self
            .history
            .iter()
            .map(|(&c, ids)| (c, ids.iter().copied().collect()))
            .collect();
        let mut acked: Vec<(&SendKey, &MessageId)> = self.acks.iter().collect();
        acked.sort();
        for &(key, &id) in &acked {
            if let Some(ids) = stored.get(&key.channel)
                && !ids.contains(&id)
            {
                violations.push(Violation::AckedNotStored(key.clone(), id));
            }
        }
        for (viewer, channel) in &self.complete {
            let view = self.views.get(&(viewer.clone(), *channel));
            for &(key, &id) in acked.iter().filter(|(k, _)| k.channel == *channel) {
                if !view.is_some_and(|v| v.contains(&id)) {
                    violations.push(Violation::AckedNotSeen {
                        viewer: viewer.clone(),
                        key: key.clone(),
                        id,
                    });
                }
            }
        }
        let mut deliveries = 0;
        for ((session, channel), ids) in &self.deliveries {
            deliveries += ids.len();
            let mut seen = BTreeSet::new();
            let mut top = 0;
            for &id in ids {
                if !seen.insert(id) {
                    violations.push(Violation::DeliveredTwice {
                        session: session.clone(),
                        channel: *channel,
                        id,
                    });
                } else if id < top {
                    violations.push(Violation::WentBack {
                        session: session.clone(),
                        channel: *channel,
                        after: top,
                        id,
                    });
                }
                top = top.max(id);
            }
        }
        Verdict {
            sends: self.sends,
            acked: self.acks.len(),
            failed_unacked: self
                .failed
                .iter()
                .filter(|k| !self.acks.contains_key(*k))
                .count(),
            deliveries,
            violations,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(channel: ChannelId, n: u32) -> SendKey {
        SendKey {
            channel,
            sender: 1,
            client_msg_id: format!("m{n}"),
        }
    }

    /// Two members, three messages, one retried after a failure: clean.
    fn clean() -> Checker {
        let mut c = Checker::new();
        for n in 1..=3 {
            c.sent(&key(10, n));
        }
        c.failed(&key(10, 2));
        c.sent(&key(10, 2));
        for (n, id) in [(1, 100), (2, 101), (3, 102)] {
            c.acked(&key(10, n), id);
        }
        for id in [100, 101, 102] {
            c.delivered("ann", "ann-1", 10, id);
        }
        // bob's first session saw 100, his second resumed with 101, 102.
        c.delivered("bob", "bob-1", 10, 100);
        c.delivered("bob", "bob-2", 10, 101);
        c.delivered("bob", "bob-2", 10, 102);
        c.expect_complete("ann", 10);
        c.expect_complete("bob", 10);
        c.final_history(10, vec![100, 101, 102]);
        c
    }

    #[test]
    fn a_clean_record_passes() {
        let v = clean().verdict();
        assert!(v.passed(), "{v}");
        assert_eq!(
            (v.sends, v.acked, v.failed_unacked, v.deliveries),
            (4, 3, 0, 6)
        );
        assert!(v.to_string().starts_with("checker PASSED"));
    }

    #[test]
    fn a_lost_acked_message_is_found() {
        let mut c = clean();
        c.final_history(10, vec![100, 102]);
        assert_eq!(
            c.verdict().violations,
            [Violation::AckedNotStored(key(10, 2), 101)]
        );
    }

    #[test]
    fn a_viewer_who_missed_a_message_is_found() {
        let mut c = Checker::new();
        c.acked(&key(10, 1), 100);
        c.acked(&key(10, 2), 101);
        c.delivered("bob", "bob-1", 10, 100);
        c.expect_complete("bob", 10);
        c.final_history(10, vec![100, 101]);
        let v = c.verdict();
        assert_eq!(
            v.violations,
            [Violation::AckedNotSeen {
                viewer: "bob".into(),
                key: key(10, 2),
                id: 101
            }]
        );
        // A history read at the end fills the view.
        c.read_history("bob", 10, &[100, 101]);
        assert!(c.verdict().passed());
    }

    #[test]
    fn duplicates_and_reordering_are_found() {
        let mut c = clean();
        c.acked(&key(10, 2), 105);
        c.delivered("ann", "ann-1", 10, 101);
        c.delivered("bob", "bob-2", 10, 100);
        c.final_history(10, vec![100, 101, 101, 102]);
        let v = c.verdict();
        assert_eq!(
            v.violations,
            [
                Violation::TwoIds(key(10, 2), 101, 105),
                Violation::StoredTwice(10, 101),
                Violation::DeliveredTwice {
                    session: "ann-1".into(),
                    channel: 10,
                    id: 101
                },
                Violation::WentBack {
                    session: "bob-2".into(),
                    channel: 10,
                    after: 102,
                    id: 100
                },
            ]
        );
        assert!(v.to_string().starts_with("checker FAILED"), "{v}");
    }

    #[test]
    fn a_failed_send_that_was_never_acked_is_counted_not_blamed() {
        let mut c = Checker::new();
        c.sent(&key(10, 1));
        c.failed(&key(10, 1));
        c.final_history(10, vec![]);
        let v = c.verdict();
        assert!(v.passed());
        assert_eq!(v.failed_unacked, 1);
    }

    #[test]
    fn history_out_of_order_is_found() {
        let mut c = Checker::new();
        c.final_history(10, vec![100, 99]);
        assert_eq!(c.verdict().violations, [Violation::HistoryOutOfOrder(10)]);
    }
}
