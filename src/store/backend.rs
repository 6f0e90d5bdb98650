//! The writes that run the same statements on both backends, written once: appending events, one statement
//! with its event ([`Change`]) and storing accepted sets.
//!
//! They are the provided functions of [`Backend`], a trait of the two connection types (SQLite's, PostgreSQL's)
//! whose where-clauses bundle what the statements need of a backend: the connection as an executor, and the Rust
//! types they bind and read. Rust does not carry a trait's where-clauses to the functions that name the trait, so
//! these writes live in the trait itself, where the clauses hold; they are called with method syntax on a
//! connection (`conn.append_events(…)`), which also lets one body of `write_tx!` serve both backends.

use std::collections::{HashMap, HashSet};

use sqlx::{
    Connection, Database, Encode, Executor, FromRow, IntoArguments, PgConnection, QueryBuilder,
    SqliteConnection, Type,
};

use super::body_files::Body;
use super::change::{Change, Param, RowsAffected};
use super::sets::{FileRow, StreamOrder, arrivals_wanted, file_chunks};
use super::submissions::SetOutcome;
use super::{NewEvent, NewSubmission, Newer, Result, StoreError, Stored};

/// The database of a connection.
type Db<C> = <C as Connection>::Database;
/// A row of a connection's database.
type DbRow<C> = <Db<C> as Database>::Row;

/// One row of [`Backend::newest_of_streams`]: the position of its stream in the statement, and the set.
#[derive(sqlx::FromRow)]
pub(super) struct StreamNewest {
    n: i64,
    #[sqlx(flatten)]
    newer: Newer,
}

