//! Catch-up after a reconnect: sends every message newer than the device's
//! cursor, per channel, page by page, then joins live delivery with no gap
//! and no duplicate at the seam.
//!
//! The session is registered for live events before the first page is read.
//! While a channel catches up, its live messages are not sent but their
//! largest id is noted: each was committed before it was published, so a
//! later page holds it, and the channel is not finished until a page has
//! reached that id. Once finished, live messages at or below the last id
//! sent are duplicates and are dropped; the first one above passes, and from
//! then on live delivery (in id order) needs no filter.
//!
//! Then, for each channel the device already held messages of, the session
//! reads the messages edited or deleted since its cursor (every change
//! takes a fresh id as its version, so "version above the cursor" covers
//! every change the device may have missed). Live edits always pass: the
//! client keeps, of two copies of a message, the one with the larger
//! `version_id`, so a stale copy from a page never overwrites a newer one.

use std::collections::{HashMap, VecDeque};

/// Which kind of page to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageKind {
    /// New messages: ids above `after`.
    Messages,
    /// Edited or deleted messages: versions above `after`.
    Changes,
}

/// What to read next: the page of `channel` after `after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// Channel to read.
    pub channel_id: u64,
    /// Last id (or version) already covered.
    pub after: u64,
    /// Messages or changes.
    pub kind: PageKind,
}

/// The catch-up state of one session.
#[derive(Debug, Default)]
pub struct Catchup {
    /// Channels not started yet, in the order the client gave them.
    queue: VecDeque<PageRequest>,
    /// Channels not finished yet: the largest live id seen meanwhile.
    pending: HashMap<u64, u64>,
    /// The channel being read, if a page is in flight.
    current: Option<PageRequest>,
    /// Finished channels: live ids at or below this were already sent.
    floors: HashMap<u64, u64>,
    /// The cursor each channel started from.
    cursors: HashMap<u64, u64>,
    /// Messages sent from pages so far.
    sent: u64,
    /// Changes sent from pages so far.
    changed: u64,
}

impl Catchup {
    /// Starts catching up from `cursors` (channel id, largest id held).
    pub fn new(cursors: impl IntoIterator<Item = (u64, u64)>) -> Self {
        let mut catchup = Self::default();
        for (channel_id, after) in cursors {
            if catchup.pending.insert(channel_id, 0).is_none() {
                catchup.cursors.insert(channel_id, after);
                catchup.queue.push_back(PageRequest {
                    channel_id,
                    after,
                    kind: PageKind::Messages,
                });
            }
        }
        catchup
    }

    /// True when every channel has caught up, changes included.
    pub fn is_done(&self) -> bool {
        self.pending.is_empty() && self.queue.is_empty() && self.current.is_none()
    }

    /// How many messages pages delivered.
    pub fn sent(&self) -> u64 {
        self.sent
    }

    /// How many changed messages pages delivered.
    pub fn changed(&self) -> u64 {
        self.changed
    }

    /// The next page to read, unless one is in flight or all are done.
    pub fn next_request(&mut self) -> Option<PageRequest> {
        if self.current.is_some() {
            return None;
        }
        self.current = self.queue.pop_front();
        self.current
    }

    /// Takes a page of `channel_id`: the ids it holds, in order, and whether
    /// newer messages exist. Returns the ids to send (those above the cursor).
    pub fn on_page(&mut self, channel_id: u64, ids: &[u64], has_more_after: bool) -> Vec<u64> {
        let Some(mut current) = self
            .current
            .take_if(|c| c.channel_id == channel_id && c.kind == PageKind::Messages)
        else {
            return Vec::new();
        };
        let cursor = self.cursors.get(&channel_id).copied().unwrap_or(0);
        let fresh: Vec<u64> = ids
            .iter()
            .copied()
            .filter(|&id| id > current.after)
            .collect();
        if let Some(&last) = fresh.last() {
            current.after = last;
        }
        self.sent += fresh.len() as u64;
        let live_max = self.pending.get(&channel_id).copied().unwrap_or(0);
        if has_more_after || live_max > current.after {
            self.queue.push_front(current);
        } else {
            self.pending.remove(&channel_id);
            self.floors.insert(channel_id, current.after);
            if cursor > 0 {
                self.queue.push_back(PageRequest {
                    channel_id,
                    after: cursor,
                    kind: PageKind::Changes,
                });
            }
        }
        fresh
    }

