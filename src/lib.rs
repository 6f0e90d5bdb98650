//! careplan-relay: carries the care-plan files of ケアプランデータ連携標準仕様 between care offices.
//!
//! The modules read as a tour, from the pure core (the standard, the bytes, the judgement) to the edges.

// ── pure core: no I/O, no server, no database ─────────────────────────────────────────────────────
/// A strict, quote-aware CSV record reader over bytes.
pub mod csvread;
/// Generators of valid and broken files (fixtures, property tests, benchmarks).
pub mod generate;
/// Spec file names: kind, month, sender, recipient, sequence, image branch.
pub mod name;
/// Strict Shift_JIS (MS932) checking of one item; 外字 refused.
pub mod sjis;
/// The standard as data: kinds, layouts of both generations, code tables, send units, key links.
pub mod spec;
/// Value formats: calendar months, dates, times on ASCII digits.
pub mod text;
/// Validation of files and sets; the report of API.md.
pub mod validate;

/// Vocabulary shared by the layers: offices, principals, statuses, times.
pub mod domain;

// ── edges ─────────────────────────────────────────────────────────────────────────────────────────
/// The command line: `serve`, `validate`, `office`, `token`, `cert`, `client`.
pub mod cli;
/// Settings from defaults, a TOML file and the environment; secrets redacted in Debug.
pub mod config;
/// The database (SQLite or PostgreSQL): the only module that names sqlx.
pub mod store;
