//! Server CPU and memory, and the report a run produces.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::latency::{Latency, Percentiles};
use crate::timeline::{self, Timeline};

/// What one run measured, printed and written as JSON.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    /// Scenario name.
    pub scenario: String,
    /// Its parameters.
    pub params: BTreeMap<String, serde_json::Value>,
    /// Single figures (rates, counts, bytes).
    pub figures: BTreeMap<String, f64>,
    /// Latency distributions.
    pub latency: BTreeMap<String, Percentiles>,
    /// Messages missing, duplicated or out of order, and other wrong answers.
    pub violations: Vec<String>,
    /// Requests that failed.
    pub errors: u64,
    /// The run per second, for scenarios that record one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeline: Option<timeline::Summary>,
}

impl Report {
    /// An empty report for `scenario`.
    pub fn new(scenario: &str) -> Self {
        Self {
            scenario: scenario.to_owned(),
            ..Self::default()
        }
    }

    /// Notes a parameter.
    pub fn param(&mut self, name: &str, value: impl Serialize) {
        let value = serde_json::to_value(value).unwrap_or_default();
        self.params.insert(name.to_owned(), value);
    }

    /// Notes a figure.
    pub fn figure(&mut self, name: &str, value: f64) {
        self.figures.insert(name.to_owned(), value);
    }

    /// Notes a latency distribution.
    pub fn latency(&mut self, name: &str, latency: &Latency) {
        self.latency.insert(name.to_owned(), latency.summary());
    }

    /// Notes the run over time: `latency` names the latency it samples,
    /// `events` what it counts.
    pub fn timeline(&mut self, latency: &str, events: &str, timeline: Timeline) {
        self.timeline = Some(timeline.summary(latency, events));
    }

    /// Notes a wrong answer. All are counted; the first 50 are kept, and
    /// after that the first of each kind (by its opening words), up to 200.
    pub fn violation(&mut self, what: String) {
        let count = self.figures.entry("violations".into()).or_default();
        *count += 1.0;
        let kind = |v: &str| -> String {
            v.split(|c: char| c.is_ascii_digit())
                .filter(|p| !p.is_empty())
                .take(3)
                .collect()
        };
        let new_kind = !self.violations.iter().any(|v| kind(v) == kind(&what));
        if self.violations.len() < 50 || (new_kind && self.violations.len() < 200) {
            self.violations.push(what);
        }
    }

    /// The human summary.
    pub fn print(&self) {
        println!("== {} ==", self.scenario);
        for (name, value) in &self.params {
            println!("  {name:<24} {value}");
        }
        for (name, value) in &self.figures {
            println!("  {name:<24} {value:.2}");
        }
        for (name, p) in &self.latency {
            println!(
                "  {name:<24} n={} p50={:.2}ms p90={:.2}ms p99={:.2}ms p99.9={:.2}ms max={:.2}ms",
                p.count, p.p50_ms, p.p90_ms, p.p99_ms, p.p999_ms, p.max_ms
            );
        }
        println!("  errors                   {}", self.errors);
        if self.violations.is_empty() {
            println!("  violations               none");
        } else {
            println!("  VIOLATIONS:");
            for v in &self.violations {
                println!("    {v}");
            }
        }
    }
}

/// CPU time (user and system) of process `pid`, or of this process, in
/// seconds, from `/proc/PID/stat`.
pub fn cpu_seconds(pid: Option<u32>) -> anyhow::Result<f64> {
    let path = pid.map_or_else(
        || "/proc/self/stat".to_owned(),
        |p| format!("/proc/{p}/stat"),
    );
    let stat = std::fs::read_to_string(&path)?;
    // Fields after the command name, which is in parentheses and may hold
    // spaces: state is field 3, utime 14 and stime 15.
    let rest = stat
        .rsplit_once(')')
        .map(|(_, r)| r)
        .ok_or_else(|| anyhow::anyhow!("malformed {path}"))?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| -> anyhow::Result<u64> {
        Ok(fields
            .get(i - 3)
            .ok_or_else(|| anyhow::anyhow!("short {path}"))?
            .parse()?)
    };
    // /proc counts in USER_HZ, which Linux fixes at 100 for user space.
    Ok((ticks(14)? + ticks(15)?) as f64 / 100.0)
}

/// CPU time used by the server's processes and by this one, to tell who
/// was busy.
#[derive(Debug, Clone)]
pub struct CpuMark {
    server: Option<f64>,
    /// Each server process's, in the order of the pids.
    each: Vec<Option<f64>>,
    loadtest: f64,
    at: std::time::Instant,
}

impl CpuMark {
    /// Reads the server processes' CPU time (summed) and this one's now.
    pub fn now(server_pids: &[u32]) -> Self {
        let each: Vec<Option<f64>> = server_pids
            .iter()
            .map(|&p| cpu_seconds(Some(p)).ok())
            .collect();
        let server: Option<Vec<f64>> = each.iter().copied().collect();
        Self {
            server: server.filter(|s| !s.is_empty()).map(|s| s.iter().sum()),
            each,
            loadtest: cpu_seconds(None).unwrap_or(0.0),
            at: std::time::Instant::now(),
        }
    }

    /// Adds the cores each process kept busy since `self` to `report`,
    /// with `phase` in the figure names.
    pub fn report_since(&self, server_pids: &[u32], phase: &str, report: &mut Report) {
        let end = Self::now(server_pids);
        let secs = end.at.duration_since(self.at).as_secs_f64().max(1e-9);
        if let (Some(a), Some(b)) = (self.server, end.server) {
            report.figure(&format!("server_cpu_seconds_{phase}"), b - a);
            report.figure(&format!("server_cores_busy_{phase}"), (b - a) / secs);
        }
        // Per process, in the order of `server_pids` (a cluster's edges
        // first, then its cores).
        let each: Vec<String> = self
            .each
            .iter()
            .zip(&end.each)
            .map(|(a, b)| match (a, b) {
                (Some(a), Some(b)) => format!("{:.2}", (b - a) / secs),
                _ => "-".to_owned(),
            })
            .collect();
        if each.len() > 1 {
            report.param(&format!("server_cores_busy_{phase}_each"), each.join(","));
        }
        report.figure(
            &format!("loadtest_cores_busy_{phase}"),
            (end.loadtest - self.loadtest) / secs,
        );
    }
}

/// Resident memory of process `pid`, in bytes, from `/proc/PID/status`.
pub fn rss_bytes(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .ok_or_else(|| anyhow::anyhow!("no VmRSS in /proc/{pid}/status"))?;
    Ok(kib * 1024)
}
