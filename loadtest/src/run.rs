//! What every scenario shares: the target, REST, accounts, progress bars.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};

use crate::client::{self, Account, Rest};
use crate::stats::{self, Report};
use crate::target::{Target, Transport};
use crate::timeline;

/// Sign-ups in flight at once.
const SIGNUP_PARALLEL: usize = 32;

/// One load-test run.
pub struct Run {
    /// Where the load goes.
    pub target: Arc<Target>,
    /// REST client.
    pub rest: Rest,
    /// The server's processes (a cluster's edges and cores), for memory
    /// and CPU readings.
    pub server_pids: Vec<u32>,
    /// This process's open-file limit.
    pub file_limit: u64,
    /// Prefix of this run's usernames, unique per run.
    prefix: String,
}

impl Run {
    /// Prepares a run against `target`.
    pub fn new(
        target: &str,
        sources: usize,
        transport: Transport,
        server_pids: Vec<u32>,
        file_limit: u64,
    ) -> anyhow::Result<Self> {
        let mut target = Target::new(target, sources)?;
        target.transport = transport;
        let target = Arc::new(target);
        let rest = Rest::new(&target);
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or_default();
        client::since_start();
        timeline::origin();
        Ok(Self {
            target,
            rest,
            server_pids,
            file_limit,
            prefix: format!("lt{:x}", stamp % 0xffff_ffff),
        })
    }

    /// A progress bar for `len` steps of `what`.
    pub fn progress(&self, len: usize, what: &str) -> ProgressBar {
        let bar = ProgressBar::new(len as u64);
        let style =
            ProgressStyle::with_template("{msg:>12} [{bar:40}] {pos}/{len} {per_sec} eta {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        bar.set_message(what.to_owned());
        bar.enable_steady_tick(Duration::from_millis(250));
        bar
    }

    /// Runs `jobs`, `parallel` at a time, with a progress bar; their results
    /// in order, or the first error.
    pub async fn in_order<T, F, I>(
        &self,
        what: &str,
        parallel: usize,
        jobs: I,
    ) -> anyhow::Result<Vec<T>>
    where
        I: IntoIterator<Item = F>,
        I::IntoIter: ExactSizeIterator,
        F: Future<Output = anyhow::Result<T>>,
    {
        let jobs = jobs.into_iter();
        let bar = self.progress(jobs.len(), what);
        let results: Vec<_> = futures::stream::iter(jobs)
            .buffered(parallel)
            .inspect(|_| bar.inc(1))
            .collect()
            .await;
        bar.finish_and_clear();
        results.into_iter().collect()
    }

    /// The start of every username this run signs up.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Signs up `n` new users for this run.
    pub async fn users(&self, n: usize, tag: &str) -> anyhow::Result<Vec<Account>> {
        let prefix = format!("{}{tag}", self.prefix);
        let signups = (0..n).map(|i| {
            let name = format!("{prefix}{i}");
            async move { self.rest.signup(&name).await }
        });
        self.in_order("sign-up", SIGNUP_PARALLEL, signups).await
    }

    /// The server's resident memory (summed over its processes), if their
    /// pids are known.
    pub fn server_rss(&self) -> Option<u64> {
        let each: Option<Vec<u64>> = self.rss_each();
        each.filter(|e| !e.is_empty()).map(|e| e.iter().sum())
    }

    /// Each server process's resident memory, in the order of the pids.
    pub fn rss_each(&self) -> Option<Vec<u64>> {
        self.server_pids
            .iter()
            .map(|&pid| stats::rss_bytes(pid).ok())
            .collect()
    }

    /// A report with the run's common parameters.
    pub fn report(&self, scenario: &str) -> Report {
        let mut report = Report::new(scenario);
        let addrs: Vec<String> = self.target.addrs.iter().map(|a| a.to_string()).collect();
        report.param("target", addrs.join(","));
        let pids: Vec<String> = self.server_pids.iter().map(|p| p.to_string()).collect();
        report.param("server_pids", pids.join(","));
        report.param("client_file_limit", self.file_limit);
        report
    }
}
