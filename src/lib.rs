//! careplan-relay: carries the care-plan files of ケアプランデータ連携標準仕様 between care offices.
//!
//! The modules read as a tour, from the pure core (the standard, the bytes, the judgement) to the edges.

// ── pure core: no I/O, no server, no database ─────────────────────────────────────────────────────
/// A strict, quote-aware CSV record reader over bytes.
pub mod csvread;
/// Generators of valid and broken files (fixtures, property tests, benchmarks); with the `tools` feature only.
#[cfg(feature = "tools")]
pub mod generate;
/// Spec file names: kind, month, sender, recipient, sequence, image branch.
pub mod name;
/// Every record of a set as typed UTF-8 JSON keyed by the spec's English item names.
pub mod records;
/// Strict Shift_JIS (MS932) checking of one item; 外字 refused.
pub mod sjis;
/// The standard as data: kinds, layouts of both generations, code tables, send units, key links.
pub mod spec;
/// Value formats: calendar months, dates, times on ASCII digits.
pub mod text;
/// Validation of files and sets; the report (the relay's 422 body, `validate --json`).
pub mod validate;

/// Vocabulary shared by the layers: offices, principals, statuses, times.
pub mod domain;
/// Messages to clients in Japanese and English; client text clipped before it is quoted.
pub mod message;

// ── edges ─────────────────────────────────────────────────────────────────────────────────────────
/// The folder agent (`client sync`): outbox and inbox folders kept in step with the relay, resumable.
pub mod agent;
/// The composition root: settings → store → relay → router → listener.
pub mod app;
/// The command line: `serve`, `validate`, `office`, `token`, `cert`, `client`.
pub mod cli;
/// The reference client (also used by the tests and the load generator).
pub mod client;
/// Settings from defaults, a TOML file and the environment; secrets redacted in Debug.
pub mod config;
/// Files private to the service: the data directory 0700, the database and keys 0600.
pub mod files;
/// The HTTP API: router, authentication, the one error-to-status mapping, handlers per resource.
pub mod http;
/// The plain-HTTP listener for `GET /metrics` only (loopback by default), without the admin token.
pub mod metrics_listener;
/// The use cases: submit, inbox, outbox, receipts, offices and credentials.
pub mod relay;
/// The HTTPS accept loop: TLS (reloaded on SIGHUP or a file change), client certificates, timeouts, graceful
/// drain.
pub mod server;
/// The database (SQLite or PostgreSQL): the only module that names sqlx.
pub mod store;
/// Logging setup (text or JSON).
pub mod telemetry;
/// TLS: rustls configuration, the development PKI, office client certificates.
pub mod tls;
