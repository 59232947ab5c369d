//! Accounts and couriers: who may sign in, with which role; a head's say over his
//! department's duty (absence, substitutes); the courier record of a courier account.

use crate::auth::extract::AuthUser;
use crate::auth::Role;
use crate::db::fleet::{self, CourierRow, NewCourier};
use crate::db::types::{CourierId, CustomerId, DbEnum, UserId};
use crate::db::users::{self, NewUser, UserChanges, UserRow};
use crate::db::{now, registry, tokens, DbConnection};
use crate::error::{ApiError, ApiResult};
use crate::messages;
use domain::locale::Locale;

pub use super::registry::normalise_email;

/// A new account, validated; the password is already hashed.
#[derive(Debug, Clone)]
pub struct NewAccount<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub role: Role,
    pub password_hash: &'a str,
    /// Required for customers: the customer record the account belongs to.
    pub customer_id: Option<CustomerId>,
    /// `None`: the server's default language.
    pub locale: Option<Locale>,
}

/// Adds an account after checking what the database cannot (the HTTP API, the CLI and the
/// seeds all come here).
pub fn add_user(conn: &mut DbConnection, account: &NewAccount) -> ApiResult<UserRow> {
    match (account.role, account.customer_id) {
        (Role::Customer, None) => {
            return Err(ApiError::field(
                "customer_id",
                messages::CUSTOMER_ROLE_NEEDS_CUSTOMER,
            ))
        }
        (_, Some(id)) if registry::find_customer(conn, id)?.is_none() => {
            return Err(ApiError::field("customer_id", messages::NOT_FOUND))
        }
        _ => {}
    }
    let email = normalise_email(account.email);
    Ok(users::insert(
        conn,
        NewUser {
            email: &email,
            name: account.name.trim(),
            role: account.role,
            password_hash: account.password_hash,
            customer_id: account.customer_id,
            active: true,
            absent: false,
            created_at: now(),
            locale: account.locale.map(DbEnum),
        },
    )?)
}

pub fn list_users(
    conn: &mut DbConnection,
    role: Option<Role>,
    after_id: Option<i64>,
    limit: i64,
) -> ApiResult<Vec<UserRow>> {
    Ok(users::list(conn, role, after_id, limit)?)
}

pub fn find_by_email(conn: &mut DbConnection, email: &str) -> ApiResult<Option<UserRow>> {
    Ok(users::find_by_email(conn, &normalise_email(email))?)
}

/// What an admin or a head may change about an account.
#[derive(Debug, Clone, Default)]
pub struct AccountChanges {
    pub active: Option<bool>,
    pub absent: Option<bool>,
    /// `Some(None)` clears the substitute.
    pub substitute_id: Option<Option<UserId>>,
    pub locale: Option<Locale>,
    pub role: Option<Role>,
}

/// Roles an admin can move a staff member between: none of them is tied to a record of its
/// own (a courier's vehicle, a customer's sales).
const STAFF_ROLES: [Role; 4] = [Role::Admin, Role::Head, Role::Manager, Role::Dispatcher];

/// Changes an account. A head runs his department: the managers and heads, nobody else's
/// account (another one is a 404, as if it did not exist). Deactivation ends the account's
/// sign-ins.
pub fn update_user(
    conn: &mut DbConnection,
    actor: &AuthUser,
    id: UserId,
    changes: &AccountChanges,
) -> ApiResult<UserRow> {
    let target = users::find(conn, id)?.ok_or(ApiError::NotFound)?;
    if actor.role != Role::Admin && !target.role.handles_claims() {
        return Err(ApiError::NotFound);
    }
    if let Some(Some(substitute)) = changes.substitute_id {
        if substitute == id {
            return Err(ApiError::field("substitute_id", messages::SUBSTITUTE_SELF));
        }
        let sub = users::find(conn, substitute)?;
        if !sub.is_some_and(|s| s.active && s.role.handles_claims()) {
            return Err(ApiError::field("substitute_id", messages::NOT_A_MANAGER));
        }
    }
    let new_role = changes.role.filter(|r| *r != target.role);
    if let Some(role) = new_role {
        if actor.role != Role::Admin {
            return Err(ApiError::Forbidden);
        }
        if id == actor.id {
            return Err(ApiError::field("role", messages::OWN_ROLE));
        }
        if !STAFF_ROLES.contains(&role) || !STAFF_ROLES.contains(&target.role) {
            return Err(ApiError::field("role", messages::STAFF_ROLES_ONLY));
        }
    }
    let row_changes = UserChanges {
        active: changes.active,
        absent: changes.absent,
        substitute_id: changes.substitute_id,
        name: None,
        locale: changes.locale.map(|l| Some(DbEnum(l))),
        role: new_role.map(DbEnum),
    };
    let (was_absent, was_active, handles) =
        (target.absent, target.active, target.role.handles_claims());
    let mut updated = if row_changes.is_empty() {
        target
    } else {
        users::update(conn, id, &row_changes)?
    };
    // Tokens issued for the old standing stop working; sign-ins too when deactivated.
    let active_changed = changes.active.is_some_and(|a| a != was_active);
    if active_changed || new_role.is_some() {
        tokens::revoke_all_for_user(conn, id)?;
        updated = users::bump_generation(conn, id, now())?;
    }
    // A manager who goes away (or leaves, or stops being a manager) hands his open claims
    // on, not only his new ones.
    let leaves = (changes.absent == Some(true) && !was_absent)
        || (changes.active == Some(false) && was_active)
        || new_role.is_some_and(|r| !r.handles_claims());
    if leaves && handles {
        super::claims::hand_over(conn, actor.id, id)?;
    }
    Ok(updated)
}

/// A courier for a courier account, validated.
#[derive(Debug, Clone)]
pub struct CourierInput<'a> {
    pub user_id: UserId,
    pub phone: Option<&'a str>,
    pub capacity: i32,
    pub skills: &'a [String],
    pub home_depot_id: i64,
}

pub fn create_courier(conn: &mut DbConnection, input: &CourierInput) -> ApiResult<CourierRow> {
    let user = users::find(conn, input.user_id)?
        .filter(|u| u.role == Role::Courier)
        .ok_or_else(|| ApiError::field("user_id", messages::NOT_A_COURIER_ACCOUNT))?;
    if fleet::courier_for_user(conn, user.id)?.is_some() {
        return Err(ApiError::field("user_id", messages::COURIER_EXISTS));
    }
    fleet::find_depot(conn, input.home_depot_id)?
        .ok_or_else(|| ApiError::field("home_depot_id", messages::NOT_FOUND))?;
    let mut skills = input.skills.to_vec();
    skills.sort();
    skills.dedup();
    Ok(fleet::insert_courier(
        conn,
        NewCourier {
            user_id: user.id,
            name: &user.name,
            phone: input.phone,
            capacity: input.capacity,
            skills,
            home_depot_id: input.home_depot_id,
            created_at: now(),
        },
    )?)
}

/// The courier record of a courier account; an account without one has no route or jobs
/// (404, like anything else that is not his).
pub fn courier_of(conn: &mut DbConnection, user_id: UserId) -> ApiResult<CourierId> {
    fleet::courier_for_user(conn, user_id)?.ok_or(ApiError::NotFound)
}
