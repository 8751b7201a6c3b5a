//! The user events an edge was sent lately, numbered, so a stream that
//! broke can be resumed from the last one the edge received.

use std::collections::VecDeque;

use chat_proto::v1::Event;

/// The last user events sent to one edge, oldest first.
#[derive(Debug)]
pub struct Ring {
    events: VecDeque<Event>,
    next_seq: u64,
    capacity: usize,
}

impl Ring {
    /// An empty ring that keeps up to `capacity` events.
    pub fn new(capacity: usize) -> Self {
        Self {
            events: VecDeque::new(),
            next_seq: 1,
            capacity,
        }
    }

    /// Numbers `event`, keeps a copy and returns it numbered.
    pub fn push(&mut self, mut event: Event) -> Event {
        event.seq = self.next_seq;
        self.next_seq += 1;
        if self.events.len() == self.capacity {
            self.events.pop_front();
        }
        self.events.push_back(event.clone());
        event
    }

    /// The events after `seq`, in order, or `None` if some of them are
    /// gone (or `seq` is one this ring never issued).
    pub fn since(&self, seq: u64) -> Option<Vec<Event>> {
        if seq >= self.next_seq {
            return (seq + 1 == self.next_seq).then(Vec::new);
        }
        let first = self.events.front().map_or(self.next_seq, |e| e.seq);
        if seq + 1 < first {
            return None;
        }
        Some(
            self.events
                .iter()
                .filter(|e| e.seq > seq)
                .cloned()
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seqs(events: &[Event]) -> Vec<u64> {
        events.iter().map(|e| e.seq).collect()
    }

    #[test]
    fn events_are_numbered_from_one_and_replayed_after_a_seq() {
        let mut ring = Ring::new(3);
        assert_eq!(ring.since(0).map(|e| e.len()), Some(0), "nothing yet");
        for want in 1..=3 {
            assert_eq!(ring.push(Event::default()).seq, want);
        }
        assert_eq!(ring.since(1).as_deref().map(seqs), Some(vec![2, 3]));
        assert_eq!(ring.since(3).as_deref().map(seqs), Some(vec![]));
        assert!(ring.since(4).is_none(), "never issued");
    }

    #[test]
    fn a_seq_whose_successors_were_dropped_cannot_resume() {
        let mut ring = Ring::new(2);
        for _ in 0..4 {
            ring.push(Event::default());
        }
        // Holds 3 and 4: after 2 is whole, after 1 lost 2.
        assert_eq!(ring.since(2).as_deref().map(seqs), Some(vec![3, 4]));
        assert!(ring.since(1).is_none());
        assert!(ring.since(0).is_none());
    }
}
