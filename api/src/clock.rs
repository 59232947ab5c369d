//! The process's clock. The server reads the wall clock; the day simulator
//! (`claimroute simulate`) sets a virtual one, so the same application code it runs (reports,
//! live ETAs, delay notices, the new-visit sweep) stamps and judges everything at the
//! simulated time. Only the simulator's process ever sets it.

use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Utc};

/// Microseconds since the epoch of the virtual time; `i64::MIN` while the wall clock rules.
static VIRTUAL_MICROS: AtomicI64 = AtomicI64::new(i64::MIN);

pub fn now() -> DateTime<Utc> {
    read(VIRTUAL_MICROS.load(Ordering::Relaxed))
}

fn read(micros: i64) -> DateTime<Utc> {
    match micros {
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

    // The process's clock itself is left alone: other tests in this process read it.
    #[test]
    fn a_virtual_time_is_read_back_to_the_microsecond_and_unset_is_the_wall_clock() {
        let at = DateTime::from_timestamp_micros(1_790_000_000_123_456).unwrap_or_default();
        assert_eq!(read(at.timestamp_micros()), at);
        let wall = read(i64::MIN);
        assert!((wall - Utc::now()).num_seconds().abs() < 5);
    }
}