/// A connection of one of the store's backends, in an open write transaction (see the module's documentation).
pub(super) trait Backend: Connection
where
    for<'c> &'c mut Self: Executor<'c, Database = Db<Self>>,
    <Db<Self> as Database>::Arguments: IntoArguments<Db<Self>>,
    for<'q> &'q str: Encode<'q, Db<Self>> + Type<Db<Self>>,
    for<'q> Option<&'q str>: Encode<'q, Db<Self>> + Type<Db<Self>>,
    for<'q> String: Encode<'q, Db<Self>> + Type<Db<Self>>,
    for<'q> i64: Encode<'q, Db<Self>> + Type<Db<Self>>,
    for<'q> Option<i64>: Encode<'q, Db<Self>> + Type<Db<Self>>,
    for<'q> i32: Encode<'q, Db<Self>> + Type<Db<Self>>,
    for<'q> bool: Encode<'q, Db<Self>> + Type<Db<Self>>,
    for<'q> Vec<u8>: Encode<'q, Db<Self>> + Type<Db<Self>>,
    for<'r> (i64,): FromRow<'r, DbRow<Self>>,
    for<'r> (String,): FromRow<'r, DbRow<Self>>,
    for<'r> Newer: FromRow<'r, DbRow<Self>>,
    for<'r> StreamNewest: FromRow<'r, DbRow<Self>>,
    for<'r> (String, String): FromRow<'r, DbRow<Self>>,
    Db<Self>: RowsAffected,
{
    /// Inserts `events` (each with its time, Unix ms) and queues each for sealing into the audit chain: two
    /// statements, however many events (callers keep a batch under SQLite's limit of bound parameters).
    async fn append_events(&mut self, events: &[(i64, &NewEvent)]) -> Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        let mut q =
            QueryBuilder::new("insert into events (at, kind, office, submission_id, request_id, detail) ");
        q.push_values(events, |mut row, (at, e)| {
            row.push_bind(*at)
                .push_bind(e.kind)
                .push_bind(e.office.as_deref())
                .push_bind(e.submission_id.as_deref())
                .push_bind(e.request_id.as_deref())
                .push_bind(e.detail.to_string());
        });
        q.push(" returning seq");
        let seqs: Vec<(i64,)> = q.build_query_as().fetch_all(&mut *self).await?;
        let mut q = QueryBuilder::new("insert into audit_pending (event_seq) ");
        q.push_values(&seqs, |mut row, s| {
            row.push_bind(s.0);
        });
        q.build().execute(&mut *self).await?;
        Ok(())
    }

    /// Runs `change`'s statement and appends `event` (at `at`, Unix ms). `NotFound`, with nothing written, when
    /// the change must touch a row and touched none; `Conflict`, with nothing written, when it breaks a unique
    /// key (on SQLite the failed statement leaves the transaction open, so the group commit goes on).
    async fn apply_change(&mut self, change: &Change, at: i64, event: &NewEvent) -> Result<()> {
        let mut q = sqlx::query(change.sql);
        for p in &change.params {
            q = match p {
                Param::Text(v) => q.bind(v.as_deref()),
                Param::Int(v) => q.bind(*v),
                Param::Bool(v) => q.bind(*v),
            };
        }
        let done = q.execute(&mut *self).await?;
        if change.or_not_found && Db::<Self>::rows_affected(&done) == 0 {
            return Err(StoreError::NotFound);
        }
        self.append_events(&[(at, event)]).await
    }

    /// The newest stored set of each stream (recipient, sender, kind of set) of `subs`, by highest sequence and
    /// then latest arrival: one statement for up to 100 streams (a `union all` of index look-ups).
    async fn newest_of_streams<'s>(
        &mut self,
        subs: &[&'s NewSubmission],
    ) -> Result<HashMap<(&'s str, &'s str, &'s str), Newer>> {
        let mut streams: Vec<(&str, &str, &str)> = subs
            .iter()
            .filter_map(|s| Some((s.recipient.as_str(), s.sender.as_str(), s.stream.as_deref()?)))
            .collect();
        streams.sort_unstable();
        streams.dedup();
        let mut newest = HashMap::new();
        for chunk in streams.chunks(100) {
            let mut q = QueryBuilder::new("");
            for (i, (recipient, sender, stream)) in chunk.iter().enumerate() {
                if i > 0 {
                    q.push(" union all ");
                }
                q.push(format_args!("select * from (select cast({i} as bigint) as n, "))
                    .push("sequence, submission_id, id as delivery_id from deliveries where recipient = ")
                    .push_bind(*recipient)
                    .push(" and sender = ")
                    .push_bind(*sender)
                    .push(" and stream = ")
                    .push_bind(*stream)
                    .push(format_args!(
                        " order by sequence desc, arrival desc limit 1) as s{i}"
                    ));
            }
            let rows: Vec<StreamNewest> = q.build_query_as().fetch_all(&mut *self).await?;
            for row in rows {
                if let Some(key) = usize::try_from(row.n).ok().and_then(|n| chunk.get(n)) {
                    newest.insert(*key, row.newer);
                }
            }
        }
        Ok(newest)
    }

    /// Inserts the sets `subs` (taking their files' bytes) with their submissions, files, deliveries and events,
    /// with one multi-row statement per table, and returns each set's [`SetOutcome`] by submission id. In order: a
    /// set whose sender and names exist already (a retry) is a `Conflict`; each recipient's counter row takes its
    /// numbers (on PostgreSQL this locks it until the commit); each set is compared with the newest set of its
    /// stream (stored, or earlier in the batch) and refused as `Older` when it asks so; the rest are stored.
    ///
    /// `bodies` are the sets' files' bytes, per set and per file, as [`take_bodies`] (in the rows) or
    /// [`place_bodies`] (in segment files) took them out of `subs`.
    ///
    /// [`take_bodies`]: super::sets::take_bodies
    /// [`place_bodies`]: super::sets::place_bodies
    async fn insert_sets(
        &mut self,
        subs: &[&mut NewSubmission],
        bodies: Vec<Vec<Body>>,
    ) -> Result<HashMap<String, SetOutcome>> {
        let subs: Vec<&NewSubmission> = subs.iter().map(|s| &**s).collect();
        let mut outcomes: HashMap<String, SetOutcome> = HashMap::new();
        // Retries: stored before (one statement for the whole batch), or twice in this batch.
        let mut stored: Vec<(String, String)> = Vec::new();
        for chunk in subs.chunks(250) {
            let mut q = QueryBuilder::new("select sender, names_key from submissions where ");
            let mut terms = q.separated(" or ");
            for s in chunk {
                terms
                    .push("(sender = ")
                    .push_bind_unseparated(s.sender.as_str())
                    .push_unseparated(" and names_key = ")
                    .push_bind_unseparated(s.names_key.as_str())
                    .push_unseparated(")");
            }
            let rows: Vec<(String, String)> = q.build_query_as().fetch_all(&mut *self).await?;
            stored.extend(rows);
        }
        let stored: HashSet<(&str, &str)> = stored.iter().map(|(s, n)| (s.as_str(), n.as_str())).collect();
        let mut names: HashSet<(&str, &str)> = HashSet::new();
        for s in &subs {
            let key = (s.sender.as_str(), s.names_key.as_str());
            if stored.contains(&key) || !names.insert(key) {
                outcomes.insert(s.id.clone(), SetOutcome::Conflict);
            }
        }
        // Arrival numbers, per recipient in a fixed order (one upsert each).
        let mut next_arrival: HashMap<&str, i64> = HashMap::new();
        for (recipient, count) in arrivals_wanted(&subs, &outcomes) {
            let (last,): (i64,) = sqlx::query_as(
                "insert into inbox_arrivals (recipient, last) values ($1, $2) on conflict (recipient) \
                 do update set last = inbox_arrivals.last + $2 returning last",
            )
            .bind(recipient)
            .bind(count)
            .fetch_one(&mut *self)
            .await?;
            next_arrival.insert(recipient, last - count + 1);
        }
        // The order within each stream.
        let mut order = StreamOrder::default();
        let mut kept: Vec<(&NewSubmission, Stored)> = Vec::new();
        let open: Vec<&NewSubmission> = subs
            .iter()
            .copied()
            .filter(|s| !outcomes.contains_key(&s.id))
            .collect();
        let newest = self.newest_of_streams(&open).await?;
        for s in open {
            let arrival = next_arrival.get(s.recipient.as_str()).copied().unwrap_or(1);
            next_arrival.insert(s.recipient.as_str(), arrival + 1);
            let stored_newer = s.stream.as_deref().and_then(|stream| {
                newest
                    .get(&(s.recipient.as_str(), s.sender.as_str(), stream))
                    .filter(|n| n.sequence > s.sequence)
                    .cloned()
            });
            match order.judge(s, stored_newer) {
                Ok(older_than) => kept.push((s, Stored { arrival, older_than })),
                Err(newer) => {
                    outcomes.insert(s.id.clone(), SetOutcome::Older(newer));
                }
            }
        }
        // Bound parameters per statement stay well under SQLite's limit (32,766).
        let mut inserted: HashSet<String> = HashSet::new();
        for chunk in kept.chunks(500) {
            let mut q = QueryBuilder::new(
                "insert into submissions (id, sender, sender_type, recipient, recipient_type, sequence, month, \
                 names_key, digest, response, accepted_at) ",
            );
            q.push_values(chunk, |mut row, (s, _)| {
                row.push_bind(s.id.as_str())
                    .push_bind(s.sender.as_str())
                    .push_bind(s.sender_type.as_deref())
                    .push_bind(s.recipient.as_str())
                    .push_bind(s.recipient_type.as_deref())
                    .push_bind(s.sequence.as_str())
                    .push_bind(s.month.as_deref())
                    .push_bind(s.names_key.as_str())
                    .push_bind(s.digest.as_str())
                    .push_bind(s.response.as_str())
                    .push_bind(s.accepted_at);
            });
            q.push(" on conflict do nothing returning id");
            let ids: Vec<(String,)> = q.build_query_as().fetch_all(&mut *self).await?;
            inserted.extend(ids.into_iter().map(|(id,)| id));
        }
        // A retry committed by another node between the check above and this insert.
        let (new, late): (Vec<_>, Vec<_>) = kept.into_iter().partition(|(s, _)| inserted.contains(&s.id));
        for (s, _) in late {
            outcomes.insert(s.id.clone(), SetOutcome::Conflict);
        }
        for chunk in file_chunks(&subs, bodies, &inserted) {
            let mut q = QueryBuilder::new(
                "insert into files (submission_id, position, name, kind, csv_version, records, size, sha256, body, \
                 segment, body_offset) ",
            );
            q.push_values(
                chunk,
                |mut row,
                 FileRow {
                     submission_id,
                     position,
                     file,
                     body,
                 }| {
                    let size = body.size();
                    let (bytes, at) = match body {
                        Body::Inline(bytes) => (bytes, None),
                        Body::At(at) => (Vec::new(), Some(at)),
                    };
                    row.push_bind(submission_id)
                        .push_bind(position)
                        .push_bind(file.name.as_str())
                        .push_bind(file.kind.as_str())
                        .push_bind(file.csv_version.as_deref())
                        .push_bind(file.records)
                        .push_bind(size)
                        .push_bind(file.sha256.as_str())
                        .push_bind(bytes)
                        .push_bind(at.map(|a| a.segment))
                        .push_bind(at.map(|a| a.offset));
                },
            );
            q.build().execute(&mut *self).await?;
        }
        for chunk in new.chunks(1_000) {
            let mut q = QueryBuilder::new(
                "insert into deliveries (id, submission_id, recipient, sender, sender_type, sequence, month, \
                 status, received_at, arrival, stream, older_than_sequence, older_than_submission, \
                 older_than_delivery) ",
            );
            q.push_values(chunk, |mut row, (s, stored)| {
                let older = stored.older_than.as_ref();
                row.push_bind(s.delivery_id.as_str())
                    .push_bind(s.id.as_str())
                    .push_bind(s.recipient.as_str())
                    .push_bind(s.sender.as_str())
                    .push_bind(s.sender_type.as_deref())
                    .push_bind(s.sequence.as_str())
                    .push_bind(s.month.as_deref())
                    .push_bind("queued")
                    .push_bind(s.accepted_at)
                    .push_bind(stored.arrival)
                    .push_bind(s.stream.as_deref())
                    .push_bind(older.map(|n| n.sequence.as_str()))
                    .push_bind(older.map(|n| n.submission_id.as_str()))
                    .push_bind(older.map(|n| n.delivery_id.as_str()));
            });
            q.build().execute(&mut *self).await?;
        }
        let events: Vec<(i64, &NewEvent)> = new
            .iter()
            .flat_map(|(s, _)| s.events.iter().map(|e| (s.accepted_at, e)))
            .collect();
        for chunk in events.chunks(1_000) {
            self.append_events(chunk).await?;
        }
        for (s, stored) in new {
            outcomes.insert(s.id.clone(), SetOutcome::Stored(stored));
        }
        Ok(outcomes)
    }
}

impl Backend for SqliteConnection {}
impl Backend for PgConnection {}
