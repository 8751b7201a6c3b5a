//! Reading a configuration: defaults, then an optional TOML file (unknown
//! keys rejected), then `CHAT_*` environment variables.

use std::path::Path;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// More worker threads than this is a typo, not a machine.
pub const MAX_WORKER_THREADS: usize = 1024;

/// `T`'s defaults, overridden by `file` and then by the environment:
/// `CHAT_CORE__MAX_GROUP_MEMBERS=200` sets `core.max_group_members`.
pub fn load<T: Serialize + DeserializeOwned + Default>(file: Option<&Path>) -> Result<T, String> {
    let mut figment = Figment::from(Serialized::defaults(T::default()));
    if let Some(path) = file {
        if !path.is_file() {
            return Err(format!("config file {} does not exist", path.display()));
        }
        figment = figment.merge(Toml::file_exact(path));
    }
    let env = Env::prefixed("CHAT_")
        .ignore(&["config", "log_format"])
        .split("__");
    figment
        .merge(env)
        .extract()
        .map_err(|e| format!("invalid configuration: {e}"))
}

/// Checks a worker thread count.
pub fn check_workers(threads: usize) -> Result<(), String> {
    if threads > MAX_WORKER_THREADS {
        return Err(format!(
            "invalid configuration: worker_threads is {threads}, at most {MAX_WORKER_THREADS}"
        ));
    }
    Ok(())
}
