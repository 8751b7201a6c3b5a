//! Which live node owns a key (a channel id, or a user id for user-scoped
//! state): rendezvous hashing, also called highest-random-weight (HRW).
//!
//! Every node computes, for a key, a weight per live node,
//! [`weight`]`(key, node)`, and the node with the highest weight owns the
//! key (ties, which need a 64-bit collision, go to the higher node id). The
//! input is only the key and the set of live node ids that ZooKeeper lists,
//! so any two processes that see the same membership agree on every owner.
//!
//! **Why rendezvous rather than a ring with virtual nodes.**
//! - There is no ring state to build, keep or agree on: no virtual-node
//!   count to configure, no token list to publish. The member list alone
//!   decides.
//! - Movement is minimal by construction. Adding an (n+1)th node moves a key
//!   only when the new node's weight beats the old winner's, which happens for
//!   ~1/(n+1) of the keys, and every moved key moves *to the new node*.
//!   Removing a node moves only the keys it owned (each to its own runner-up);
//!   no other key changes owner. A ring gets the same only on average, with
//!   enough virtual nodes, and with a lumpier balance at small n.
//! - Balance is that of independent random weights: each of n nodes gets 1/n
//!   of the keys with a binomial spread (at 100,000 keys and 3 nodes, a
//!   standard deviation of ~0.15 percentage points).
//! - The cost, O(n) weights per lookup, is nothing at the tens of nodes a
//!   core cluster has (a few nanoseconds per node).
//!
//! **The mix is fixed, forever.** Nodes built by different releases of this
//! code or of Rust must compute the same owner, so the weight is a fixed
//! formula on `u64`s, never `std`'s `DefaultHasher` (whose output may change
//! between Rust releases) nor anything seeded per process:
//!
//! ```text
//! mix64(z)          = splitmix64's finalizer:
//!                     z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
//!                     z = (z ^ (z >> 27)) * 0x94d049bb133111eb
//!                     z ^ (z >> 31)                    (wrapping u64 arithmetic)
//! weight(key, node) = mix64(key ^ mix64(node + 0x9e3779b97f4a7c15))
//! ```
//!
//! Each node id becomes a pseudo-random 64-bit mask, the key is XORed with it
//! and the result mixed (the finalizer is a bijection with full avalanche,
//! so structured keys such as Snowflake ids and small sequential node ids
//! still give independent-looking weights). The golden-value test below
//! breaks if anyone changes the formula; changing it means every channel
//! changes owner at once during a rolling upgrade, so don't.

/// splitmix64's finalizer: a fixed bijective 64-bit mix (see the module doc).
pub const fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The rendezvous weight of `node` for `key`; the highest weight owns the key.
pub const fn weight(key: u64, node: u64) -> u64 {
    mix64(key ^ mix64(node.wrapping_add(0x9e37_79b9_7f4a_7c15)))
}

/// The owner of `key` among the live `nodes` (ids; order and duplicates do
/// not matter), or `None` when there is none.
pub fn owner(key: u64, nodes: &[u64]) -> Option<u64> {
    nodes
        .iter()
        .copied()
        .max_by_key(|&node| (weight(key, node), node))
}

