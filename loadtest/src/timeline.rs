//! A run over time: per one-second window since the run started, how many
//! events happened (throughput) and how long they took (latency).
//!
//! Each task keeps its own [`Timeline`], two plain vectors with no locks,
//! and the scenario merges them at the end, as it does with `Latency`.
//! Per-task HDR histograms for every second would cost ~140 KB each, so a
//! task logs (second, µs) pairs, 8 bytes a sample, and the per-second
//! histograms are built once, when the merged timeline is summarised.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::latency::Latency;

/// Windows past this one (a day) are counted in it.
const LAST_SECOND: u32 = 86_399;

/// When the run started; windows count whole seconds from here.
pub fn origin() -> Instant {
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    *ORIGIN.get_or_init(Instant::now)
}

/// The window `at` falls in.
fn second_of(at: Instant) -> u32 {
    let secs = at.saturating_duration_since(origin()).as_secs();
    u32::try_from(secs).unwrap_or(u32::MAX).min(LAST_SECOND)
}

/// One task's events and latency samples, by second since [`origin`].
#[derive(Debug, Default)]
pub struct Timeline {
    /// Events per second, indexed by second.
    events: Vec<u64>,
    /// (second, latency in µs), one per sample, in no particular order.
    samples: Vec<(u32, u32)>,
}

impl Timeline {
    /// Notes one event that happened at `at`, with its latency if it has one.
    pub fn event(&mut self, at: Instant, latency: Option<Duration>) {
        let second = second_of(at);
        let i = second as usize;
        if self.events.len() <= i {
            self.events.resize(i + 1, 0);
        }
        self.events[i] += 1;
        if let Some(latency) = latency {
            let us = u32::try_from(latency.as_micros()).unwrap_or(u32::MAX);
            self.samples.push((second, us));
        }
    }

    /// Adds another task's timeline.
    pub fn merge(&mut self, mut other: Timeline) {
        if self.events.len() < other.events.len() {
            self.events.resize(other.events.len(), 0);
        }
        for (mine, theirs) in self.events.iter_mut().zip(other.events) {
            *mine += theirs;
        }
        self.samples.append(&mut other.samples);
    }

    /// One window per second, from the first second with an event or a
    /// sample to the last, quiet seconds included.
    pub fn windows(mut self) -> Vec<Window> {
        self.samples.sort_unstable_by_key(|&(second, _)| second);
        let busy = self.events.iter().position(|&n| n > 0);
        let last_busy = self.events.iter().rposition(|&n| n > 0);
        let first = [busy.map(|i| i as u32), self.samples.first().map(|s| s.0)];
        let last = [
            last_busy.map(|i| i as u32),
            self.samples.last().map(|s| s.0),
        ];
        let (Some(first), Some(last)) = (
            first.into_iter().flatten().min(),
            last.into_iter().flatten().max(),
        ) else {
            return Vec::new();
        };
        let mut groups = self.samples.chunk_by(|a, b| a.0 == b.0).peekable();
        (first..=last)
            .map(|second| {
                let count = self.events.get(second as usize).copied().unwrap_or(0);
                let group = groups.next_if(|g| g.first().is_some_and(|s| s.0 == second));
                Window::new(second, count, group.unwrap_or_default())
            })
            .collect()
    }

    /// All latency samples in one histogram.
    pub fn latency(&self) -> Latency {
        latency_of(&self.samples)
    }

    /// The merged timeline as the report carries it.
    pub fn summary(self, latency: &str, events: &str) -> Summary {
        Summary {
            latency: latency.to_owned(),
            events: events.to_owned(),
            windows: self.windows(),
        }
    }
}

/// `(second, µs)` samples in one histogram.
fn latency_of(samples: &[(u32, u32)]) -> Latency {
    let mut latency = Latency::default();
    for &(_, us) in samples {
        latency.record(Duration::from_micros(u64::from(us)));
    }
    latency
}

/// One second of the run.
#[derive(Debug, Clone, Serialize)]
pub struct Window {
    /// Whole seconds since the run started; the window is [second, second + 1).
    pub second: u32,
    /// Events in the window, which is also the rate per second.
    pub count: u64,
    /// Latency samples in the window.
    pub samples: u64,
    /// Median latency, if there were samples.
    pub p50_ms: Option<f64>,
    /// 99th-percentile latency, if there were samples.
    pub p99_ms: Option<f64>,
    /// Largest latency, if there were samples.
    pub max_ms: Option<f64>,
}

impl Window {
    /// The window of `second` with `count` events and these samples.
    fn new(second: u32, count: u64, samples: &[(u32, u32)]) -> Self {
        let mut window = Window {
            second,
            count,
            samples: samples.len() as u64,
            p50_ms: None,
            p99_ms: None,
            max_ms: None,
        };
        if !samples.is_empty() {
            let p = latency_of(samples).summary();
            (window.p50_ms, window.p99_ms, window.max_ms) =
                (Some(p.p50_ms), Some(p.p99_ms), Some(p.max_ms));
        }
        window
    }
}

/// A run over time, as the report carries it and `--plot` draws it.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// The latency measured, as named in the report's `latency`.
    pub latency: String,
    /// What one event is (`deliveries`, `connects`, `pages`).
    pub events: String,
    /// One entry per second.
    pub windows: Vec<Window>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: u64) -> Instant {
        origin() + Duration::from_millis(ms)
    }

    #[test]
    fn counts_and_percentiles_land_in_their_second() {
        let mut a = Timeline::default();
        a.event(at(1_100), Some(Duration::from_millis(2)));
        a.event(at(1_900), None);
        let mut b = Timeline::default();
        b.event(at(1_500), Some(Duration::from_millis(4)));
        b.event(at(3_200), Some(Duration::from_millis(10)));
        a.merge(b);

        let windows = a.windows();
        let seconds: Vec<u32> = windows.iter().map(|w| w.second).collect();
        assert_eq!(seconds, [1, 2, 3]);
        let counts: Vec<u64> = windows.iter().map(|w| w.count).collect();
        assert_eq!(counts, [3, 0, 1]);
        assert_eq!(windows[0].samples, 2);
        assert!(windows[0].max_ms.is_some_and(|ms| (ms - 4.0).abs() < 0.01));
        assert!(windows[0].p50_ms.is_some_and(|ms| (ms - 2.0).abs() < 0.01));
        assert_eq!(windows[1].p99_ms, None);
        assert!(windows[2].p99_ms.is_some_and(|ms| (ms - 10.0).abs() < 0.01));
    }

    #[test]
    fn latency_holds_every_sample_of_every_task() {
        let mut a = Timeline::default();
        a.event(at(100), Some(Duration::from_millis(2)));
        a.event(at(200), None);
        let mut b = Timeline::default();
        b.event(at(5_000), Some(Duration::from_millis(30)));
        a.merge(b);
        let p = a.latency().summary();
        assert_eq!(p.count, 2);
        assert!((p.max_ms - 30.0).abs() < 0.1, "{p:?}");
        assert!((p.p50_ms - 2.0).abs() < 0.01, "{p:?}");
    }

    #[test]
    fn an_empty_timeline_has_no_windows() {
        assert!(Timeline::default().windows().is_empty());
    }
}
