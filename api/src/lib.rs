//! The claimroute server: warranty claims from filing to the courier at the door.
//!
//! `routes` (HTTP, thin) call `app` (one module per workflow, where the rules of `domain`
//! meet the database), which calls `db` (all SQL). `workers` run background work claimed
//! through the database; `pages` serve the console, the tracking page and the API docs;
//! `seed` makes demo and load-test data through `app`; `simulate` runs a day of it
//! on a virtual clock.

pub mod app;
pub mod auth;
pub mod charts;
pub mod clock;
pub mod config;
pub mod db;
pub mod documents;
pub mod error;
pub mod extract;
pub mod messages;
pub mod metrics;
pub mod openapi;
pub mod pages;
pub mod routes;
pub mod seed;
pub mod simulate;
pub mod startup;
pub mod state;
pub mod storage;
pub mod telemetry;
pub mod templates;
pub mod workers;
