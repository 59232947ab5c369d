//! Tokens that stop working before they expire. Every user has a token generation, carried
//! in each access token; deactivating the user, changing his role or signing him out
//! everywhere moves it on, and tokens of an older generation are refused on their next
//! request. Each process keeps the users whose standing ever changed in memory and reads
//! the changes of every replica once a second, so a request costs no database query.

use std::collections::HashMap;
use std::sync::{Mutex, RwLock};
use std::time::Duration;

use chrono::NaiveDateTime;

use crate::db::types::UserId;
use crate::db::users::{self, Standing};
use crate::db::DbConnection;
use crate::error::ApiError;
use crate::messages;
use crate::state::AppState;

/// How often each process reads the changes made by the others.
pub const SYNC_EVERY: Duration = Duration::from_secs(1);
/// Changes are re-read this far back, so a replica whose clock runs behind is not missed.
const CLOCK_SLACK: chrono::Duration = chrono::Duration::seconds(60);

#[derive(Debug, Default)]
pub struct Revocations {
    standing: RwLock<HashMap<UserId, Standing>>,
    synced_to: Mutex<Option<NaiveDateTime>>,
}

impl Revocations {
    /// Refuses a token older than its user's generation, or of a deactivated user. A user
    /// whose standing never changed is not kept (generation 0, active). A token newer than
    /// what this process knows was issued after a change it has not read yet (a
    /// reactivation on another replica): it is let through.
    pub fn check(&self, user: UserId, token_generation: i32) -> Result<(), ApiError> {
        let standing = self
            .standing
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match standing.get(&user) {
            Some(s)
                if token_generation < s.generation
                    || (!s.active && token_generation == s.generation) =>
            {
                Err(ApiError::Unauthorized(messages::TOKEN_REVOKED))
            }
            _ => Ok(()),
        }
    }

    /// Takes in a change this process made, at once (others see it at their next sync).
    pub fn record(&self, user: UserId, standing: Standing) {
        let mut map = self
            .standing
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let entry = map.entry(user).or_insert(standing);
        if standing.generation >= entry.generation {
            *entry = standing;
        }
    }

    /// Reads the standings changed since the last sync (all of them the first time).
    pub fn sync(&self, conn: &mut DbConnection) -> diesel::QueryResult<usize> {
        let since = self
            .synced_to
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .map(|t| t - CLOCK_SLACK);
        let changed = users::standings_changed_since(conn, since)?;
        let newest = changed.iter().map(|(_, _, at)| *at).max();
        for (user, standing, _) in &changed {
            self.record(*user, *standing);
        }
        if let Some(newest) = newest {
            let mut synced = self
                .synced_to
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            *synced = Some(synced.map_or(newest, |s| s.max(newest)));
        }
        Ok(changed.len())
    }
}

/// Keeps this process's standings in step with the database, once a second.
pub fn start_sync(state: actix_web::web::Data<AppState>) {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(SYNC_EVERY).await;
            let state = state.clone();
            let synced = tokio::task::spawn_blocking(move || -> anyhow::Result<usize> {
                let mut conn = state.pool.get()?;
                Ok(state.revocations.sync(&mut conn)?)
            })
            .await;
            match synced {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "token revocations not synced"),
                Err(e) => tracing::warn!(error = %e, "token revocation sync failed"),
            }
        }
    });
}
