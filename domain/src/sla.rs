//! Service-level targets: how long a claim may sit in each stage.

use chrono::{DateTime, Duration, Utc};

use crate::claim::ClaimStatus;

/// Time allowed per claim stage. `None` means the stage has no deadline (final stages, or
/// a stage explicitly left untimed). Kept in seconds: hours are the unit people configure,
/// but decimal hours are allowed (`new=0.001` is 3.6 s, which tests use).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlaPolicy {
    /// Indexed by position in [`ClaimStatus::ALL`].
    seconds: [Option<u64>; ClaimStatus::ALL.len()],
}

fn index(status: ClaimStatus) -> usize {
    // `ALL` lists every variant, so the search always succeeds; the fallback
    // only exists to keep this function panic-free.
    ClaimStatus::ALL
        .iter()
        .position(|&s| s == status)
        .unwrap_or_default()
}

impl Default for SlaPolicy {
    fn default() -> Self {
        let policy = SlaPolicy {
            seconds: [None; ClaimStatus::ALL.len()],
        };
        policy
            .with_hours(ClaimStatus::New, 24)
            .with_hours(ClaimStatus::InfoCheck, 48)
            .with_hours(ClaimStatus::Diagnostics, 72)
            .with_hours(ClaimStatus::Decision, 24)
            .with_hours(ClaimStatus::Approved, 72)
            .with_hours(ClaimStatus::InFulfilment, 72)
            .with_hours(ClaimStatus::InRepair, 240)
            .with_hours(ClaimStatus::QualityControl, 48)
    }
}

impl SlaPolicy {
    /// Time allowed in `status`, if the stage is timed.
    pub fn limit(&self, status: ClaimStatus) -> Option<Duration> {
        self.seconds[index(status)]
            .and_then(|s| i64::try_from(s).ok())
            .map(Duration::seconds)
    }

    /// Returns the policy with `status` given `hours` hours.
    pub fn with_hours(self, status: ClaimStatus, hours: u32) -> Self {
        self.with_seconds(status, u64::from(hours) * 3600)
    }

    /// Returns the policy with `status` given `seconds` seconds.
    pub fn with_seconds(mut self, status: ClaimStatus, seconds: u64) -> Self {
        self.seconds[index(status)] = Some(seconds);
        self
    }

    /// Parses overrides such as `"new=24,decision=12.5"` (hours, decimals allowed) on top of
    /// the default policy, so configuration only needs to mention what differs.
    /// Whitespace around items is ignored and an empty string yields the default.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let mut policy = SlaPolicy::default();
        for item in spec.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let Some((stage, hours)) = item.split_once('=') else {
                return Err(format!(
                    "SLA entry `{item}` should look like `stage=hours`, e.g. `new=24`"
                ));
            };
            let (stage, hours) = (stage.trim(), hours.trim());
            let status: ClaimStatus = stage.parse().map_err(|_| {
                let names: Vec<&str> = ClaimStatus::ALL.iter().map(|s| s.as_str()).collect();
                format!(
                    "unknown SLA stage `{stage}`; expected one of: {}",
                    names.join(", ")
                )
            })?;
            let seconds = hours
                .parse::<f64>()
                .ok()
                .filter(|h| h.is_finite() && *h >= 0.0 && *h <= 100_000.0)
                .map(|h| (h * 3600.0).round() as u64)
                .ok_or_else(|| {
                    format!(
                        "SLA hours for `{stage}` must be a number of hours from 0 to 100000, \
                         got `{hours}`"
                    )
                })?;
            policy = policy.with_seconds(status, seconds);
        }
        Ok(policy)
    }

    /// When a claim that entered `status` at `entered_at` is due to leave it.
    pub fn deadline(
        &self,
        status: ClaimStatus,
        entered_at: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        entered_at.checked_add_signed(self.limit(status)?)
    }
}

