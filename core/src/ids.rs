//! Time-ordered 64-bit ids (Snowflake layout), free of IO: time is passed in.
//!
//! Layout, from the most significant bit: 1 unused bit, 41 bits of
//! milliseconds since [`EPOCH_MS`], 10 bits of node id, 12 bits of sequence.
//! The unused bit stays 0 until the milliseconds run out (in 2094), so an id
//! fits a signed 64-bit column as it is and keeps its order there.
//! Ids from one generator strictly increase even if the clock steps back:
//! the generator never uses a timestamp older than the last one it issued,
//! and borrows the next millisecond when a millisecond's sequence runs out.

/// 2025-01-01T00:00:00Z in Unix milliseconds.
pub const EPOCH_MS: u64 = 1_735_689_600_000;
const NODE_BITS: u32 = 10;
const SEQ_BITS: u32 = 12;
const SEQ_MASK: u64 = (1 << SEQ_BITS) - 1;
/// The largest node id that fits the layout.
pub const MAX_NODE_ID: u16 = (1 << NODE_BITS) - 1;

/// Issues strictly increasing ids for one node.
#[derive(Debug, Clone)]
pub struct IdGenerator {
    node: u64,
    last_ts: u64,
    seq: u64,
}

/// The parts of an id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdParts {
    /// Unix milliseconds.
    pub unix_ms: u64,
    /// The node that issued it.
    pub node: u16,
    /// The sequence within its millisecond.
    pub seq: u16,
}

impl IdGenerator {
    /// A generator for `node` (at most [`MAX_NODE_ID`]) whose ids all exceed `floor`.
    pub fn new(node: u16, floor: u64) -> Self {
        let mut generator = Self {
            node: u64::from(node.min(MAX_NODE_ID)),
            last_ts: 0,
            seq: 0,
        };
        generator.raise_to(floor);
        generator
    }

    /// The node this generator issues ids for.
    pub fn node(&self) -> u16 {
        // Clamped to MAX_NODE_ID in `new`, so it fits.
        u16::try_from(self.node).unwrap_or(MAX_NODE_ID)
    }

    /// Makes every later id exceed `floor` as well as every id issued so
    /// far; never moves the generator back.
    fn raise_to(&mut self, floor: u64) {
        if self.compose(self.last_ts, self.seq) >= floor {
            return;
        }
        self.last_ts = floor >> (NODE_BITS + SEQ_BITS);
        self.seq = floor & SEQ_MASK;
        // Another node's id in the floor's millisecond may carry a larger
        // node field than ours: then move on to the next millisecond.
        if self.compose(self.last_ts, self.seq) < floor {
            self.seq = SEQ_MASK;
        }
    }

    fn compose(&self, ts: u64, seq: u64) -> u64 {
        (ts << (NODE_BITS + SEQ_BITS)) | (self.node << SEQ_BITS) | seq
    }

    /// The next id, given the wall clock in Unix milliseconds.
    pub fn next(&mut self, now_unix_ms: u64) -> u64 {
        let now = now_unix_ms.saturating_sub(EPOCH_MS);
        if now > self.last_ts {
            self.last_ts = now;
            self.seq = 0;
        } else if self.seq < SEQ_MASK {
            self.seq += 1;
        } else {
            self.last_ts += 1;
            self.seq = 0;
        }
        self.compose(self.last_ts, self.seq)
    }

    /// The next id, strictly above both every id issued so far and `floor`
    /// (say, the last id stored in a channel, which a clock that stepped
    /// back across a restart could otherwise undercut).
    pub fn next_above(&mut self, now_unix_ms: u64, floor: u64) -> u64 {
        self.raise_to(floor);
        self.next(now_unix_ms)
    }
}