/// The live `nodes` ranked for `key`, owner first: where the key goes if the
/// nodes before fail (for handover and for retrying at the runner-up).
pub fn ranked(key: u64, nodes: &[u64]) -> Vec<u64> {
    let mut ranked: Vec<u64> = nodes.to_vec();
    ranked.sort_unstable();
    ranked.dedup();
    ranked.sort_unstable_by_key(|&node| std::cmp::Reverse((weight(key, node), node)));
    ranked
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEYS: u64 = 100_000;

    /// Keys shaped like channel ids: Snowflake-like (a millisecond time
    /// above bit 22, a small node and sequence below), and plain 0..n.
    fn keys() -> impl Iterator<Item = u64> {
        let snowflakes =
            (0..KEYS / 2).map(|i| ((1_000_000 + i * 7) << 22) | ((i % 3) << 12) | (i % 5));
        (0..KEYS / 2).chain(snowflakes)
    }

    fn counts(nodes: &[u64]) -> Vec<u64> {
        let mut counts = vec![0u64; nodes.len()];
        for key in keys() {
            let owner = owner(key, nodes).expect("nodes is not empty");
            let index = nodes
                .iter()
                .position(|&n| n == owner)
                .expect("owner is a node");
            counts[index] += 1;
        }
        counts
    }

    #[test]
    fn no_nodes_no_owner_and_one_node_owns_everything() {
        assert_eq!(owner(42, &[]), None);
        assert!(keys().take(1000).all(|k| owner(k, &[7]) == Some(7)));
    }

    #[test]
    fn order_and_duplicates_of_the_node_list_do_not_matter() {
        for key in keys().step_by(97) {
            let a = owner(key, &[1, 2, 3, 4]);
            assert_eq!(a, owner(key, &[4, 3, 2, 1]));
            assert_eq!(a, owner(key, &[3, 1, 4, 1, 2, 4]));
            assert_eq!(a, ranked(key, &[2, 4, 1, 3]).first().copied());
        }
    }

    /// Each of 3 nodes owns 1/3 of 100,000 keys within ±1 percentage point
    /// (the binomial standard deviation is ~0.15 points, so this is ~6σ).
    #[test]
    fn three_nodes_share_keys_evenly() {
        for nodes in [[0u64, 1, 2], [1, 2, 3], [17, 18, 25]] {
            let counts = counts(&nodes);
            for (node, count) in nodes.iter().zip(&counts) {
                let share = *count as f64 / KEYS as f64;
                assert!(
                    (share - 1.0 / 3.0).abs() < 0.01,
                    "node {node} of {nodes:?} owns {share:.4} ({counts:?})"
                );
            }
        }
    }

    /// A 4th node takes ~1/4 of the keys (±1 point), and every key that
    /// moves, moves to it.
    #[test]
    fn adding_a_node_moves_only_keys_to_it() {
        let before = [1u64, 2, 3];
        let after = [1u64, 2, 3, 4];
        let mut moved = 0u64;
        for key in keys() {
            let (old, new) = (owner(key, &before), owner(key, &after));
            if old != new {
                assert_eq!(
                    new,
                    Some(4),
                    "key {key} moved from {old:?} to {new:?}, not to the new node"
                );
                moved += 1;
            }
        }
        let share = moved as f64 / KEYS as f64;
        assert!((share - 0.25).abs() < 0.01, "{share:.4} of the keys moved");
    }

    /// Removing a node moves exactly the keys it owned, and no other.
    #[test]
    fn removing_a_node_moves_only_its_keys() {
        let before = [1u64, 2, 3, 4];
        let after = [1u64, 2, 4];
        for key in keys() {
            let (old, new) = (owner(key, &before), owner(key, &after));
            if old == Some(3) {
                assert_ne!(new, Some(3));
                assert_eq!(
                    new,
                    ranked(key, &before).get(1).copied(),
                    "goes to its runner-up"
                );
            } else {
                assert_eq!(old, new, "key {key} moved though its owner stayed");
            }
        }
    }

    /// Fixed results: if this fails, the mix changed, and nodes of different
    /// builds would disagree about owners. Do not update these values.
    #[test]
    fn golden_values() {
        assert_eq!(mix64(0), 0);
        assert_eq!(mix64(1), 0x5692_161d_100b_05e5);
        assert_eq!(weight(0, 0), 0x4821_8226_ff3c_d4bf);
        assert_eq!(weight(123_456_789, 3), 0x702e_4811_a291_63a9);
        let nodes = [1u64, 2, 3];
        // Computed independently (Python) from the formula in the module doc.
        let golden: [(u64, u64); 6] = [
            (0, 2),
            (1, 2),
            (42, 1),
            (1_000_000, 1),
            (u64::MAX, 3),
            (7_000_000_000 << 22, 2),
        ];
        for (key, expected) in golden {
            assert_eq!(owner(key, &nodes), Some(expected), "owner of {key}");
        }
    }
}
