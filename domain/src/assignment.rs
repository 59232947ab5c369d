//! Choosing which manager handles a claim.

/// A manager's availability and current workload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagerLoad {
    pub id: i64,
    /// Still employed / enabled; inactive managers never receive claims.
    pub active: bool,
    /// Temporarily away (holiday, sick leave).
    pub absent: bool,
    /// Who covers for this manager while absent.
    pub substitute_id: Option<i64>,
    /// Claims currently open and assigned to this manager.
    pub open_claims: i64,
}

impl ManagerLoad {
    /// Can take claims right now.
    fn on_duty(&self) -> bool {
        self.active && !self.absent
    }
}

/// Picks the manager for a new claim so work is spread evenly: the on-duty
/// manager with the fewest open claims, ties going to the lowest id so the
/// choice is deterministic. `None` if nobody is on duty.
pub fn pick_assignee(managers: &[ManagerLoad]) -> Option<i64> {
    managers
        .iter()
        .filter(|m| m.on_duty())
        .min_by_key(|m| (m.open_claims, m.id))
        .map(|m| m.id)
}

/// The manager who should actually receive a claim addressed to `id`.
///
/// An absent manager's claims go to their substitute, and on down the chain
/// if the substitute is away too. The walk stops with `None` at an unknown or
/// inactive manager, at a missing substitute, or when it comes back to
/// someone already visited (a cycle of people all on holiday).
pub fn route_to_available(id: i64, managers: &[ManagerLoad]) -> Option<i64> {
    let mut visited = Vec::new();
    let mut current = id;
    loop {
        if visited.contains(&current) {
            return None;
        }
        visited.push(current);
        let manager = managers.iter().find(|m| m.id == current)?;
        if !manager.active {
            return None;
        }
        if !manager.absent {
            return Some(current);
        }
        current = manager.substitute_id?;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn m(id: i64, open_claims: i64) -> ManagerLoad {
        ManagerLoad {
            id,
            active: true,
            absent: false,
            substitute_id: None,
            open_claims,
        }
    }

    fn away(id: i64, substitute: Option<i64>) -> ManagerLoad {
        ManagerLoad {
            absent: true,
            substitute_id: substitute,
            ..m(id, 0)
        }
    }

    #[test]
    fn fewest_open_claims_wins() {
        assert_eq!(pick_assignee(&[m(1, 5), m(2, 3), m(3, 4)]), Some(2));
    }

    #[test]
    fn ties_go_to_lowest_id() {
        assert_eq!(pick_assignee(&[m(7, 2), m(3, 2), m(5, 2)]), Some(3));
    }

    #[test]
    fn absent_and_inactive_are_skipped() {
        let inactive = ManagerLoad {
            active: false,
            ..m(1, 0)
        };
        assert_eq!(pick_assignee(&[inactive, away(2, None), m(3, 9)]), Some(3));
    }

    #[test]
    fn nobody_on_duty() {
        assert_eq!(pick_assignee(&[]), None);
        assert_eq!(pick_assignee(&[away(1, Some(2)), away(2, Some(1))]), None);
    }

    #[test]
    fn present_manager_keeps_claim() {
        assert_eq!(route_to_available(1, &[m(1, 100), m(2, 0)]), Some(1));
    }

    #[test]
    fn substitute_chain() {
        let ms = [away(1, Some(2)), away(2, Some(3)), m(3, 0)];
        assert_eq!(route_to_available(1, &ms), Some(3));
        assert_eq!(route_to_available(2, &ms), Some(3));
    }

    #[test]
    fn cycle_ends_walk() {
        let ms = [away(1, Some(2)), away(2, Some(1))];
        assert_eq!(route_to_available(1, &ms), None);
        let self_loop = [away(4, Some(4))];
        assert_eq!(route_to_available(4, &self_loop), None);
    }

    #[test]
    fn dead_ends() {
        let inactive = ManagerLoad {
            active: false,
            ..m(2, 0)
        };
        // Inactive substitute.
        assert_eq!(
            route_to_available(1, &[away(1, Some(2)), inactive.clone()]),
            None
        );
        // Inactive addressee.
        assert_eq!(route_to_available(2, &[inactive]), None);
        // Unknown substitute and unknown addressee.
        assert_eq!(route_to_available(1, &[away(1, Some(99))]), None);
        assert_eq!(route_to_available(42, &[m(1, 0)]), None);
        // No substitute at all.
        assert_eq!(route_to_available(1, &[away(1, None)]), None);
    }
}