/// Splits an id into its parts.
pub fn parts(id: u64) -> IdParts {
    IdParts {
        unix_ms: (id >> (NODE_BITS + SEQ_BITS)) + EPOCH_MS,
        node: ((id >> SEQ_BITS) & u64::from(MAX_NODE_ID)) as u16,
        seq: (id & SEQ_MASK) as u16,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: u64 = EPOCH_MS + 1_000_000;

    #[test]
    fn ids_carry_time_node_and_sequence() {
        let mut g = IdGenerator::new(7, 0);
        let id = g.next(T0);
        assert_eq!(
            parts(id),
            IdParts {
                unix_ms: T0,
                node: 7,
                seq: 0
            }
        );
        assert_eq!(parts(g.next(T0)).seq, 1);
        assert_eq!(
            parts(g.next(T0 + 5)),
            IdParts {
                unix_ms: T0 + 5,
                node: 7,
                seq: 0
            }
        );
    }

    #[test]
    fn ids_increase_when_the_clock_steps_back() {
        let mut g = IdGenerator::new(1, 0);
        let a = g.next(T0);
        let b = g.next(T0 - 60_000);
        let c = g.next(T0 - 120_000);
        assert!(a < b && b < c);
    }

    #[test]
    fn sequence_exhaustion_borrows_the_next_millisecond() {
        let mut g = IdGenerator::new(1, 0);
        let mut last = 0;
        for _ in 0..(SEQ_MASK + 10) {
            let id = g.next(T0);
            assert!(id > last);
            last = id;
        }
        assert_eq!(parts(last).unix_ms, T0 + 1);
    }

    #[test]
    fn ids_exceed_the_floor_even_from_a_lower_node() {
        let mut high = IdGenerator::new(900, 0);
        let floor = high.next(T0);
        let mut low = IdGenerator::new(3, floor);
        assert!(low.next(T0 - 10_000) > floor);
        assert!(low.next(T0) > floor);
    }

    #[test]
    fn next_above_exceeds_a_floor_from_the_future() {
        let mut g = IdGenerator::new(5, 0);
        let before = g.next(T0);
        // A channel's last id, written 60 s "later" by a clock since stepped back.
        let floor = IdGenerator::new(5, 0).next(T0 + 60_000);
        let id = g.next_above(T0 + 1, floor);
        assert!(id > floor && id > before);
        assert_eq!(parts(id).node, 5);
        // The generator stays above the floor for every later id.
        assert!(g.next(T0 + 2) > id);
    }

    #[test]
    fn next_above_a_higher_node_in_the_same_millisecond_moves_on() {
        let floor = IdGenerator::new(900, 0).next(T0);
        let mut low = IdGenerator::new(3, 0);
        let id = low.next_above(T0, floor);
        assert!(id > floor);
        assert_eq!(parts(id).unix_ms, T0 + 1);
    }

    #[test]
    fn next_above_a_past_floor_is_next() {
        let mut g = IdGenerator::new(1, 0);
        let old = g.next(T0);
        let mut twin = g.clone();
        assert_eq!(g.next_above(T0 + 7, old), twin.next(T0 + 7));
        assert_eq!(g.next_above(T0 + 7, 0), twin.next(T0 + 7));
    }

    #[test]
    fn next_above_the_last_id_of_its_own_millisecond_borrows_the_next() {
        let mut g = IdGenerator::new(1, 0);
        let id = (0..=SEQ_MASK).map(|_| g.next(T0)).last().unwrap_or(0);
        assert_eq!(parts(id).seq as u64, SEQ_MASK);
        let next = IdGenerator::new(1, 0).next_above(T0, id);
        assert!(next > id);
        assert_eq!(parts(next).unix_ms, T0 + 1);
    }

    #[test]
    fn ids_never_set_the_top_bit() {
        // The latest millisecond the layout holds, with every other field full.
        let mut g = IdGenerator::new(MAX_NODE_ID, 0);
        let id = g.next(EPOCH_MS + (1 << 41) - 1);
        assert_eq!(id >> 63, 0, "ids fit a signed 64-bit column as they are");
        assert_eq!(g.node(), MAX_NODE_ID);
    }

    #[test]
    fn a_restart_continues_above_stored_ids() {
        let mut g = IdGenerator::new(1, 0);
        let stored = (0..100).map(|_| g.next(T0 + 50)).max().unwrap_or(0);
        let mut restarted = IdGenerator::new(1, stored);
        assert!(restarted.next(T0) > stored);
    }
}
