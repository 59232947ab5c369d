//! Every sentence the API shows to people, in one place so it can be localised later.

use domain::partner::PartnerKind;

pub const UNAUTHORIZED: &str = "a valid access token is required";
pub const TOKEN_EXPIRED: &str = "the access token has expired";
pub const OWN_ROLE: &str = "you cannot change your own role";
pub const STAFF_ROLES_ONLY: &str = "roles change only between admin, head, manager and dispatcher";
pub const TOKEN_REVOKED: &str =
    "the access token was revoked (account deactivated, role changed or signed out); sign in again";
pub const BAD_CREDENTIALS: &str = "wrong e-mail or password";
pub const REFRESH_INVALID: &str = "the refresh token is invalid, expired or already used";
pub const FORBIDDEN: &str = "your role may not do this";
pub const CSRF: &str =
    "a request signed in by the console's cookie must carry the page's X-CSRF-Token header";
pub const NOT_FOUND: &str = "no such resource";
pub const TOO_MANY_LOGINS: &str = "too many failed sign-ins; try again later";
pub const STALE_CLAIM: &str = "the claim was changed by someone else; reload it and try again";
pub const IDEMPOTENCY_MISMATCH: &str =
    "this Idempotency-Key was already used with a different request body";
pub const IDEMPOTENCY_KEY_FORMAT: &str = "must be 1 to 255 visible ASCII characters";
pub const MALFORMED_JSON: &str = "the request body is not valid JSON";
pub const FILE_TOO_LARGE: &str = "the file is larger than the allowed maximum";
pub const BODY_TOO_LARGE: &str = "the request body is larger than this endpoint accepts";
pub const PART_HEADER_TOO_LARGE: &str =
    "a multipart part's headers (or the text before the first part) are too long";
pub const TOO_MANY_PARTS: &str = "the multipart body has more parts than this endpoint accepts";
pub const FILE_TYPE: &str = "only JPEG, PNG or PDF files are accepted (recognised by content)";
pub const IMAGE_UNREADABLE: &str = "the image cannot be read";

pub fn too_many_pixels(width: u64, height: u64, limit: u64) -> String {
    format!("the image is {width} x {height} pixels; at most {limit} pixels are accepted")
}

pub const REPORT_INSTANT: &str =
    "must be a date (`2026-11-01`) or an RFC 3339 time (`2026-11-01T08:00:00Z`)";
pub const REPORT_EMPTY_RANGE: &str = "must be later than `from`";
pub const REPORT_FORMAT: &str = "must be `json`, `csv` or `svg`";

pub fn report_range_too_long(days: i64) -> String {
    format!("a report covers at most {days} days")
}

pub const NO_DECISION_YET: &str = "the claim has no decision yet, so there is no decision act";
pub const DOCUMENT_KIND: &str = "must be `claim_act.pdf` or `decision_act.pdf`";
pub const LANGUAGE: &str = "must be `en` or `ru`";

pub const CSV_TYPE: &str = "send the sales as `text/csv`";
pub const FILE_MISSING: &str = "a multipart field named `file` is required";
pub const INTERNAL: &str = "something went wrong on our side; it has been logged";
pub const DATABASE_UNAVAILABLE: &str =
    "the database cannot be reached right now; try again in a moment";
pub const CONFLICT: &str = "this conflicts with a record that already exists";
pub const CHANGED_MEANWHILE: &str =
    "the data was changed by someone else meanwhile; reload it and try again";
pub const CUSTOMER_CHANGED: &str =
    "a customer with this e-mail was registered meanwhile; send the request again";
pub const SHIFT_CHANGED: &str =
    "the courier's shift for this date was changed meanwhile; send the request again";
pub const IDEMPOTENCY_IN_FLIGHT: &str =
    "a request with this Idempotency-Key is being processed; send it again in a moment";
pub const NO_MANAGER_ON_DUTY: &str = "no manager is on duty to take the claim";
pub const UNKNOWN_SKU: &str = "no product with this SKU";
pub const DUPLICATE_SERIAL: &str = "this serial number is already registered";
pub const SERIAL_OF_ANOTHER: &str =
    "this serial number is registered to another customer; the seller can file the claim";
pub const DUPLICATE_EMAIL: &str = "a user with this e-mail already exists";
pub const DUPLICATE_SKU: &str = "a product with this SKU already exists";
pub const DUPLICATE_PARTNER: &str = "a partner of this kind with this name already exists";
pub const UNKNOWN_CATEGORY: &str = "no product in the catalogue has this category";
pub const LAT_LON_TOGETHER: &str = "a new location needs both `lat` and `lon`";
pub const CUSTOMER_NEEDED: &str =
    "the serial number is not linked to a customer: give the customer's details";
