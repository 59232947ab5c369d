//! Data for a demo and for the load benchmark, made through the application layer (the
//! same steps as the HTTP handlers), so what they seed is what users would have made.

pub mod demo;
pub mod history;
pub mod load;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use domain::claim::{ClaimStatus, TransitionTrigger};
use domain::decision::{validate_decision, DecisionInput};
use domain::sla::SlaPolicy;

use crate::app::accounts::{self, CourierInput, NewAccount};
use crate::app::fleet::{self, ShiftInput};
use crate::app::{claims, registry};
use crate::auth::Role;
use crate::db::claims::ClaimRow;
use crate::db::jobs::JobRow;
use crate::db::types::{CourierId, UserId};
use crate::db::{registry as registry_db, DbConnection};
use crate::error::{ApiError, ApiResult};

/// `hour`:00 UTC on `date`.
pub fn at(date: NaiveDate, hour: u32) -> NaiveDateTime {
    date.and_time(NaiveTime::from_hms_opt(hour, 0, 0).unwrap_or_default())
}

/// A catalogue entry: sku, name, category, series, warranty months, size units.
pub type Product = (
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
    i32,
    i32,
);

/// Adds the products the catalogue lacks.
pub fn ensure_products(conn: &mut DbConnection, products: &[Product]) -> ApiResult<()> {
    for &(sku, name, category, series, warranty_months, size_units) in products {
        if registry_db::find_product(conn, sku)?.is_none() {
            registry::create_product(
                conn,
                &registry::ProductInput {
                    sku,
                    name,
                    category,
                    series,
                    warranty_months,
                    size_units,
                },
            )?;
        }
    }
    Ok(())
}

/// An account with a password hash shared by the seeded logins.
pub fn account(
    conn: &mut DbConnection,
    hash: &str,
    email: &str,
    name: &str,
    role: Role,
) -> ApiResult<UserId> {
    Ok(accounts::add_user(
        conn,
        &NewAccount {
            email,
            name,
            role,
            password_hash: hash,
            customer_id: None,
            locale: None,
        },
    )?
    .id)
}

/// A courier account with its courier record and a shift on each of `shifts`.
#[allow(clippy::too_many_arguments)]
pub fn courier(
    conn: &mut DbConnection,
    hash: &str,
    email: &str,
    name: &str,
    capacity: i32,
    cash: bool,
    depot_id: i64,
    shifts: &[(NaiveDate, ShiftInput)],
) -> ApiResult<CourierId> {
    let user_id = account(conn, hash, email, name, Role::Courier)?;
    let skills = if cash {
        vec!["cash".to_owned()]
    } else {
        Vec::new()
    };
    let courier = accounts::create_courier(
        conn,
        &CourierInput {
            user_id,
            phone: Some("+49 30 5550100"),
            capacity,
            skills: &skills,
            home_depot_id: depot_id,
        },
    )?;
    for (date, shift) in shifts {
        fleet::put_shift(conn, courier.id, *date, shift)?;
    }
    Ok(courier.id)
}

/// Moves a filed claim through the review stages (`depth` of them) and, if given, decides.
pub fn review_and_decide(
    conn: &mut DbConnection,
    sla: &SlaPolicy,
    mut claim: ClaimRow,
    depth: usize,
    decision: Option<DecisionInput>,
) -> ApiResult<Vec<JobRow>> {
    let actor = claim
        .assignee_id
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("claim {} unassigned", claim.id)))?;
    let stages = [
        ClaimStatus::InfoCheck,
        ClaimStatus::Diagnostics,
        ClaimStatus::Decision,
    ];
    for to in stages.iter().take(depth) {
        claim = claims::transition(
            conn,
            sla,
            &claim,
            actor,
            *to,
            TransitionTrigger::Manual,
            None,
        )?;
    }
    match decision {
        Some(input) => {
            let decision = validate_decision(input).map_err(ApiError::Validation)?;
            Ok(claims::decide(conn, sla, &claim, actor, &decision)?.1)
        }
        None => Ok(Vec::new()),
    }
}
