//! Black-box tests: the real server on a random port, over HTTP, on a fresh SQLite file and
//! (when `TEST_POSTGRES_URL` is set) a fresh PostgreSQL database per test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;

mod auth;
mod auto;
mod browser;
mod claims;
mod console;
mod contractor;
mod courier;
mod documents;
mod fleet;
mod hardening;
mod live;
mod metrics;
mod migrations;
mod notifications;
mod objectives;
mod openapi;
mod partners;
mod plans;
mod registry;
mod remedies;
mod reports;
mod roads;
mod security;
mod sinks;
mod slots;
mod supplier;
