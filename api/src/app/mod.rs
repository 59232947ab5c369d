//! The application layer: one module per workflow, each the only place where its rules
//! (from `domain`) meet the database (`db`). Handlers in `routes` extract and validate a
//! request, call one function here (inside one transaction, `AppState::write`), and map
//! the answer to HTTP; the workers and the seeding commands call the same functions.
//!
//! | module | owns |
//! |---|---|
//! | [`claims`] | filing, review stages, decisions and their jobs, comments, reassignment, the claim following its jobs; the only writer of claim history and claim events |
//! | [`visits`] | the courier's route view, reports about visits, proof photos, positions |
//! | [`plans`] | plan runs, routes, dispatchers' edits, publication, re-optimisation |
//! | [`accounts`] | users, duty (absence, substitutes), couriers' records |
//! | [`fleet`] | depots and shifts |
//! | [`partners`] | workshops and suppliers a courier may be sent to, with their hours and the product categories they take |
//! | [`registry`] | products, sales (one or a CSV file), customers, warranty lookups |
//! | [`reports`] | the department's reports: claims by period, stage and manager |
//! | [`slots`] | the slots a customer can book for her visit from her tracking link, and booking one |
//! | [`sessions`] | sign-in, refresh-token rotation, sign-out |
//! | [`attachments`] | uploads and downloads of files on claims and jobs |
//! | [`idempotency`] | the one `Idempotency-Key` mechanism |
//! | [`notifications`] | who hears of which event, in which language: mails and webhook calls fanned out from the outbox |
//! | [`webhooks`] | webhook subscriptions and their deliveries |

pub mod accounts;
pub mod attachments;
pub mod claims;
pub mod documents;
pub mod fleet;
pub mod idempotency;
pub mod notifications;
pub mod partners;
pub mod plans;
pub mod registry;
pub mod reports;
pub mod sessions;
pub mod slots;
pub mod visits;
pub mod webhooks;
