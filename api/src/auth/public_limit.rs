//! Anything public (a claim's tracking link) is rate-limited per client address, so that
//! nobody can try tokens fast or hammer the server through it. Kept in memory per replica.

use std::net::IpAddr;
use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

pub struct PublicLimiter {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
}

impl PublicLimiter {
    /// `per_minute` requests a minute per address, in bursts of up to a quarter of it.
    pub fn new(per_minute: u32) -> Self {
        let per_minute = NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new((per_minute.get() / 4).max(1)).unwrap_or(NonZeroU32::MIN);
        Self {
            limiter: RateLimiter::keyed(Quota::per_minute(per_minute).allow_burst(burst)),
        }
    }

    /// `Err(seconds to wait)` when the address used up its share.
    pub fn check(&self, address: IpAddr) -> Result<(), u64> {
        // Forget quiet addresses now and then, so the map does not grow without end.
        if self.limiter.len() > 10_000 {
            self.limiter.retain_recent();
        }
        self.limiter.check_key(&address).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            wait.as_secs().max(1)
        })
    }
}

impl Default for PublicLimiter {
    fn default() -> Self {
        Self::new(60)
    }
}
