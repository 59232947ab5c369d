//! Accounts (admin) and managers' duty (admin or head).

use actix_web::{get, patch, post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::{decode_cursor, double_option, page_limit, paginate, Page};
use crate::app::accounts::{self, AccountChanges, NewAccount};
use crate::auth::extract::{Admin, AdminOrHead};
use crate::auth::{password, Role};
use crate::db::types::{CustomerId, UserId};
use crate::db::users::UserRow;
use crate::error::ApiResult;
use crate::extract::ValidJson;
use crate::state::State;
use domain::locale::Locale;

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct CreateUserRequest {
    #[validate(email, length(max = 254))]
    pub email: String,
    #[validate(length(min = 1, max = 200))]
    pub name: String,
    pub role: Role,
    #[validate(length(min = 8, max = 1024))]
    pub password: String,
    /// Required for customers: the customer record the account belongs to.
    pub customer_id: Option<CustomerId>,
    /// `en` or `ru`; the server's default when absent.
    #[schema(value_type = Option<String>)]
    pub locale: Option<Locale>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct UpdateUserRequest {
    pub active: Option<bool>,
    pub absent: Option<bool>,
    /// Who receives the manager's claims while he is absent; `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>)]
    pub substitute_id: Option<Option<UserId>>,
    /// `en` or `ru`.
    #[schema(value_type = Option<String>)]
    pub locale: Option<Locale>,
    /// Admins only, between the staff roles (`admin`, `head`, `manager`, `dispatcher`):
    /// the tokens the user holds stop working and he signs in again.
    pub role: Option<Role>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserResponse {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub customer_id: Option<CustomerId>,
    pub active: bool,
    pub absent: bool,
    pub substitute_id: Option<UserId>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// `en` or `ru`; absent: the server's default.
    #[schema(value_type = Option<String>)]
    pub locale: Option<Locale>,
}

impl From<UserRow> for UserResponse {
    fn from(u: UserRow) -> Self {
        Self {
            id: u.id,
            email: u.email,
            name: u.name,
            role: u.role,
            customer_id: u.customer_id,
            active: u.active,
            absent: u.absent,
            substitute_id: u.substitute_id,
            created_at: u.created_at.and_utc(),
            locale: u.locale,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ListUsersQuery {
    pub role: Option<Role>,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

/// Creates an account (admin).
#[utoipa::path(tag = "users", request_body = CreateUserRequest, security(("bearer" = [])), responses(
    (status = 201, body = UserResponse), (status = 403, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
#[post("/users")]
pub async fn create_user(
    state: State,
    _admin: Admin,
    body: ValidJson<CreateUserRequest>,
) -> ApiResult<HttpResponse> {
    let request = body.0;
    let hash = web::block({
        let pw = request.password.clone();
        move || password::hash(&pw)
    })
    .await??;
    let user = state
        .write(move |conn| {
            accounts::add_user(
                conn,
                &NewAccount {
                    email: &request.email,
                    name: &request.name,
                    role: request.role,
                    password_hash: &hash,
                    customer_id: request.customer_id,
                    locale: request.locale,
                },
            )
        })
        .await?;
    Ok(HttpResponse::Created().json(UserResponse::from(user)))
}

/// Lists accounts (admin).
#[utoipa::path(tag = "users", params(ListUsersQuery), security(("bearer" = [])), responses((status = 200, body = Page<UserResponse>)))]
#[get("/users")]
pub async fn list_users(
    state: State,
    _admin: Admin,
    query: web::Query<ListUsersQuery>,
) -> ApiResult<HttpResponse> {
    let limit = page_limit(query.limit)?;
    // Users are listed oldest first, so the cursor is the last id seen.
    let after = decode_cursor(query.cursor.as_deref())?;
    let role = query.role;
    let rows = state
        .db(move |conn| accounts::list_users(conn, role, after, limit + 1))
        .await?;
    Ok(HttpResponse::Ok().json(paginate(rows, limit, |u| u.id.0, UserResponse::from)))
}

/// Activates or deactivates an account, marks a manager absent with a substitute (admin or
/// head), or changes a staff member's role (admin). Deactivation and a new role end the
/// account's sign-ins: its refresh tokens are revoked and the access tokens it holds are
/// refused from the next request on.
#[utoipa::path(tag = "users", request_body = UpdateUserRequest, security(("bearer" = [])), responses(
    (status = 200, body = UserResponse), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
#[patch("/users/{id}")]
pub async fn update_user(
    state: State,
    actor: AdminOrHead,
    path: web::Path<i64>,
    body: ValidJson<UpdateUserRequest>,
) -> ApiResult<HttpResponse> {
    let id = UserId(path.into_inner());
    let request = body.0;
    let changes = AccountChanges {
        active: request.active,
        absent: request.absent,
        substitute_id: request.substitute_id,
        locale: request.locale,
        role: request.role,
    };
    let actor = *actor;
    let user = state
        .write(move |conn| accounts::update_user(conn, &actor, id, &changes))
        .await?;
    state.revocations.record(user.id, user.standing());
    Ok(HttpResponse::Ok().json(UserResponse::from(user)))
}
