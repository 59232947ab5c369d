//! One mechanism for every endpoint that honours an `Idempotency-Key`: the answer is
//! stored with the key in the same transaction as the change it reports, so a retried
//! request gets the first answer and changes nothing; the same key with another request is
//! a 422.
//!
//! A concurrent request with the same key can only be told apart when it commits: ours then
//! fails on the key's unique index (`ApiError::IdempotencyRace`, from the constraint table
//! in `error.rs`), rolls back whole, and is tried once more, finding the stored answer.
//! That race is the only thing retried: a stale version or a changed job is the caller's
//! to resolve (409), never papered over by a retry.

use sha2::{Digest, Sha256};

use crate::db::types::UserId;
use crate::db::{idempotency, DbConnection};
use crate::error::{ApiError, ApiResult};
use crate::messages;
use crate::state::AppState;

/// A request that may carry a key: who sent it, the key, and a hash of what was asked.
#[derive(Debug, Clone)]
pub struct Keyed {
    pub user_id: UserId,
    pub key: Option<String>,
    /// Hash of the endpoint and the request, so a key reused for another request is seen.
    pub request_hash: String,
}

impl Keyed {
    /// `endpoint` names the operation (`POST /claims`), `request` is its parsed input.
    pub fn new(
        user_id: UserId,
        key: Option<String>,
        endpoint: &str,
        request: &impl serde::Serialize,
    ) -> ApiResult<Self> {
        let body = serde_json::to_vec(request).map_err(anyhow::Error::from)?;
        let mut hasher = Sha256::new();
        hasher.update(endpoint.as_bytes());
        hasher.update([0]);
        hasher.update(&body);
        Ok(Self {
            user_id,
            key,
            request_hash: hex::encode(hasher.finalize()),
        })
    }
}

/// An answer as it was (or will be) given: status code and JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub body: String,
}

/// The stored answer for this key, if the request was already made; a 422 when the key
/// came with another request.
pub fn replay(conn: &mut DbConnection, keyed: &Keyed) -> ApiResult<Option<Answer>> {
    let Some(key) = &keyed.key else {
        return Ok(None);
    };
    match idempotency::find(conn, keyed.user_id, key)? {
        Some(stored) if stored.request_hash != keyed.request_hash => Err(ApiError::field(
            "Idempotency-Key",
            messages::IDEMPOTENCY_MISMATCH,
        )),
        Some(stored) => Ok(Some(Answer {
            status: u16::try_from(stored.status_code).map_err(anyhow::Error::from)?,
            body: stored.response_body,
        })),
        None => Ok(None),
    }
}

/// Stores the answer with the key. Call it before the writes it answers for where
/// concurrent duplicates should wait on the key rather than race the writes.
pub fn remember(conn: &mut DbConnection, keyed: &Keyed, answer: &Answer) -> ApiResult<()> {
    if let Some(key) = &keyed.key {
        idempotency::insert(
            conn,
            keyed.user_id,
            key,
            &keyed.request_hash,
            i32::from(answer.status),
            &answer.body,
        )?;
    }
    Ok(())
}

/// Runs `work` in a write transaction at most twice: again only when a concurrent request
/// with the same key won the race (see the module's documentation). `work` replays and
/// remembers through [`replay`] and [`remember`].
pub async fn at_most_once<F>(state: &AppState, work: F) -> ApiResult<Answer>
where
    F: Fn(&mut DbConnection) -> ApiResult<Answer> + Clone + Send + 'static,
{
    match state.write(work.clone()).await {
        Err(ApiError::IdempotencyRace) => state.write(work).await,
        other => other,
    }
}

/// The usual shape of `work`: replay, else do the change and remember its answer.
pub fn replay_or<F>(conn: &mut DbConnection, keyed: &Keyed, change: F) -> ApiResult<Answer>
where
    F: FnOnce(&mut DbConnection) -> ApiResult<Answer>,
{
    if let Some(answer) = replay(conn, keyed)? {
        return Ok(answer);
    }
    let answer = change(conn)?;
    remember(conn, keyed, &answer)?;
    Ok(answer)
}
