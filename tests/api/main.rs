//! The relay over HTTPS, on SQLite and on PostgreSQL: one test binary, a module per concern.
#![allow(clippy::expect_used, clippy::unwrap_used, unreachable_pub)] // tests panic on failure
#![allow(clippy::disallowed_methods)] // hostile requests are built and answers read as text; no report is made here

#[path = "../support/mod.rs"]
mod support;

mod admin;
mod auth;
mod backup;
mod catalogue;
mod certificates;
mod client_cli;
mod connections;
mod contract;
mod errors;
mod hardening;
mod helpers;
mod hostile;
mod journey;
mod listeners;
mod lockout;
mod nodes;
mod order;
mod portal;
mod raw;
mod records;
mod renewal;
mod sessions;
mod upload;
