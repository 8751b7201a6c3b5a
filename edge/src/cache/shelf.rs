//! One kind of cached metadata: a moka cache bounded in bytes, whose
//! concurrent misses of one key make one load, and whose entries a change
//! event drops. A load that raced a change (it asked the core before the
//! change and would insert after the event dropped the entry) is caught
//! by stamps: every change takes a number from a counter and marks its
//! key's bucket with it; an entry remembers the counter as its load began
//! and is used only if no change of its bucket came later.

use std::hash::{BuildHasher, Hash};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use moka::future::Cache;
use moka::notification::RemovalCause;

use crate::error::ApiError;

/// Buckets of change stamps; two keys sharing one only reload more often.
const BUCKETS: usize = 4096;

/// A value with the counter's reading as its load began.
#[derive(Clone)]
struct Stamped<V> {
    loaded_after: u64,
    value: V,
}

/// How a read was answered, for the metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Served {
    /// From the cache.
    Hit,
    /// By this read's own load.
    Loaded,
    /// By another read's load of the same key, waited for.
    Coalesced,
}

/// What a batch read found, in the order asked (absent ones left out).
pub struct Found<V> {
    /// The values.
    pub items: Vec<V>,
    /// Whether some were not cached, so the core was asked.
    pub asked_core: bool,
}

/// Cached values of one kind, by key.
pub struct Shelf<K, V> {
    kind: &'static str,
    cache: Option<Cache<K, Stamped<V>>>,
    clock: AtomicU64,
    changed: Box<[AtomicU64]>,
    /// Entries loaded before this are stale (set by [`Shelf::flush`]).
    floor: AtomicU64,
    hasher: std::collections::hash_map::RandomState,
}

