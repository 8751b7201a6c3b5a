//! A fault in the middle of a run: one of the servers (a cluster's edge)
//! is stopped with SIGSTOP for a while and then continued, so the report
//! shows what a stuck edge costs the others (`send_to_deliver_via_N`).

use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// When and which server to stop.
#[derive(Debug, Clone, clap::Args)]
pub struct PauseArgs {
    /// Stops server N (its index in `--target` or the cluster's edges, from
    /// 0) with SIGSTOP during sending; senders connect to the others.
    #[arg(long, value_name = "N")]
    pub pause_server: Option<usize>,
    /// Seconds into sending when it is stopped.
    #[arg(long, default_value_t = 5)]
    pub pause_after: u64,
    /// Seconds it stays stopped before SIGCONT.
    #[arg(long, default_value_t = 10)]
    pub pause_seconds: u64,
}

/// A planned pause of one process.
#[derive(Debug, Clone, Copy)]
pub struct Pause {
    /// Index of the server among the targets.
    pub server: usize,
    pid: u32,
    after: Duration,
    length: Duration,
}

impl Pause {
    /// The pause `args` ask for, checked against the run's servers and its
    /// sending time; `None` when none is asked for.
    pub fn plan(
        args: &PauseArgs,
        pids: &[u32],
        servers: usize,
        seconds: u64,
    ) -> anyhow::Result<Option<Self>> {
        let Some(server) = args.pause_server else {
            return Ok(None);
        };
        if servers < 2 {
            bail!("--pause-server needs at least two servers to send through");
        }
        if server >= servers {
            bail!("--pause-server {server}: there are only {servers} servers (from 0)");
        }
        let pid = *pids
            .get(server)
            .context("--pause-server needs the server's pid (--server-pid or --cluster)")?;
        if args.pause_after + args.pause_seconds > seconds {
            bail!("the pause must end within --seconds {seconds}");
        }
        Ok(Some(Self {
            server,
            pid,
            after: Duration::from_secs(args.pause_after),
            length: Duration::from_secs(args.pause_seconds),
        }))
    }

    /// Stops the process `after` past `start`, and continues it `length`
    /// later; the process is continued also if this future is dropped.
    pub async fn run(self, start: Instant) -> anyhow::Result<()> {
        tokio::time::sleep_until((start + self.after).into()).await;
        signal(self.pid, "STOP")?;
        let stopped = Stopped(self.pid);
        tokio::time::sleep(self.length).await;
        drop(stopped);
        Ok(())
    }
}

/// Continues the process when dropped.
struct Stopped(u32);

impl Drop for Stopped {
    fn drop(&mut self) {
        if let Err(e) = signal(self.0, "CONT") {
            eprintln!("could not continue pid {}: {e:#}", self.0);
        }
    }
}

/// Sends `SIG<name>` to `pid` with kill(1).
fn signal(pid: u32, name: &str) -> anyhow::Result<()> {
    let status = std::process::Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .status()
        .context("running kill")?;
    if !status.success() {
        bail!("kill -{name} {pid} failed: {status}");
    }
    Ok(())
}
