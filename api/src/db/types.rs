//! Column types written once for both backends: domain enums stored as their text name,
//! JSON documents stored as text, and the id newtypes. A value that cannot be decoded is
//! a deserialisation error (the request fails and the cause is logged), never a default.
//!
//! Row structs keep plain domain types and name the column type with
//! `#[diesel(deserialize_as = ...)]` / `#[diesel(serialize_as = ...)]`.

use std::fmt;
use std::io::Write as _;
use std::str::FromStr;

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::pg::Pg;
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::{BigInt, Nullable, Text};
use diesel::sqlite::Sqlite;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::DbBackend;

/// A fieldless enum stored as its stable text name.
pub trait StoredEnum: Copy + FromStr + fmt::Debug + Send + Sync + 'static {
    /// What the column holds, for the error when a stored name is unknown.
    const WHAT: &'static str;
    fn as_str(self) -> &'static str;
}

macro_rules! stored_enums {
    ($($ty:ty => $what:literal),+ $(,)?) => {
        $(impl StoredEnum for $ty {
            const WHAT: &'static str = $what;
            fn as_str(self) -> &'static str {
                <$ty>::as_str(self)
            }
        })+
    };
}

stored_enums!(
    domain::claim::ClaimStatus => "claim status",
    domain::claim::Remedy => "remedy",
    domain::decision::DecisionKind => "decision",
    domain::job::JobStatus => "job status",
    domain::job::JobKind => "job kind",
    domain::plan::PlanStatus => "plan status",
    domain::plan::PlanObjective => "plan objective",
    domain::dispatch::CourierEvent => "courier event",
    domain::dispatch::Visit => "visit outcome",
    domain::claim::RejectReason => "reject reason",
    domain::decision::Logistics => "logistics",
    domain::locale::Locale => "locale",
    domain::partner::PartnerKind => "partner kind",
    crate::auth::Role => "role",
);

/// The column type of a [`StoredEnum`]: `TEXT` holding its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, AsExpression, FromSqlRow)]
#[diesel(sql_type = Text)]
pub struct DbEnum<T: StoredEnum>(pub T);

impl<T: StoredEnum> From<T> for DbEnum<T> {
    fn from(value: T) -> Self {
        Self(value)
    }
}

impl<T: StoredEnum> DbEnum<T> {
    /// For row structs: `#[diesel(deserialize_as = DbEnum<T>)]` needs `Into<T>`.
    pub fn into_inner(self) -> T {
        self.0
    }
}

macro_rules! into_inner {
    ($($ty:ty),+) => {$(
        impl From<DbEnum<$ty>> for $ty {
            fn from(value: DbEnum<$ty>) -> Self {
                value.0
            }
        }
    )+};
}

into_inner!(
    domain::claim::ClaimStatus,
    domain::claim::Remedy,
    domain::decision::DecisionKind,
    domain::job::JobStatus,
    domain::job::JobKind,
    domain::plan::PlanStatus,
    domain::plan::PlanObjective,
    domain::dispatch::CourierEvent,
    domain::dispatch::Visit,
    domain::claim::RejectReason,
    domain::decision::Logistics,
    domain::locale::Locale,
    domain::partner::PartnerKind,
    crate::auth::Role
);

fn parse_enum<T: StoredEnum>(text: &str) -> deserialize::Result<DbEnum<T>> {
    text.parse::<T>()
        .map(DbEnum)
        .map_err(|_| format!("stored {} `{text}` is unknown", T::WHAT).into())
}

impl<T: StoredEnum> ToSql<Text, Sqlite> for DbEnum<T> {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(self.0.as_str());
        Ok(serialize::IsNull::No)
    }
}

impl<T: StoredEnum> ToSql<Text, Pg> for DbEnum<T> {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        out.write_all(self.0.as_str().as_bytes())?;
        Ok(serialize::IsNull::No)
    }
}

impl<T: StoredEnum> ToSql<Text, DbBackend> for DbEnum<T> {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DbBackend>) -> serialize::Result {
        out.set_value((Text, self));
        Ok(serialize::IsNull::No)
    }
}

impl<T: StoredEnum> FromSql<Text, Sqlite> for DbEnum<T> {
    fn from_sql(bytes: <Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        parse_enum(&<String as FromSql<Text, Sqlite>>::from_sql(bytes)?)
    }
}

impl<T: StoredEnum> FromSql<Text, Pg> for DbEnum<T> {
    fn from_sql(bytes: <Pg as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        parse_enum(&<String as FromSql<Text, Pg>>::from_sql(bytes)?)
    }
}

impl<T: StoredEnum> FromSql<Text, DbBackend> for DbEnum<T> {
    fn from_sql(bytes: <DbBackend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        bytes.from_sql::<Self, Text>()
    }
}

/// A nullable [`StoredEnum`] column, for reading (`deserialize_as = OptEnum<T>`); writes
/// bind an `Option<DbEnum<T>>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromSqlRow)]
pub struct OptEnum<T: StoredEnum>(pub Option<T>);

impl<T: StoredEnum> From<OptEnum<T>> for Option<T> {
    fn from(value: OptEnum<T>) -> Self {
        value.0
    }
}

impl<T: StoredEnum> FromSql<Nullable<Text>, DbBackend> for OptEnum<T> {
    fn from_sql(bytes: <DbBackend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        let DbEnum(value) = <DbEnum<T> as FromSql<Text, DbBackend>>::from_sql(bytes)?;
        Ok(Self(Some(value)))
    }