pub const CUSTOMER_ROLE_NEEDS_CUSTOMER: &str = "a customer account must be linked to a customer";
pub const NOT_A_MANAGER: &str = "must be an active manager or head";
pub const SUBSTITUTE_SELF: &str = "a manager cannot substitute for himself";
pub const WINDOW_ORDER: &str = "the window must end after it starts";
pub const WINDOW_PAST: &str = "the window must end in the future";
pub const INVALID_CURSOR: &str = "the cursor is not one this API gave out";
pub const PASSWORD_TOO_SHORT: &str = "must be at least 8 characters";
pub const UNKNOWN_ROLE: &str =
    "must be one of customer, dealer, manager, head, dispatcher, courier, admin";
pub const SERIAL_LENGTH: &str = "must be 1 to 64 characters";
pub const WARRANTY_BEFORE_SALE: &str = "is before sold_at";
pub const BLANK: &str = "must not be blank";

/// A CSV cell that should hold a date.
pub fn not_a_date(text: &str) -> String {
    format!("`{text}` is not a date (YYYY-MM-DD)")
}

pub const CSV_HEADER: &str = "the CSV needs a header with at least serial_no, sku and sold_at";

/// The sentence for a failed `validator` rule, from its code and parameters.
pub fn validation_rule(error: &validator::ValidationError) -> String {
    if let Some(message) = &error.message {
        return message.to_string();
    }
    let param = |name: &str| error.params.get(name).map(|v| v.to_string());
    match error.code.as_ref() {
        "length" => match (param("min"), param("max")) {
            (Some(min), Some(max)) => format!("must be {min} to {max} characters long"),
            (Some(min), None) => format!("must be at least {min} characters long"),
            (None, Some(max)) => format!("must be at most {max} characters long"),
            (None, None) => "has the wrong length".to_owned(),
        },
        "range" => match (param("min"), param("max")) {
            (Some(min), Some(max)) => format!("must be between {min} and {max}"),
            (Some(min), None) => format!("must be at least {min}"),
            (None, Some(max)) => format!("must be at most {max}"),
            (None, None) => "is out of range".to_owned(),
        },
        "email" => "must be an e-mail address".to_owned(),
        "required" => "is required".to_owned(),
        other => format!("is invalid ({other})"),
    }
}

/// The sentence for a body field of the wrong shape (serde's own text names types only).
pub fn wrong_shape(serde_message: &str) -> String {
    // serde says e.g. "invalid type: string \"x\", expected i64 at line 1 column 9":
    // keep its description but drop the position, which means nothing to people.
    match serde_message.find(" at line ") {
        Some(cut) => serde_message[..cut].to_owned(),
        None => serde_message.to_owned(),
    }
}

pub const SKILL_FORMAT: &str = "skills are short lowercase words such as `cash`";
pub const CLOSES_BEFORE_OPENS: &str = "the closing time must be after the opening time";
pub const NOT_A_COURIER_ACCOUNT: &str = "must be the id of a courier account";
pub const COURIER_EXISTS: &str = "this account already has a courier";
pub const SHIFT_TOO_LONG: &str = "a shift lasts at most 24 hours";
pub const SHIFT_OFF_DATE: &str = "the shift must cover the date in the path";
pub const BREAK_OUTSIDE_SHIFT: &str = "the break must fit inside the shift";

// Plans.
pub const PLAN_RUNNER_LOST: &str =
    "the server computing this plan stopped reporting; start a new plan";
pub const PLAN_FAILED: &str = "the plan could not be computed; the error has been logged";
pub const ROAD_TIMES_UNAVAILABLE: &str =
    "the road routing service gave no travel times; the error has been logged, try again later";
pub const PLAN_NOT_DRAFT: &str = "only a draft plan can be changed or published";
pub const PLAN_NOT_READY: &str = "the plan is still being computed or failed; it has no routes";
pub const STALE_PLAN: &str = "the plan was changed by someone else; reload it and try again";
pub const PLAN_OUTDATED: &str = "another plan of this day was published after this one was \
     computed; plan again or re-optimise the published plan";
pub const PLAN_HAS_VIOLATIONS: &str = "the plan has late, overloaded or unqualified stops; \
     fix them or publish with `accept_violations`";
