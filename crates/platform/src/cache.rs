//! A small in-memory cache for hot reads, for services whose data changes rarely and is read
//! often (the catalogue's registers).
//!
//! Why: on two cores, a read that goes to the database costs several times a read that does not,
//! most of it handing the query to the driver's connection thread and back (see
//! `docs/performance.md`). A cached answer skips that.
//!
//! What it promises:
//! - **Read your writes on one replica.** A service calls [`ReadCache::invalidate`] after each
//!   commit that changes what it caches. A read that started before the commit cannot store its
//!   older answer afterwards: [`ReadCache::put`] takes the generation seen before the read and
//!   stores nothing if a change came in between.
//! - **Bounded staleness across replicas.** A change committed by another replica is seen here
//!   at the latest `ttl` later (`read_cache.ttl_ms`); a `ttl` of zero turns caching off.
//! - **Bounded memory.** At most `max_entries` answers; when full, it starts over empty.
//!
//! Errors are never cached: the caller stores only answers it would give again.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct ReadCache<K, V> {
    ttl: Duration,
    max_entries: usize,
    /// Raised by every invalidation; an entry is good only under the generation it was read in.
    generation: AtomicU64,
    entries: RwLock<HashMap<K, Entry<V>>>,
}

#[derive(Debug)]
struct Entry<V> {
    stored: Instant,
    generation: u64,
    value: V,
}

impl<K: Eq + Hash, V: Clone> ReadCache<K, V> {
    pub fn new(ttl: Duration, max_entries: usize) -> Self {
        Self {
            ttl,
            max_entries,
            generation: AtomicU64::new(0),
            entries: RwLock::new(HashMap::new()),
        }
    }

    pub fn enabled(&self) -> bool {
        !self.ttl.is_zero() && self.max_entries > 0
    }

    /// The generation to hand back to [`put`](Self::put): read it before going to the database.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// A fresh answer for `key`, if one is held.
    pub fn get(&self, key: &K) -> Option<V> {
        if !self.enabled() {
            return None;
        }
        let current = self.generation();
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        entries
            .get(key)
            .filter(|e| e.generation == current && e.stored.elapsed() < self.ttl)
            .map(|e| e.value.clone())
    }

    /// Stores an answer read from the database under `generation`, unless something changed
    /// since (then the answer may already be old).
    pub fn put(&self, key: K, value: V, generation: u64) {
        if !self.enabled() {
            return;
        }
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        // Checked under the lock that `invalidate` clears under: either this insert comes first
        // and is cleared, or the raised generation is seen here.
        if self.generation() != generation {
            return;
        }
        if entries.len() >= self.max_entries && !entries.contains_key(&key) {
            entries.clear();
        }
        entries.insert(
            key,
            Entry {
                stored: Instant::now(),
                generation,
                value,
            },
        );
    }

    /// Forgets everything: call after committing a change to what is cached.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.entries
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_until_invalidated_or_expired() {
        let cache = ReadCache::new(Duration::from_millis(200), 10);
        let g = cache.generation();
        cache.put("a", 1, g);
        assert_eq!(cache.get(&"a"), Some(1));
        cache.invalidate();
        assert_eq!(cache.get(&"a"), None);

        let g = cache.generation();
        cache.put("a", 2, g);
        assert_eq!(cache.get(&"a"), Some(2));
        std::thread::sleep(Duration::from_millis(250));
        assert_eq!(cache.get(&"a"), None, "older than the ttl");
    }

    #[test]
    fn a_read_that_raced_a_change_is_not_stored() {
        let cache = ReadCache::new(Duration::from_secs(60), 10);
        // A reader notes the generation and goes to the database...
        let seen = cache.generation();
        // ...a writer commits and invalidates meanwhile...
        cache.invalidate();
        // ...and the reader's older answer must not be kept.
        cache.put("register", "before the change", seen);
        assert_eq!(cache.get(&"register"), None);
    }

    #[test]
    fn stays_within_its_size_and_can_be_turned_off() {
        let cache = ReadCache::new(Duration::from_secs(60), 3);
        for i in 0..10 {
            cache.put(i, i, cache.generation());
            assert!(cache.entries.read().unwrap().len() <= 3);
        }
        assert_eq!(cache.get(&9), Some(9));

        let off = ReadCache::new(Duration::ZERO, 3);
        off.put(1, 1, off.generation());
        assert_eq!(off.get(&1), None);
    }
}
