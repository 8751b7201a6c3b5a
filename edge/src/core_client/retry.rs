//! Which failed calls may be tried again: pure rules, no IO.

use std::time::Duration;

use chat_proto::{ERROR_CODE_KEY, OWNER_KEY};
use tonic::{Code, Status};

/// Whether a call may run twice with the same effect as once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idempotence {
    /// A read, or a write the core deduplicates (`client_msg_id`, a read
    /// position that only moves forward, a session keyed by its id).
    Safe,
    /// A write that would happen twice (a new group, an edit's version).
    Unsafe,
}

/// True when `status` says the core was not reached or could not answer,
/// rather than that it refused the call: the core names each refusal with
/// an error code, transport failures carry none.
pub fn unreachable(status: &Status) -> bool {
    status.code() == Code::Unavailable && status.metadata().get(ERROR_CODE_KEY).is_none()
}

/// True when a core answered that it does not own the call's channel:
/// nothing was done, and the owner may be named ([`owner_named`]).
pub fn not_owner(status: &Status) -> bool {
    status
        .metadata()
        .get(ERROR_CODE_KEY)
        .is_some_and(|code| code == "not_owner")
}

/// The owner a `not_owner` answer names.
pub fn owner_named(status: &Status) -> Option<u64> {
    status
        .metadata()
        .get(OWNER_KEY)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

/// The pause before try `moved` (1 for the first) at another core after
/// `not_owner`: none at first (the owner named is likely right), then
/// doubling from `first` up to half a second, while the views converge;
/// `None` when it would not fit in `remaining`.
pub fn moved_pause(moved: u32, first: Duration, remaining: Duration) -> Option<Duration> {
    let pause = match moved {
        0 | 1 => Duration::ZERO,
        n => first
            .saturating_mul(1 << (n - 2).min(16))
            .min(Duration::from_millis(500)),
    };
    (pause < remaining).then_some(pause)
}

/// The pause before attempt `attempt` (1 for the first retry), or `None`
/// when no retry is left or it would not fit in `remaining`.
pub fn backoff(
    attempt: u32,
    retries: u32,
    first: Duration,
    remaining: Duration,
) -> Option<Duration> {
    if attempt > retries {
        return None;
    }
    let pause = first.saturating_mul(1 << (attempt - 1).min(16));
    (pause < remaining).then_some(pause)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_transport_failures_count_as_unreachable() {
        assert!(unreachable(&Status::unavailable("connection refused")));
        let mut refused = Status::unavailable("storage down");
        refused.metadata_mut().insert(
            ERROR_CODE_KEY,
            "storage_unavailable".parse().expect("ascii"),
        );
        assert!(!unreachable(&refused));
        assert!(!unreachable(&Status::not_found("no such channel")));
        assert!(!unreachable(&Status::deadline_exceeded("late")));
    }

    #[test]
    fn a_not_owner_answer_names_the_owner_and_is_tried_again_at_once() {
        let mut status = Status::unavailable("not the owner");
        status
            .metadata_mut()
            .insert(ERROR_CODE_KEY, "not_owner".parse().expect("ascii"));
        assert!(not_owner(&status));
        assert_eq!(owner_named(&status), None, "no owner known");
        status
            .metadata_mut()
            .insert(OWNER_KEY, "17".parse().expect("ascii"));
        assert_eq!(owner_named(&status), Some(17));
        assert!(!not_owner(&Status::unavailable("connection refused")));
        let ms = Duration::from_millis;
        assert_eq!(moved_pause(1, ms(50), ms(1000)), Some(ms(0)));
        assert_eq!(moved_pause(2, ms(50), ms(1000)), Some(ms(50)));
        assert_eq!(moved_pause(3, ms(50), ms(1000)), Some(ms(100)));
        assert_eq!(moved_pause(9, ms(50), ms(1000)), Some(ms(500)), "capped");
        assert_eq!(moved_pause(9, ms(50), ms(400)), None, "past the deadline");
    }

    #[test]
    fn backoff_doubles_and_stays_inside_the_budget() {
        let ms = Duration::from_millis;
        assert_eq!(backoff(1, 2, ms(50), ms(1000)), Some(ms(50)));
        assert_eq!(backoff(2, 2, ms(50), ms(1000)), Some(ms(100)));
        assert_eq!(backoff(3, 2, ms(50), ms(1000)), None, "retries used up");
        assert_eq!(backoff(2, 5, ms(50), ms(90)), None, "past the deadline");
    }
}
