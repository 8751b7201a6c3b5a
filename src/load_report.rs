//! A node's load as its ZooKeeper registration publishes it: how many
//! connections it holds and how much CPU it used lately.

use std::time::{Duration, Instant};

use chat_discovery::{LOAD_WRITE_INTERVAL, Load};
use nix::sys::resource::{UsageWho, getrusage};
use tokio_util::sync::CancellationToken;

/// The CPU time this process has used (user and system).
fn cpu_time() -> Option<Duration> {
    let usage = getrusage(UsageWho::RUSAGE_SELF).ok()?;
    let time = |t: nix::sys::time::TimeVal| {
        Duration::new(
            u64::try_from(t.tv_sec()).unwrap_or(0),
            u32::try_from(t.tv_usec()).unwrap_or(0) * 1_000,
        )
    };
    Some(time(usage.user_time()) + time(usage.system_time()))
}

/// Every [`LOAD_WRITE_INTERVAL`] until `stop`, hands `publish` the load:
/// `connections()` of at most `capacity` (0: no bound) and the CPU used
/// since the last time, in percent of one core.
pub async fn publish_load(
    publish: impl Fn(Load),
    connections: impl Fn() -> u64,
    capacity: u64,
    stop: CancellationToken,
) {
    let (mut at, mut used) = (Instant::now(), cpu_time().unwrap_or_default());
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(LOAD_WRITE_INTERVAL) => {}
        }
        let (now, cpu) = (Instant::now(), cpu_time().unwrap_or(used));
        let wall = now.duration_since(at).as_secs_f64();
        let cpu_percent = if wall > 0.0 {
            (cpu.saturating_sub(used).as_secs_f64() / wall * 100.0) as f32
        } else {
            0.0
        };
        publish(Load {
            connections: connections(),
            cpu_percent,
            capacity,
        });
        (at, used) = (now, cpu);
    }
}
