//! Checks that what a client receives is right: in order, once each.

use std::collections::HashMap;

/// The last message id seen per channel.
#[derive(Debug, Default)]
pub struct OrderCheck {
    last: HashMap<u64, u64>,
}

impl OrderCheck {
    /// Notes message `id` of `channel`; `Err` describes a repeat or reorder.
    pub fn see(&mut self, channel: u64, id: u64) -> Result<(), String> {
        let last = self.last.entry(channel).or_default();
        if id <= *last {
            let what = if id == *last { "twice" } else { "out of order" };
            return Err(format!(
                "channel {channel}: message {id} {what} (after {last})"
            ));
        }
        *last = id;
        Ok(())
    }
}