    fn from_nullable_sql(
        bytes: Option<<DbBackend as Backend>::RawValue<'_>>,
    ) -> deserialize::Result<Self> {
        match bytes {
            Some(bytes) => <Self as FromSql<Nullable<Text>, DbBackend>>::from_sql(bytes),
            None => Ok(Self(None)),
        }
    }
}

/// A JSON document in a `TEXT` column (time windows, skills, a plan's problem...).
#[derive(Debug, Clone, PartialEq, AsExpression, FromSqlRow)]
#[diesel(sql_type = Text)]
pub struct Json<T>(pub T);

impl<T> Json<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> From<T> for Json<T> {
    fn from(value: T) -> Self {
        Self(value)
    }
}

// What row structs read JSON columns as (`deserialize_as = Json<...>` needs `Into`).
impl<T> From<Json<Vec<T>>> for Vec<T> {
    fn from(value: Json<Vec<T>>) -> Self {
        value.0
    }
}

impl<T> From<Json<Option<T>>> for Option<T> {
    fn from(value: Json<Option<T>>) -> Self {
        value.0
    }
}

impl From<Json<serde_json::Value>> for serde_json::Value {
    fn from(value: Json<serde_json::Value>) -> Self {
        value.0
    }
}

fn parse_json<T: DeserializeOwned>(text: &str) -> deserialize::Result<Json<T>> {
    serde_json::from_str(text)
        .map(Json)
        .map_err(|e| format!("stored JSON is not a {}: {e}", std::any::type_name::<T>()).into())
}

impl<T: Serialize + fmt::Debug> ToSql<Text, Sqlite> for Json<T> {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(serde_json::to_string(&self.0)?);
        Ok(serialize::IsNull::No)
    }
}

impl<T: Serialize + fmt::Debug> ToSql<Text, Pg> for Json<T> {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        serde_json::to_writer(out, &self.0)?;
        Ok(serialize::IsNull::No)
    }
}

impl<T: Serialize + fmt::Debug + Send + Sync + 'static> ToSql<Text, DbBackend> for Json<T> {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DbBackend>) -> serialize::Result {
        out.set_value((Text, self));
        Ok(serialize::IsNull::No)
    }
}

impl<T: DeserializeOwned> FromSql<Text, Sqlite> for Json<T> {
    fn from_sql(bytes: <Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        parse_json(&<String as FromSql<Text, Sqlite>>::from_sql(bytes)?)
    }
}

impl<T: DeserializeOwned> FromSql<Text, Pg> for Json<T> {
    fn from_sql(bytes: <Pg as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        parse_json(&<String as FromSql<Text, Pg>>::from_sql(bytes)?)
    }
}

impl<T: DeserializeOwned> FromSql<Text, DbBackend> for Json<T> {
    fn from_sql(bytes: <DbBackend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        bytes.from_sql::<Self, Text>()
    }
}

/// A nullable JSON column: `NULL` is `None`, anything else must decode.
impl<T: DeserializeOwned> FromSql<Nullable<Text>, DbBackend> for Json<Option<T>> {
    fn from_sql(bytes: <DbBackend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        let Json(value) = <Json<T> as FromSql<Text, DbBackend>>::from_sql(bytes)?;
        Ok(Json(Some(value)))
    }

    fn from_nullable_sql(
        bytes: Option<<DbBackend as Backend>::RawValue<'_>>,
    ) -> deserialize::Result<Self> {
        match bytes {
            Some(bytes) => <Self as FromSql<Nullable<Text>, DbBackend>>::from_sql(bytes),
            None => Ok(Json(None)),
        }
    }
}

/// A time slot (a customer's preferred window, a job's window), as stored and as shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TimeWindow {
    pub start: chrono::DateTime<chrono::Utc>,
    pub end: chrono::DateTime<chrono::Utc>,
}

/// Ids of the aggregates: a claim id cannot be passed where a job id is meant, nor a
/// courier's id where his account's is. Serialised as the plain number.
macro_rules! id_types {
    ($($(#[$doc:meta])* $name:ident),+ $(,)?) => {$(
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            Serialize, Deserialize, AsExpression, FromSqlRow, utoipa::ToSchema,
        )]
        #[diesel(sql_type = BigInt)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<$name> for i64 {
            fn from(id: $name) -> i64 {
                id.0
            }
        }

        impl ToSql<BigInt, Sqlite> for $name {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
                <i64 as ToSql<BigInt, Sqlite>>::to_sql(&self.0, out)
            }
        }

        impl ToSql<BigInt, Pg> for $name {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                <i64 as ToSql<BigInt, Pg>>::to_sql(&self.0, out)
            }
        }

        impl ToSql<BigInt, DbBackend> for $name {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DbBackend>) -> serialize::Result {
                out.set_value((BigInt, self));
                Ok(serialize::IsNull::No)
            }
        }

        impl FromSql<BigInt, Sqlite> for $name {
            fn from_sql(bytes: <Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                <i64 as FromSql<BigInt, Sqlite>>::from_sql(bytes).map(Self)
            }
        }

        impl FromSql<BigInt, Pg> for $name {
            fn from_sql(bytes: <Pg as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                <i64 as FromSql<BigInt, Pg>>::from_sql(bytes).map(Self)
            }
        }

        impl FromSql<BigInt, DbBackend> for $name {
            fn from_sql(bytes: <DbBackend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                bytes.from_sql::<Self, BigInt>()
            }
        }

    )+};
}

id_types!(
    /// A claim's id.
    ClaimId,
    /// A courier job's id.
    JobId,
    /// A plan's id.
    PlanId,
    /// A courier's id (not his account's: see [`UserId`]).
    CourierId,
    /// An account's id.
    UserId,
    /// A customer's id (a customer may have no account).
    CustomerId,
);
