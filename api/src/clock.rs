//! The process's clock. The server reads the wall clock; the day simulator
//! (`claimroute simulate`) sets a virtual one, so the same application code it runs (reports,
//! live ETAs, delay notices, the new-visit sweep) stamps and judges everything at the
//! simulated time. Only the simulator's process ever sets it.

use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Utc};

/// Microseconds since the epoch of the virtual time; `i64::MIN` while the wall clock rules.
static VIRTUAL_MICROS: AtomicI64 = AtomicI64::new(i64::MIN);

pub fn now() -> DateTime<Utc> {
    match VIRTUAL_MICROS.load(Ordering::Relaxed) {
        i64::MIN => Utc::now(),
        micros => DateTime::from_timestamp_micros(micros).unwrap_or_else(Utc::now),
    }
}

/// From now on this process reads `at` as the time, until set again.
pub fn set_virtual(at: DateTime<Utc>) {
    VIRTUAL_MICROS.store(at.timestamp_micros(), Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_virtual_time_is_read_back_to_the_microsecond() {
        let at = DateTime::from_timestamp_micros(1_790_000_000_123_456).unwrap_or_default();
        set_virtual(at);
        assert_eq!(now(), at);
        set_virtual(at + chrono::Duration::minutes(5));
        assert_eq!(now() - at, chrono::Duration::minutes(5));
    }
}
