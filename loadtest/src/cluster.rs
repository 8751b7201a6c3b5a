//! Reads the file `scripts/cluster.sh up` writes, so a run can target a
//! local cluster's edges and watch all its processes.

use std::path::Path;

use anyhow::Context;
use serde::Deserialize;

/// `target/cluster/cluster.json`, the parts a run needs.
#[derive(Debug, Deserialize)]
struct ClusterFile {
    edges: Vec<Process>,
    cores: Vec<Process>,
}

/// One process of the cluster.
#[derive(Debug, Deserialize)]
struct Process {
    pid: u32,
    #[serde(default)]
    http: Option<String>,
}

/// The edges' addresses, comma-separated, and the pids of every edge and
/// core (edges first).
pub fn read(path: &Path) -> anyhow::Result<(String, Vec<u32>)> {
    let text = std::fs::read_to_string(path).with_context(|| format!("read {}", path.display()))?;
    let file: ClusterFile =
        serde_json::from_str(&text).with_context(|| format!("parse {}", path.display()))?;
    let edges: Vec<String> = file
        .edges
        .iter()
        .map(|e| {
            e.http
                .clone()
                .with_context(|| format!("edge pid {} has no \"http\" address", e.pid))
        })
        .collect::<anyhow::Result<_>>()?;
    anyhow::ensure!(!edges.is_empty(), "{} lists no edges", path.display());
    let pids = file
        .edges
        .iter()
        .chain(&file.cores)
        .map(|p| p.pid)
        .collect();
    Ok((edges.join(","), pids))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edges_become_the_target_and_every_process_is_watched() {
        let dir = std::env::temp_dir().join(format!("lt-cluster-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("cluster.json");
        std::fs::write(
            &path,
            r#"{"edges":[{"id":1,"pid":11,"http":"127.0.0.1:1"},{"id":2,"pid":12,"http":"127.0.0.1:2"}],
               "cores":[{"id":3,"pid":13,"grpc":"127.0.0.1:3","admin":"127.0.0.1:4"}],
               "postgres":"postgres://x/chat_cluster"}"#,
        )
        .expect("write");
        let (target, pids) = read(&path).expect("read");
        assert_eq!(target, "127.0.0.1:1,127.0.0.1:2");
        assert_eq!(pids, vec![11, 12, 13]);
        std::fs::write(&path, r#"{"edges":[],"cores":[]}"#).expect("write");
        assert!(read(&path).is_err(), "no edges is refused");
    }
}
