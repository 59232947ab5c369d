//! Failed sign-ins are limited per account and per client address, so that neither one
//! account nor one attacker can try passwords fast. Kept in memory: each replica limits on
//! its own, which bounds the rate per replica.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub per_account: u32,
    pub per_address: u32,
    pub window: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            per_account: 5,
            per_address: 30,
            window: Duration::from_secs(15 * 60),
        }
    }
}

#[derive(Default)]
pub struct LoginLimiter {
    limits: Limits,
    failures: Mutex<HashMap<String, Vec<Instant>>>,
}

impl LoginLimiter {
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            failures: Mutex::default(),
        }
    }

    /// `Err(seconds to wait)` when either the account or the address is locked out.
    pub fn check(&self, account: &str, address: &str) -> Result<(), u64> {
        let now = Instant::now();
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let mut wait = 0;
        for (key, max) in [
            (account_key(account), self.limits.per_account),
            (address_key(address), self.limits.per_address),
        ] {
            if let Some(times) = failures.get_mut(&key) {
                times.retain(|t| now.duration_since(*t) < self.limits.window);
                if times.len() >= max as usize {
                    if let Some(oldest) = times.first() {
                        let left = self
                            .limits
                            .window
                            .saturating_sub(now.duration_since(*oldest));
                        wait = wait.max(left.as_secs().max(1));
                    }
                }
            }
        }
        if wait > 0 {
            Err(wait)
        } else {
            Ok(())
        }
    }

    pub fn record_failure(&self, account: &str, address: &str) {
        let now = Instant::now();
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        // Forget idle entries now and then so the map cannot grow without bound.
        if failures.len() > 100_000 {
            let window = self.limits.window;
            failures.retain(|_, times| times.iter().any(|t| now.duration_since(*t) < window));
        }
        for key in [account_key(account), address_key(address)] {
            failures.entry(key).or_default().push(now);
        }
    }

    pub fn record_success(&self, account: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        failures.remove(&account_key(account));
    }
}

fn account_key(account: &str) -> String {
    format!("a:{}", account.trim().to_lowercase())
}

fn address_key(address: &str) -> String {
    format!("ip:{address}")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn locks_an_account_after_its_limit_and_reports_the_wait() {
        let limiter = LoginLimiter::new(Limits {
            per_account: 2,
            per_address: 100,
            window: Duration::from_secs(60),
        });
        limiter.record_failure("a@x", "1.1.1.1");
        assert!(limiter.check("a@x", "1.1.1.1").is_ok());
        limiter.record_failure("A@x ", "2.2.2.2");
        let wait = limiter.check("a@x", "3.3.3.3").unwrap_err();
        assert!(wait > 0 && wait <= 60);
        assert!(limiter.check("b@x", "3.3.3.3").is_ok());
    }

    #[test]
    fn locks_an_address_across_accounts() {
        let limiter = LoginLimiter::new(Limits {
            per_account: 100,
            per_address: 3,
            window: Duration::from_secs(60),
        });
        for account in ["a", "b", "c"] {
            limiter.record_failure(account, "9.9.9.9");
        }
        assert!(limiter.check("d", "9.9.9.9").is_err());
        assert!(limiter.check("d", "8.8.8.8").is_ok());
    }
}