impl<K, V> Shelf<K, V>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    /// A shelf of at most `max_bytes` as `weigh` counts them (0: no cache,
    /// every read loads), reporting metrics as `kind`.
    pub fn new(kind: &'static str, max_bytes: u64, weigh: fn(&K, &V) -> u32) -> Self {
        let cache = (max_bytes > 0).then(|| {
            Cache::builder()
                .max_capacity(max_bytes)
                .weigher(move |k: &K, v: &Stamped<V>| weigh(k, &v.value))
                .eviction_listener(move |_, _, cause| {
                    if cause == RemovalCause::Size {
                        metrics::counter!("chat_edge_cache_evictions_total", "kind" => kind)
                            .increment(1);
                    }
                })
                .build()
        });
        Self {
            kind,
            cache,
            clock: AtomicU64::new(0),
            changed: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
            floor: AtomicU64::new(0),
            hasher: Default::default(),
        }
    }

    fn bucket(&self, key: &K) -> &AtomicU64 {
        let at = (self.hasher.hash_one(key) as usize) % BUCKETS;
        &self.changed[at]
    }

    /// Whether a value loaded after `stamp` is still good for `key`.
    fn fresh(&self, key: &K, stamp: u64) -> bool {
        stamp >= self.floor.load(Ordering::SeqCst)
            && stamp >= self.bucket(key).load(Ordering::SeqCst)
    }

    /// The cached value of `key`, if one is held and fresh (no load).
    pub async fn peek(&self, key: &K) -> Option<V> {
        let hit = self.cache.as_ref()?.get(key).await?;
        self.fresh(key, hit.loaded_after).then_some(hit.value)
    }

    /// The value of `key`: cached, or from `load` (one load for all the
    /// reads that miss it at once), then cached. A failed load is not
    /// cached, and a read that waited for another's failed load loads on
    /// its own (that one may have been refused what this one may see).
    pub async fn get<F, Fut>(&self, key: &K, load: F) -> Result<(V, Served), ApiError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<V, ApiError>>,
    {
        let Some(cache) = &self.cache else {
            return Ok((load().await?, Served::Loaded));
        };
        match cache.get(key).await {
            Some(hit) if self.fresh(key, hit.loaded_after) => {
                self.count(Served::Hit);
                return Ok((hit.value, Served::Hit));
            }
            Some(_) => cache.invalidate(key).await,
            None => {}
        }
        // At most twice: a value stale as it arrives is loaded once more.
        let mut last = None;
        for attempt in 0..2 {
            if attempt > 0 {
                cache.invalidate(key).await;
            }
            let ran = AtomicBool::new(false);
            let started = self.clock.load(Ordering::SeqCst);
            let loaded = cache
                .try_get_with_by_ref(key, async {
                    ran.store(true, Ordering::Relaxed);
                    let value = load().await?;
                    Ok::<_, ApiError>(Stamped {
                        loaded_after: started,
                        value,
                    })
                })
                .await;
            let served = if ran.load(Ordering::Relaxed) {
                Served::Loaded
            } else {
                Served::Coalesced
            };
            let entry = match loaded {
                Ok(entry) => entry,
                Err(_) if served == Served::Coalesced => {
                    self.count(Served::Loaded);
                    return Ok((load().await?, Served::Loaded));
                }
                Err(e) => {
                    self.count(served);
                    return Err((*e).clone());
                }
            };
            self.count(served);
            self.gauges(cache);
            if self.fresh(key, entry.loaded_after) {
                return Ok((entry.value, served));
            }
            last = Some((entry.value, served));
        }
        // Changed twice while loading: what the core said last is as good
        // as any answer a moment ago, but it is not kept.
        cache.invalidate(key).await;
        last.ok_or_else(|| ApiError::new(500, "internal", "cache load without a value"))
    }

    /// The values of `keys` that exist, in the order asked: the cached ones
    /// that are `usable`, and the rest from one `load` of the keys missing,
    /// whose answers are kept under `key_of` (no coalescing: a batch).
    pub async fn get_many<F, Fut>(
        &self,
        keys: &[K],
        usable: impl Fn(&V) -> bool,
        key_of: impl Fn(&V) -> K,
        load: F,
    ) -> Result<Found<V>, ApiError>
    where
        F: FnOnce(Vec<K>) -> Fut,
        Fut: Future<Output = Result<Vec<V>, ApiError>>,
    {
        let mut found = std::collections::HashMap::with_capacity(keys.len());
        let mut missing = Vec::new();
        for key in keys {
            match self.peek(key).await {
                Some(value) if usable(&value) => {
                    found.insert(key.clone(), value);
                }
                _ => missing.push(key.clone()),
            }
        }
        self.count_hits(found.len() as u64);
        let asked_core = !missing.is_empty();
        if asked_core {
            self.count_misses(missing.len() as u64);
            let stamp = self.stamp();
            for value in load(missing).await? {
                let key = key_of(&value);
                self.put(key.clone(), value.clone(), stamp).await;
                found.insert(key, value);
            }
        }
        let items = keys.iter().filter_map(|k| found.get(k).cloned()).collect();
        Ok(Found { items, asked_core })
    }

    /// Keeps `value` for `key`, read from the core after the counter said
    /// `stamp` ([`Shelf::stamp`]), unless a change came since.
    pub async fn put(&self, key: K, value: V, stamp: u64) {
        let Some(cache) = &self.cache else { return };
        if !self.fresh(&key, stamp) {
            return;
        }
        cache
            .insert(
                key.clone(),
                Stamped {
                    loaded_after: stamp,
                    value,
                },
            )
            .await;
        if !self.fresh(&key, stamp) {
            cache.invalidate(&key).await;
        }
    }

    /// The counter now: pass it to [`Shelf::put`] for a value read next.
    pub fn stamp(&self) -> u64 {
        self.clock.load(Ordering::SeqCst)
    }

    /// Drops `key`: it changed. A load of it under way will not be kept.
    pub async fn changed(&self, key: &K) {
        let Some(cache) = &self.cache else { return };
        let stamp = self.clock.fetch_add(1, Ordering::SeqCst) + 1;
        self.bucket(key).fetch_max(stamp, Ordering::SeqCst);
        cache.invalidate(key).await;
        metrics::counter!("chat_edge_cache_invalidations_total", "kind" => self.kind).increment(1);
    }

    /// Drops everything: changes may have been missed.
    pub fn flush(&self) {
        let Some(cache) = &self.cache else { return };
        let stamp = self.clock.fetch_add(1, Ordering::SeqCst) + 1;
        self.floor.fetch_max(stamp, Ordering::SeqCst);
        cache.invalidate_all();
        metrics::counter!("chat_edge_cache_flushes_total", "kind" => self.kind).increment(1);
    }

    /// Counts `n` reads answered from the cache without [`Shelf::get`].
    pub fn count_hits(&self, n: u64) {
        metrics::counter!("chat_edge_cache_hits_total", "kind" => self.kind).increment(n);
    }

    /// Counts `n` reads that had to ask the core without [`Shelf::get`].
    pub fn count_misses(&self, n: u64) {
        metrics::counter!("chat_edge_cache_misses_total", "kind" => self.kind).increment(n);
    }

    fn count(&self, served: Served) {
        let name = match served {
            Served::Hit => "chat_edge_cache_hits_total",
            Served::Loaded => "chat_edge_cache_misses_total",
            Served::Coalesced => "chat_edge_cache_coalesced_total",
        };
        metrics::counter!(name, "kind" => self.kind).increment(1);
    }

    fn gauges(&self, cache: &Cache<K, Stamped<V>>) {
        metrics::gauge!("chat_edge_cache_entries", "kind" => self.kind)
            .set(cache.entry_count() as f64);
        metrics::gauge!("chat_edge_cache_bytes", "kind" => self.kind)
            .set(cache.weighted_size() as f64);
    }
}

/// A shared value's weight: its size estimate, at least 1, at most u32.
pub fn weight(bytes: usize) -> u32 {
    u32::try_from(bytes.max(1)).unwrap_or(u32::MAX)
}

/// What an `Arc`ed value adds to the heap, besides what `extra` counts.
pub fn arc_bytes<T>(extra: usize) -> usize {
    std::mem::size_of::<T>() + 2 * std::mem::size_of::<usize>() + extra
}

#[cfg(test)]
mod tests;