    /// Takes a page of changes to `channel_id`: how many it held, the last
    /// version in it, and whether more exist.
    pub fn on_changes(
        &mut self,
        channel_id: u64,
        count: usize,
        last_version: Option<u64>,
        has_more: bool,
    ) -> bool {
        let Some(mut current) = self
            .current
            .take_if(|c| c.channel_id == channel_id && c.kind == PageKind::Changes)
        else {
            return false;
        };
        self.changed += count as u64;
        if let Some(version) = last_version
            && has_more
        {
            current.after = version;
            self.queue.push_front(current);
        }
        true
    }

    /// Gives up on `channel_id` (the page could not be read).
    pub fn on_failure(&mut self, channel_id: u64) {
        if self
            .current
            .take_if(|c| c.channel_id == channel_id)
            .is_some()
        {
            self.pending.remove(&channel_id);
            self.queue.retain(|r| r.channel_id != channel_id);
        }
    }

    /// Whether a live message may be sent now.
    pub fn admit(&mut self, channel_id: u64, id: u64) -> bool {
        if let Some(live_max) = self.pending.get_mut(&channel_id) {
            *live_max = (*live_max).max(id);
            return false;
        }
        match self.floors.get(&channel_id) {
            Some(&floor) if id <= floor => false,
            Some(_) => {
                self.floors.remove(&channel_id);
                true
            }
            None => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_until_the_end_then_goes_live() {
        let mut c = Catchup::new([(1, 10)]);
        assert_eq!(
            c.next_request(),
            Some(PageRequest {
                channel_id: 1,
                after: 10,
                kind: PageKind::Messages
            })
        );
        assert_eq!(c.next_request(), None, "one page in flight at a time");
        assert!(!c.admit(1, 30), "live messages wait while catching up");
        assert_eq!(c.on_page(1, &[11, 12], true), vec![11, 12]);
        assert_eq!(
            c.next_request(),
            Some(PageRequest {
                channel_id: 1,
                after: 12,
                kind: PageKind::Messages
            })
        );
        assert_eq!(c.on_page(1, &[20], false), vec![20]);
        // Message 30 went live while the last page was read: read again.
        assert!(!c.is_done());
        assert_eq!(
            c.next_request(),
            Some(PageRequest {
                channel_id: 1,
                after: 20,
                kind: PageKind::Messages
            })
        );
        assert_eq!(c.on_page(1, &[30], false), vec![30]);
        let changes = PageRequest {
            channel_id: 1,
            after: 10,
            kind: PageKind::Changes,
        };
        assert!(!c.is_done(), "changes since the cursor come next");
        assert_eq!(c.next_request(), Some(changes));
        assert!(c.on_changes(1, 2, Some(25), true));
        let more = PageRequest {
            after: 25,
            ..changes
        };
        assert_eq!(c.next_request(), Some(more));
        assert!(c.on_changes(1, 1, Some(26), false));
        assert!(c.is_done());
        assert_eq!(c.changed(), 3);
        assert_eq!(c.sent(), 4);
        assert!(!c.admit(1, 30), "already sent from a page");
        assert!(c.admit(1, 31));
        assert!(c.admit(1, 32));
    }

    #[test]
    fn other_channels_stay_live() {
        let mut c = Catchup::new([(1, 0)]);
        assert!(c.admit(2, 5));
        c.next_request();
        assert!(!c.admit(1, 5));
    }

    #[test]
    fn channels_are_read_one_after_another() {
        let mut c = Catchup::new([(1, 0), (2, 7), (1, 3)]);
        assert_eq!(c.next_request().map(|r| r.channel_id), Some(1));
        assert_eq!(c.on_page(1, &[], false), Vec::<u64>::new());
        // A channel read from the start has no changes to catch up on.
        assert_eq!(
            c.next_request(),
            Some(PageRequest {
                channel_id: 2,
                after: 7,
                kind: PageKind::Messages
            })
        );
        c.on_failure(2);
        assert!(c.is_done());
        assert_eq!(c.next_request(), None);
    }

    #[test]
    fn a_page_for_another_channel_is_ignored() {
        let mut c = Catchup::new([(1, 0)]);
        c.next_request();
        assert!(c.on_page(9, &[1], false).is_empty());
        assert!(!c.is_done());
    }
}
