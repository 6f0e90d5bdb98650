//! Throttling and lockout of failed authentication, per source address and per presented credential.
//!
//! Every failed authentication counts against a few [`ThrottleKey`]s: the source address (IPv6 by its /64) and
//! the credential the request named (a token's hash). After `slowdown_after` failures in the window the 401 is
//! answered after a growing delay (capped at [`MAX_DELAY`], a timer, not a thread); at `max_failures` the key is
//! locked for `lockout`: every request under it, even with a correct credential, gets 429 with `Retry-After`
//! without reaching the database. A lockout ends by time or when an admin clears it.
//!
//! The table is per process (each node of a cluster counts its own) and bounded: at `max_entries` the least
//! recently touched entry is evicted, so that many source addresses cannot grow it without bound.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr};
use std::str::FromStr;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use hashlink::LruCache;

use crate::domain::now_ms;

#[cfg(test)]
mod tests;

/// The longest delay before a failed authentication is answered.
pub const MAX_DELAY: Duration = Duration::from_secs(2);
/// The delay after the first failure past `slowdown_after`; it doubles with each further failure.
pub const FIRST_DELAY: Duration = Duration::from_millis(250);

/// What failures are counted against. `Display`/`FromStr` give the key's name in the admin API
/// (`address:192.0.2.7`, `address:2001:db8:1:2::/64`, `token:<16 hex digits>`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ThrottleKey {
    /// The source address: an IPv4 address, or an IPv6 address cut to its /64 (one subscriber's prefix).
    Address(IpAddr),
    /// A presented bearer token, by the first 16 hex digits of a SHA-256 of it (never the token itself).
    Token(String),
}

impl ThrottleKey {
    /// The key of a source address: IPv4 (also IPv4-mapped IPv6) as is, IPv6 cut to its /64.
    pub fn address(ip: IpAddr) -> ThrottleKey {
        let ip = match ip {
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => {
                    let s = v6.segments();
                    IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
                }
            },
            v4 => v4,
        };
        ThrottleKey::Address(ip)
    }

    /// The key of a presented token.
    pub fn token(token: &str) -> ThrottleKey {
        let digest = crate::relay::sha256_hex(format!("careplan-relay throttle\n{token}").as_bytes());
        ThrottleKey::Token(digest[..16].to_string())
    }

    /// `address` or `token`.
    pub fn kind(&self) -> &'static str {
        match self {
            ThrottleKey::Address(_) => "address",
            ThrottleKey::Token(_) => "token",
        }
    }
}

impl fmt::Display for ThrottleKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ThrottleKey::Address(IpAddr::V6(a)) => write!(f, "address:{a}/64"),
            ThrottleKey::Address(a) => write!(f, "address:{a}"),
            ThrottleKey::Token(t) => write!(f, "token:{t}"),
        }
    }
}

impl FromStr for ThrottleKey {
    type Err = ();

    /// Parses a key as `Display` writes it (an IPv6 address with or without `/64`).
    fn from_str(s: &str) -> Result<Self, ()> {
        if let Some(a) = s.strip_prefix("address:") {
            let a = a.strip_suffix("/64").unwrap_or(a);
            return a.parse().map(ThrottleKey::address).map_err(|_| ());
        }
        match s.strip_prefix("token:") {
            Some(t) if t.len() == 16 && t.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) => {
                Ok(ThrottleKey::Token(t.to_string()))
            }
            _ => Err(()),
        }
    }
}

/// The limits (`[auth_throttle]` in the configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Off: nothing is counted, delayed or refused.
    pub enabled: bool,
    /// Failures within `window` that lock a key.
    pub max_failures: u32,
    /// The window failures are counted in; it starts at a key's first failure.
    pub window: Duration,
    /// How long a locked key is refused.
    pub lockout: Duration,
    /// Failures answered at once; each further one waits [`FIRST_DELAY`], doubled per failure, at most
    /// [`MAX_DELAY`].
    pub slowdown_after: u32,
    /// Most keys kept; the least recently touched is evicted beyond it.
    pub max_entries: usize,
}

impl Default for Limits {
    /// On: 10 failures within 10 minutes lock a key for 15 minutes, slowed down after 3; 100,000 keys at most.
    fn default() -> Self {
        Limits {
            enabled: true,
            max_failures: 10,
            window: Duration::from_secs(600),
            lockout: Duration::from_secs(900),
            slowdown_after: 3,
            max_entries: 100_000,
        }
    }
}

