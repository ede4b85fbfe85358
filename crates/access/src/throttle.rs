//! Slowing down repeated failed password logins from one client: five are free, then each
//! waits twice as long as the one before (up to 1.6 s), and after twelve in five minutes the
//! client's password logins are refused until the five minutes are over. Per replica and in memory: a guesser
//! spread over replicas is still slowed on each.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures within this window count together.
const WINDOW: Duration = Duration::from_secs(300);
/// Failures answered at once; each one past this doubles the delay.
const FREE_FAILURES: u32 = 5;
const MAX_DELAY: Duration = Duration::from_millis(1600);
/// Failures after which the client is refused until its window ends.
const LOCKOUT_FAILURES: u32 = 12;
const MAX_CLIENTS: usize = 100_000;

#[derive(Default)]
pub struct LoginThrottle {
    clients: Mutex<HashMap<IpAddr, (u32, Instant)>>,
}

/// What to do with a login attempt.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Check the credentials after waiting this long.
    Go(Duration),
    /// Too many failures: refuse without checking, for this long.
    Refuse(Duration),
}

impl LoginThrottle {
    /// Reserves an attempt for `client` before its password is checked: the attempt counts as a
    /// failure until [`LoginThrottle::succeeded`] or [`LoginThrottle::release`] says otherwise,
    /// so a burst of concurrent guesses is limited like a sequence of them. Answers how long to
    /// wait before checking, or that the client is refused.
    pub fn begin(&self, client: IpAddr) -> Verdict {
        let Ok(mut clients) = self.clients.lock() else {
            return Verdict::Go(Duration::ZERO);
        };
        if clients.len() >= MAX_CLIENTS {
            clients.retain(|_, (_, since)| since.elapsed() < WINDOW);
        }
        let entry = clients.entry(client).or_insert((0, Instant::now()));
        if entry.1.elapsed() >= WINDOW {
            *entry = (0, Instant::now());
        }
        if entry.0 >= LOCKOUT_FAILURES {
            return Verdict::Refuse(WINDOW.saturating_sub(entry.1.elapsed()));
        }
        entry.0 += 1;
        Verdict::Go(delay_after(entry.0))
    }

    /// A success forgets the client's failures.
    pub fn succeeded(&self, client: IpAddr) {
        if let Ok(mut clients) = self.clients.lock() {
            clients.remove(&client);
        }
    }

    /// An attempt that could not be checked (the database failed) does not count.
    pub fn release(&self, client: IpAddr) {
        if let Ok(mut clients) = self.clients.lock() {
            if let Some(entry) = clients.get_mut(&client) {
                entry.0 = entry.0.saturating_sub(1);
            }
        }
    }
}

fn delay_after(failures: u32) -> Duration {
    if failures <= FREE_FAILURES {
        return Duration::ZERO;
    }
    let exp = (failures - FREE_FAILURES - 1).min(10);
    (Duration::from_millis(100) * 2u32.pow(exp)).min(MAX_DELAY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_then_lock_out() {
        let t = LoginThrottle::default();
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        for _ in 0..FREE_FAILURES {
            assert_eq!(t.begin(ip), Verdict::Go(Duration::ZERO));
        }
        assert_eq!(t.begin(ip), Verdict::Go(Duration::from_millis(100)));
        assert_eq!(t.begin(ip), Verdict::Go(Duration::from_millis(200)));
        // Attempts still being checked count too: a burst cannot get past the limit.
        for _ in 7..LOCKOUT_FAILURES {
            assert!(matches!(t.begin(ip), Verdict::Go(_)));
        }
        assert!(matches!(t.begin(ip), Verdict::Refuse(_)));
        assert_eq!(
            t.begin("10.0.0.2".parse().unwrap()),
            Verdict::Go(Duration::ZERO)
        );
        t.release(ip);
        assert!(matches!(t.begin(ip), Verdict::Go(_)));
        t.succeeded(ip);
        assert_eq!(t.begin(ip), Verdict::Go(Duration::ZERO));
    }
}