pub const PLAN_JOBS_CHANGED: &str = "jobs of this plan changed since it was computed; plan again";
pub const PLAN_NOT_PUBLISHED: &str = "only a published plan can be re-optimised";
pub const JOB_NOT_IN_PLAN: &str = "this job is not one the plan can route";
pub const COURIER_NOT_IN_PLAN: &str = "this courier is not on shift in this plan";
pub const LOCK_UNROUTED: &str = "only a stop on a route can be locked";
pub const EMPTY_EDIT: &str = "give at least one move or lock";
pub const TIME_LIMIT_RANGE: &str = "must be between 100 ms and the configured maximum";
pub const UNKNOWN_DEPOT: &str = "no depot with this id";
pub const TIME_ZONE_UNKNOWN: &str = "must be an IANA time zone such as `Europe/Berlin`";

/// The history note a customer reads when a courier visit gets a time.
pub fn visit_planned(
    date: chrono::NaiveDate,
    eta: Option<chrono::DateTime<chrono::Utc>>,
) -> String {
    match eta {
        Some(eta) => format!(
            "courier visit planned for {} around {} UTC",
            eta.format("%Y-%m-%d"),
            eta.format("%H:%M")
        ),
        None => format!("courier visit planned for {date}"),
    }
}

// --- Couriers' mobile API (`/me/*`, `GET /couriers/positions`) ---------------------------

pub const IDEMPOTENCY_KEY_REQUIRED: &str =
    "reports need an Idempotency-Key header, so that a retry is not counted twice";
pub const JOB_CHANGED: &str = "the job was changed meanwhile; send the report again";
pub const POINTS_COUNT: &str = "send 1 to 1000 points at a time";

/// A report about a job that is his but not out for a visit (cancelled, say).
pub fn job_not_visitable(status: &str) -> String {
    format!("the job is `{status}` and not out for a visit; nothing can be reported on it")
}

/// A report that would end a visit the other way than it already ended.
pub fn visit_already_ended(
    ended: domain::dispatch::Visit,
    event: domain::dispatch::CourierEvent,
) -> String {
    format!("the visit already ended as `{ended}`; `{event}` cannot be reported any more")
}

/// Completing a visit that takes a unit back before its photo was uploaded.
pub fn proof_required(job_id: i64) -> String {
    format!(
        "this visit takes a unit back: upload a photo of it (POST /api/v1/me/jobs/{job_id}/proof) \
         before reporting the visit completed"
    )
}

/// The claim's history note for a failed visit.
pub fn job_failed_note(job_id: i64, kind: &str, reason: &str) -> String {
    format!("courier visit failed ({kind} job {job_id}): {reason}")
}

/// The claim's history note for a completed visit.
pub fn job_completed_note(job_id: i64, kind: &str) -> String {
    format!("courier visit completed ({kind} job {job_id})")
}

/// The note of a claim step caused by a courier's report.
pub fn fulfilment_note(job_id: i64, event: &str) -> String {
    format!("courier reported `{event}` for job {job_id}")
}

// --- Remedies to their end, deadlines, feedback ------------------------------------------

pub const REPAIR_ALREADY_DONE: &str =
    "the repair was already reported done; the unit's return visit exists";
pub const SHIPMENT_LEG_ALONE: &str = "this visit is one end of a unit's trip to or from a \
     workshop or supplier: both ends are placed together by a day's plan (or moved together by \
     an edit)";

pub fn shipment_parted(pickup: i64, delivery: i64) -> String {
    format!(
        "jobs {pickup} and {delivery} carry one unit: they stay on one courier's route, \
         job {pickup} first (or both off the routes); move both"
    )
}

pub fn units_over_capacity(load: i32, capacity: i32) -> String {
    format!(
        "with the units carried to or from workshops on board this route would hold {load} \
         units, and its courier takes {capacity}"
    )
}

pub fn pickup_first(pickup: i64) -> String {
    format!("the unit is taken at job {pickup} first; report that visit before this one")
}

pub const PICKUP_GAVE_UP: &str = "the unit could not be taken at its pickup";

pub const NO_SUCH_PARTNER: &str = "no partner has this id (`GET /partners?kind=workshop`)";

pub fn partner_not_a(name: &str, is: PartnerKind, wanted: PartnerKind) -> String {
    format!("`{name}` is a {is}, not a {wanted}")
}

pub fn partner_retired(name: &str) -> String {
    format!("`{name}` is retired and takes no more units")
}