/// Whether a deadline has passed. Being exactly on time is not a breach.
pub fn is_breached(due: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    due.is_some_and(|due| now > due)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use ClaimStatus::*;

    fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, h, m, s).unwrap()
    }

    fn hours(p: &SlaPolicy, s: ClaimStatus) -> Option<i64> {
        p.limit(s).map(|d| d.num_hours())
    }

    #[test]
    fn default_hours() {
        let p = SlaPolicy::default();
        let got: Vec<_> = ClaimStatus::ALL.iter().map(|&s| hours(&p, s)).collect();
        assert_eq!(
            got,
            vec![
                Some(24),
                Some(48),
                Some(72),
                Some(24),
                Some(72),
                Some(72),
                Some(240),
                Some(48),
                None,
                None,
                None
            ]
        );
    }

    #[test]
    fn decimal_hours_give_seconds() {
        // 0.001 h is 3.6 s, kept to the second.
        let p = SlaPolicy::parse("new=0.001,decision=1.5").unwrap();
        assert_eq!(p.limit(New), Some(Duration::seconds(4)));
        assert_eq!(p.limit(Decision), Some(Duration::minutes(90)));
        assert_eq!(p.deadline(New, at(10, 0, 0)), Some(at(10, 0, 4)));
    }

    #[test]
    fn deadlines() {
        let p = SlaPolicy::default();
        let start = at(10, 0, 0);
        assert_eq!(
            p.deadline(New, start),
            Some(Utc.with_ymd_and_hms(2026, 3, 2, 10, 0, 0).unwrap())
        );
        assert_eq!(
            p.deadline(Diagnostics, start),
            Some(Utc.with_ymd_and_hms(2026, 3, 4, 10, 0, 0).unwrap())
        );
        assert_eq!(p.deadline(Closed, start), None);
        assert_eq!(p.deadline(Rejected, start), None);
        let p = p.with_hours(Decision, 0);
        assert_eq!(p.deadline(Decision, start), Some(start));
    }

    #[test]
    fn breach_is_strictly_after_due() {
        let due = at(12, 0, 0);
        assert!(!is_breached(Some(due), at(11, 59, 59)));
        assert!(!is_breached(Some(due), due));
        assert!(is_breached(Some(due), at(12, 0, 1)));
        assert!(!is_breached(None, at(23, 0, 0)));
    }

    #[test]
    fn parse_overrides_default() {
        let p = SlaPolicy::parse("new=12, decision = 6").unwrap();
        assert_eq!(hours(&p, New), Some(12));
        assert_eq!(hours(&p, Decision), Some(6));
        assert_eq!(hours(&p, InfoCheck), Some(48));
        assert_eq!(
            p,
            SlaPolicy::default()
                .with_hours(New, 12)
                .with_hours(Decision, 6)
        );
        // Closed stages can be given a target too.
        assert_eq!(
            hours(&SlaPolicy::parse("closed=1").unwrap(), Closed),
            Some(1)
        );
    }

    #[test]
    fn parse_empty_is_default() {
        assert_eq!(SlaPolicy::parse("").unwrap(), SlaPolicy::default());
        assert_eq!(SlaPolicy::parse("  ").unwrap(), SlaPolicy::default());
        assert_eq!(SlaPolicy::parse("new=24,").unwrap(), SlaPolicy::default());
    }

    #[test]
    fn parse_errors() {
        let e = SlaPolicy::parse("nwe=24").unwrap_err();
        assert!(e.contains("unknown SLA stage `nwe`"), "{e}");
        assert!(e.contains("info_check"), "{e}");
        let e = SlaPolicy::parse("new=abc").unwrap_err();
        assert!(e.contains("`new`") && e.contains("`abc`"), "{e}");
        let e = SlaPolicy::parse("new=-1").unwrap_err();
        assert!(e.contains("number of hours"), "{e}");
        assert!(SlaPolicy::parse("new=NaN").is_err());
        assert!(SlaPolicy::parse("new=inf").is_err());
        let e = SlaPolicy::parse("new").unwrap_err();
        assert!(e.contains("stage=hours"), "{e}");
        assert!(SlaPolicy::parse("new=").is_err());
    }
}
