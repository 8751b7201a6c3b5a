//! `ready` is a consistent cut: every channel's `last_message_id` and
//! unread count in it include each message up to that id. The session is
//! registered for live events before the ready state is read, so a message
//! committed just before the read may also be on its way live; it must not
//! be shown (or counted) twice. The cut remembers, per channel that had
//! messages, the id `ready` reflected and drops live messages at or below
//! it. Live messages of a channel come in id order, so the first one above
//! the floor ends the filter for that channel.

/// Per channel, the last message id `ready` reflected.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ReadyCut {
    /// `(channel_id, last_message_id)`, ascending by channel.
    floors: Vec<(u64, u64)>,
}

impl ReadyCut {
    /// The cut of these `(channel_id, last_message_id)` pairs; `None` when
    /// no channel had a message, so idle sessions carry nothing.
    pub fn new(channels: impl IntoIterator<Item = (u64, u64)>) -> Option<Box<Self>> {
        let mut floors: Vec<(u64, u64)> = channels.into_iter().filter(|(_, id)| *id > 0).collect();
        if floors.is_empty() {
            return None;
        }
        floors.sort_unstable();
        floors.dedup_by_key(|(channel, _)| *channel);
        Some(Box::new(Self { floors }))
    }

    /// Whether live message `id` of `channel` is new to the client.
    pub fn admit(&mut self, channel: u64, id: u64) -> bool {
        match self.floors.binary_search_by_key(&channel, |(c, _)| *c) {
            Ok(i) if id <= self.floors[i].1 => false,
            Ok(i) => {
                self.floors.remove(i);
                true
            }
            Err(_) => true,
        }
    }

    /// True once every channel has passed its floor.
    pub fn is_done(&self) -> bool {
        self.floors.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_ready_reflected_are_dropped_and_later_ones_pass() {
        let mut cut = ReadyCut::new([(10, 500), (11, 0), (12, 700)]).expect("two floors");
        assert!(!cut.admit(10, 499));
        assert!(!cut.admit(10, 500), "ready counted it");
        assert!(cut.admit(11, 5), "an empty channel has no floor");
        assert!(cut.admit(13, 1), "a channel ready did not list");
        assert!(cut.admit(10, 501));
        assert!(cut.admit(10, 400), "after the first new one, no filter");
        assert!(!cut.is_done());
        assert!(cut.admit(12, 701));
        assert!(cut.is_done());
        assert_eq!(ReadyCut::new([(1, 0)]), None);
    }
}