pub fn partner_does_not_take(name: &str, category: &str) -> String {
    if category.is_empty() {
        format!("`{name}` takes only some categories, and this claim's product is not known")
    } else {
        format!("`{name}` does not take `{category}`")
    }
}

pub const READY_FOR_COLLECTION: &str = "repaired; ready for collection at the depot";
pub const NOT_AWAITING_UNIT: &str =
    "the claim is not waiting for the customer to bring the unit to a depot";
pub const VISIT_UNDER_WAY: &str =
    "a courier visit for this claim is under way or done; it can no longer be called off";
pub const NOT_YET_RATABLE: &str = "the claim can be rated once it is closed";
pub const VISIT_WITH_PARTNER_TRIP: &str = "this visit is planned together with the courier's \
     trip to a supplier or a repair workshop for your unit; we will tell you its time";
pub const NO_VISIT_TO_BOOK: &str = "this claim has no courier visit waiting for a time";
pub const VISIT_MOVING: &str = "the courier is already on his way; the visit can no longer move";
pub const SLOT_GONE: &str =
    "this slot can no longer be booked; `slots` lists the ones that can be now";
pub const SLOT_DAYS: &str = "must be between 1 and 7";
pub const SLOT_ORDER: &str = "must be after `start`";

/// The history note a customer reads when she booked a slot for a visit.
pub fn visit_rebooked(
    start: chrono::DateTime<chrono::Utc>,
    end: chrono::DateTime<chrono::Utc>,
) -> String {
    format!(
        "visit moved to {} between {} and {} UTC",
        start.format("%Y-%m-%d"),
        start.format("%H:%M"),
        end.format("%H:%M")
    )
}
pub const ALREADY_RATED: &str = "this claim was already rated; thank you";

/// The history note of an approval outside the warranty.
pub fn override_note(warranty_status: &str, reason: &str) -> String {
    format!("approved despite the warranty check `{warranty_status}`: {reason}")
}

/// The history note when a job's last visit failed.
pub fn visits_exhausted_note(attempts: i32, reasons: &[String]) -> String {
    format!(
        "{attempts} visits failed ({}); the claim is back for a decision",
        reasons.join("; ")
    )
}

pub fn not_in_repair(status: domain::claim::ClaimStatus) -> String {
    format!("the claim is `{status}`, not `in_repair`: there is no repair to finish")
}

pub fn repair_done_note(note: Option<&str>) -> String {
    match note {
        Some(note) => format!("repair finished: {note}"),
        None => "repair finished".to_owned(),
    }
}

pub fn received_note(note: Option<&str>) -> String {
    match note {
        Some(note) => format!("unit received at the depot: {note}"),
        None => "unit received at the depot".to_owned(),
    }
}

pub fn cannot_withdraw(status: domain::claim::ClaimStatus) -> String {
    format!("a claim in `{status}` can no longer be withdrawn")
}

pub fn job_not_cancellable(status: domain::job::JobStatus) -> String {
    format!("the job is `{status}` and can no longer be cancelled")
}

pub fn job_cancelled_note(job_id: i64, kind: &str, reason: &str) -> String {
    format!("{kind} job {job_id} cancelled: {reason}")
}

/// A head's reassignment; `requested` away, his substitute `to` took it.
pub fn reassigned_note(
    requested: crate::db::types::UserId,
    to: crate::db::types::UserId,
) -> String {
    if requested == to {
        format!("assigned to manager {to}")
    } else {
        format!("assigned to manager {to} (substitute for {requested})")
    }
}

pub fn handed_over_note(from: crate::db::types::UserId, to: crate::db::types::UserId) -> String {
    format!("assigned to manager {to} while manager {from} is away")
}

pub fn escalated_note(
    stage: domain::claim::ClaimStatus,
    due: chrono::DateTime<chrono::Utc>,
) -> String {
    format!(
        "overdue: the `{stage}` stage was due {}; escalated to the head of department",
        due.format("%Y-%m-%d %H:%M UTC")
    )
}

pub fn feedback_note(rating: i32, comment: Option<&str>) -> String {
    match comment {
        Some(comment) => format!("the customer rated the service {rating}/5: {comment}"),
        None => format!("the customer rated the service {rating}/5"),
    }
}

// --- Webhooks ----------------------------------------------------------------------------

pub const WEBHOOK_URL: &str = "must be an http or https URL";
pub const NO_EVENTS: &str = "name at least one event, or `*` for all";

pub fn unknown_event(known: &[&str]) -> String {
    format!("must be `*` or one of: {}", known.join(", "))
}
