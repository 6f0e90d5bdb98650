use std::net::{IpAddr, Ipv4Addr};

use super::*;

fn limits() -> Limits {
    Limits {
        enabled: true,
        max_failures: 5,
        window: Duration::from_secs(60),
        lockout: Duration::from_secs(300),
        slowdown_after: 2,
        max_entries: 100,
    }
}

fn addr(n: u32) -> ThrottleKey {
    ThrottleKey::address(IpAddr::V4(Ipv4Addr::from(n)))
}

#[test]
fn slows_down_then_locks_then_ends_by_time() {
    let t = Throttle::new(limits());
    let now = Instant::now();
    let keys = [addr(1), ThrottleKey::token("cpr_wrong")];
    let delays: Vec<Duration> = (0..4).map(|_| t.failure(&keys, now).delay).collect();
    assert_eq!(
        delays,
        [0, 0, 250, 500].map(Duration::from_millis).to_vec(),
        "a growing delay after slowdown_after failures"
    );
    assert_eq!(t.locked(&keys, now), None);
    let fifth = t.failure(&keys, now);
    assert_eq!(fifth.locked.len(), 2, "both keys locked, once each");
    assert_eq!(t.locked(&[addr(1)], now), Some(Duration::from_secs(300)));
    // Another token from the locked address is refused too; another address is not.
    assert!(t.locked(&[addr(1), ThrottleKey::token("x")], now).is_some());
    assert_eq!(t.locked(&[addr(2)], now), None);
    // Failures while locked lock nothing anew: one event per lockout.
    assert!(t.failure(&keys, now).locked.is_empty());
    assert_eq!(t.lockouts(now).len(), 2);
    let later = now + Duration::from_secs(301);
    assert_eq!(t.locked(&keys, later), None);
    assert!(t.lockouts(later).is_empty());
}

#[test]
fn the_window_forgets_old_failures() {
    let t = Throttle::new(limits());
    let now = Instant::now();
    for _ in 0..4 {
        t.failure(&[addr(1)], now);
    }
    let f = t.failure(&[addr(1)], now + Duration::from_secs(61));
    assert!(f.locked.is_empty());
    assert_eq!(f.delay, Duration::ZERO);
}

#[test]
fn delay_is_capped() {
    assert_eq!(delay(3, 3), Duration::ZERO);
    assert_eq!(delay(4, 3), FIRST_DELAY);
    assert_eq!(delay(7, 3), MAX_DELAY);
    assert_eq!(delay(u32::MAX, 0), MAX_DELAY);
}

#[test]
fn an_admin_clears_a_lockout() {
    let t = Throttle::new(limits());
    let now = Instant::now();
    for _ in 0..5 {
        t.failure(&[addr(9)], now);
    }
    assert!(t.locked(&[addr(9)], now).is_some());
    assert!(t.clear(&addr(9), now));
    assert!(!t.clear(&addr(9), now), "nothing left to clear");
    assert_eq!(t.locked(&[addr(9)], now), None);
}

#[test]
fn the_table_stays_bounded() {
    let t = Throttle::new(limits());
    let now = Instant::now();
    for n in 0..10_000 {
        t.failure(&[addr(n)], now);
    }
    assert_eq!(t.len(), 100);
    // The oldest were evicted, the newest are kept.
    for _ in 0..4 {
        t.failure(&[addr(9_999)], now);
    }
    assert!(t.locked(&[addr(9_999)], now).is_some());
}

#[test]
fn disabled_counts_nothing() {
    let t = Throttle::new(Limits {
        enabled: false,
        ..limits()
    });
    let now = Instant::now();
    for _ in 0..50 {
        assert_eq!(t.failure(&[addr(1)], now), Failure::default());
    }
    assert!(t.is_empty());
    assert_eq!(t.locked(&[addr(1)], now), None);
}

#[test]
fn keys_by_prefix_and_by_name() {
    let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
    let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
    assert_eq!(
        ThrottleKey::address(a),
        ThrottleKey::address(b),
        "one /64, one key"
    );
    let k = ThrottleKey::address(a);
    assert_eq!(k.to_string(), "address:2001:db8:1:2::/64");
    assert_eq!(k.to_string().parse::<ThrottleKey>(), Ok(k));
    let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
    assert_eq!(ThrottleKey::address(mapped).to_string(), "address:192.0.2.7");
    let t = ThrottleKey::token("cpr_secret");
    assert!(!t.to_string().contains("secret"));
    assert_eq!(t.to_string().parse::<ThrottleKey>(), Ok(t));
    for bad in [
        "",
        "address:nope",
        "token:xyz",
        "token:0123456789ABCDEF",
        "user:1",
    ] {
        assert!(bad.parse::<ThrottleKey>().is_err(), "{bad}");
    }
}