#[derive(Debug, Clone)]
struct Entry {
    failures: u32,
    window_start: Instant,
    /// When the lockout ends, and when it began (Unix ms).
    locked: Option<(Instant, i64)>,
}

/// A locked key, as the admin sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lockout {
    pub key: ThrottleKey,
    /// Failures counted when it was locked (and since).
    pub failures: u32,
    /// When the lockout began, Unix ms.
    pub locked_at: i64,
    /// Time left until it ends by itself.
    pub remaining: Duration,
}

/// What one failure led to: how long to wait before answering, and the keys it newly locked (with their
/// failure counts), one audit event each.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Failure {
    pub delay: Duration,
    pub locked: Vec<(ThrottleKey, u32)>,
}

/// The failure counters of this process.
#[derive(Debug)]
pub struct Throttle {
    pub limits: Limits,
    table: Mutex<LruCache<ThrottleKey, Entry>>,
}

impl Throttle {
    /// An empty table with these limits (`max_entries` at least 1).
    pub fn new(limits: Limits) -> Throttle {
        Throttle {
            limits,
            table: Mutex::new(LruCache::new(limits.max_entries.max(1))),
        }
    }

    fn table(&self) -> MutexGuard<'_, LruCache<ThrottleKey, Entry>> {
        self.table
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The longest lockout left among `keys`, if any is locked at `now`. Ended lockouts are forgotten.
    pub fn locked(&self, keys: &[ThrottleKey], now: Instant) -> Option<Duration> {
        if !self.limits.enabled {
            return None;
        }
        let mut table = self.table();
        let mut longest: Option<Duration> = None;
        for key in keys {
            let Some(e) = table.peek(key) else { continue };
            match e.locked {
                Some((until, _)) if until > now => {
                    longest = Some(longest.unwrap_or_default().max(until - now));
                }
                Some(_) => {
                    table.remove(key);
                }
                None => {}
            }
        }
        longest
    }

    /// Counts one failed authentication against each of `keys` at `now`.
    pub fn failure(&self, keys: &[ThrottleKey], now: Instant) -> Failure {
        let mut out = Failure::default();
        if !self.limits.enabled {
            return out;
        }
        let l = self.limits;
        let mut table = self.table();
        for key in keys {
            let fresh = Entry {
                failures: 0,
                window_start: now,
                locked: None,
            };
            if !table.contains_key(key) {
                table.insert(key.clone(), fresh.clone());
            }
            let Some(e) = table.get_mut(key) else { continue };
            let expired = match e.locked {
                Some((until, _)) => until <= now,
                None => now.saturating_duration_since(e.window_start) >= l.window,
            };
            if expired {
                *e = fresh;
            }
            e.failures = e.failures.saturating_add(1);
            if e.locked.is_none() && e.failures >= l.max_failures {
                e.locked = Some((now + l.lockout, now_ms()));
                out.locked.push((key.clone(), e.failures));
            }
            out.delay = out.delay.max(delay(e.failures, l.slowdown_after));
        }
        out
    }

    /// The keys locked at `now`, longest remaining first.
    pub fn lockouts(&self, now: Instant) -> Vec<Lockout> {
        let table = self.table();
        let mut out: Vec<Lockout> = table
            .iter()
            .filter_map(|(key, e)| {
                let (until, at) = e.locked?;
                (until > now).then(|| Lockout {
                    key: key.clone(),
                    failures: e.failures,
                    locked_at: at,
                    remaining: until - now,
                })
            })
            .collect();
        out.sort_by_key(|l| std::cmp::Reverse(l.remaining));
        out
    }

    /// Forgets `key` (its lockout and its count); whether it was locked.
    pub fn clear(&self, key: &ThrottleKey, now: Instant) -> bool {
        self.table()
            .remove(key)
            .is_some_and(|e| e.locked.is_some_and(|(until, _)| until > now))
    }

    /// Keys in the table (locked or counting).
    pub fn len(&self) -> usize {
        self.table().len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The wait before answering the `failures`-th failure: none up to `slowdown_after`, then [`FIRST_DELAY`]
/// doubling per failure, at most [`MAX_DELAY`].
pub fn delay(failures: u32, slowdown_after: u32) -> Duration {
    if failures <= slowdown_after {
        return Duration::ZERO;
    }
    let doublings = (failures - slowdown_after - 1).min(16);
    FIRST_DELAY.saturating_mul(1 << doublings).min(MAX_DELAY)
}
