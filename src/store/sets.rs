//! Writing accepted sets in one transaction: the retry check, the recipients' arrival numbers, the order within
//! each stream, then one multi-row statement per table (`insert_sets!`, used by the PostgreSQL path of
//! `Store::insert_submission` and by SQLite's group commit).

/// Inserts the sets `$subs: &mut [&mut NewSubmission]` (taking their files' bytes) with their submissions,
/// files, deliveries and events on the connection of an open transaction, with one multi-row statement per table,
/// and evaluates to each set's [`SetOutcome`] by submission id. In order: a set whose sender and names exist
/// already (a retry) is a `Conflict`; each recipient's counter row takes its numbers (on PostgreSQL this locks it
/// until the commit); each set is compared with the newest set of its stream (stored, or earlier in the batch) and
/// refused as `Older` when it asks so; the rest are stored.
macro_rules! insert_sets {
    ($conn:expr, $subs:expr) => {{
        use $crate::store::submissions::{SetOutcome, Stored, Newer, newer};
        let subs: &mut [&mut $crate::store::NewSubmission] = $subs;
        let bodies: Vec<Vec<Vec<u8>>> = subs
            .iter_mut()
            .map(|s| s.files.iter_mut().map(|f| std::mem::take(&mut f.body)).collect())
            .collect();
        let subs: Vec<&$crate::store::NewSubmission> = subs.iter().map(|s| &**s).collect();
        let mut outcomes: std::collections::HashMap<String, SetOutcome> = std::collections::HashMap::new();
        // Retries: stored before, or twice in this batch.
        let mut names: std::collections::HashSet<(&str, &str)> = std::collections::HashSet::new();
        for s in &subs {
            let stored: Option<(String,)> =
                sqlx::query_as("select id from submissions where sender = $1 and names_key = $2")
                    .bind(&s.sender)
                    .bind(&s.names_key)
                    .fetch_optional(&mut *$conn)
                    .await?;
            if stored.is_some() || !names.insert((s.sender.as_str(), s.names_key.as_str())) {
                outcomes.insert(s.id.clone(), SetOutcome::Conflict);
            }
        }
        // Arrival numbers, per recipient in a fixed order (one upsert each).
        let mut wanted: std::collections::BTreeMap<&str, i64> = std::collections::BTreeMap::new();
        for s in subs.iter().filter(|s| !outcomes.contains_key(&s.id)) {
            *wanted.entry(s.recipient.as_str()).or_default() += 1;
        }
        let mut next_arrival: std::collections::HashMap<&str, i64> = std::collections::HashMap::new();
        for (recipient, count) in wanted {
            let (last,): (i64,) = sqlx::query_as(
                "insert into inbox_arrivals (recipient, last) values ($1, $2) on conflict (recipient) \
                 do update set last = inbox_arrivals.last + $2 returning last",
            )
            .bind(recipient)
            .bind(count)
            .fetch_one(&mut *$conn)
            .await?;
            next_arrival.insert(recipient, last - count + 1);
        }
        // The order within each stream.
        let mut newest: std::collections::HashMap<(&str, &str, &str), Newer> = std::collections::HashMap::new();
        let mut kept: Vec<(&$crate::store::NewSubmission, Stored)> = Vec::new();
        let open: Vec<&$crate::store::NewSubmission> =
            subs.iter().copied().filter(|s| !outcomes.contains_key(&s.id)).collect();
        for s in open {
            let arrival = next_arrival.get(s.recipient.as_str()).copied().unwrap_or(1);
            next_arrival.insert(s.recipient.as_str(), arrival + 1);
            let mut older_than = None;
            if let Some(stream) = s.stream.as_deref() {
                let row: Option<(String, String, String)> = sqlx::query_as(
                    "select sequence, submission_id, id from deliveries where recipient = $1 and sender = $2 \
                     and stream = $3 and sequence > $4 order by sequence desc, arrival desc limit 1",
                )
                .bind(&s.recipient)
                .bind(&s.sender)
                .bind(stream)
                .bind(&s.sequence)
                .fetch_optional(&mut *$conn)
                .await?;
                older_than = row.and_then(|(q, sub, d)| newer(Some(q), Some(sub), Some(d)));
                let key = (s.recipient.as_str(), s.sender.as_str(), stream);
                if let Some(n) = newest.get(&key) {
                    if n.sequence > s.sequence && older_than.as_ref().is_none_or(|o| n.sequence > o.sequence) {
                        older_than = Some(n.clone());
                    }
                }
                if let Some(n) = older_than.clone().filter(|_| s.refuse_older) {
                    outcomes.insert(s.id.clone(), SetOutcome::Older(n));
                    continue;
                }
                if newest.get(&key).is_none_or(|n| s.sequence > n.sequence) {
                    let n = Newer {
                        sequence: s.sequence.clone(),
                        submission_id: s.id.clone(),
                        delivery_id: s.delivery_id.clone(),
                    };
                    newest.insert(key, n);
                }
            }
            kept.push((s, Stored { arrival, older_than }));
        }
        // Bound parameters per statement stay well under SQLite's limit (32,766).
        let mut inserted: std::collections::HashSet<String> = std::collections::HashSet::new();
        for chunk in kept.chunks(500) {
            let mut q = sqlx::QueryBuilder::new(
                "insert into submissions (id, sender, sender_type, recipient, recipient_type, sequence, month, \
                 names_key, digest, response, accepted_at) ",
            );
            q.push_values(chunk, |mut row, (s, _)| {
                row.push_bind(&s.id)
                    .push_bind(&s.sender)
                    .push_bind(&s.sender_type)
                    .push_bind(&s.recipient)
                    .push_bind(&s.recipient_type)
                    .push_bind(&s.sequence)
                    .push_bind(&s.month)
                    .push_bind(&s.names_key)
                    .push_bind(&s.digest)
                    .push_bind(&s.response)
                    .push_bind(s.accepted_at);
            });
            q.push(" on conflict do nothing returning id");
            let ids: Vec<(String,)> = q.build_query_as().fetch_all(&mut *$conn).await?;
            inserted.extend(ids.into_iter().map(|(id,)| id));
        }
        // A retry committed by another node between the check above and this insert.
        let new: Vec<(&$crate::store::NewSubmission, Stored)> = kept
            .into_iter()
            .filter(|(s, _)| {
                let stored = inserted.contains(&s.id);
                if !stored {
                    outcomes.insert(s.id.clone(), SetOutcome::Conflict);
                }
                stored
            })
            .collect();
        // (submission id, position, file, its bytes): the bytes are moved into the statement, not copied.
        let mut files: Vec<(&str, i32, &$crate::store::NewFile, Vec<u8>)> = Vec::new();
        for (s, bodies) in subs.iter().zip(bodies) {
            if inserted.contains(&s.id) {
                for (i, (f, body)) in s.files.iter().zip(bodies).enumerate() {
                    files.push((s.id.as_str(), i as i32, f, body));
                }
            }
        }
        // A statement carries at most ~8 MiB of bytes (or one larger file), so the bound copies that SQLite
        // makes while it runs stay small even when a batch holds many large sets.
        let mut files = files.into_iter().peekable();
        while files.peek().is_some() {
            let (mut chunk, mut size) = (Vec::new(), 0usize);
            while let Some(file) = files.next_if(|f| chunk.is_empty() || (chunk.len() < 1_000 && size + f.3.len() <= 8 << 20)) {
                size += file.3.len();
                chunk.push(file);
            }
            let mut q = sqlx::QueryBuilder::new(
                "insert into files (submission_id, position, name, kind, csv_version, records, size, sha256, body) ",
            );
            q.push_values(chunk, |mut row, (id, i, f, body)| {
                row.push_bind(id)
                    .push_bind(i)
                    .push_bind(&f.name)
                    .push_bind(&f.kind)
                    .push_bind(&f.csv_version)
                    .push_bind(f.records)
                    .push_bind(body.len() as i64)
                    .push_bind(&f.sha256)
                    .push_bind(body);
            });
            q.build().execute(&mut *$conn).await?;
        }
        for chunk in new.chunks(1_000) {
            let mut q = sqlx::QueryBuilder::new(
                "insert into deliveries (id, submission_id, recipient, sender, sender_type, sequence, month, \
                 status, received_at, arrival, stream, older_than_sequence, older_than_submission, \
                 older_than_delivery) ",
            );
            q.push_values(chunk, |mut row, (s, stored)| {
                let older = stored.older_than.as_ref();
                row.push_bind(&s.delivery_id)
                    .push_bind(&s.id)
                    .push_bind(&s.recipient)
                    .push_bind(&s.sender)
                    .push_bind(&s.sender_type)
                    .push_bind(&s.sequence)
                    .push_bind(&s.month)
                    .push_bind("queued")
                    .push_bind(s.accepted_at)
                    .push_bind(stored.arrival)
                    .push_bind(&s.stream)
                    .push_bind(older.map(|n| n.sequence.as_str()))
                    .push_bind(older.map(|n| n.submission_id.as_str()))
                    .push_bind(older.map(|n| n.delivery_id.as_str()));
            });
            q.build().execute(&mut *$conn).await?;
        }
        let events: Vec<(i64, &$crate::store::NewEvent)> =
            new.iter().flat_map(|(s, _)| s.events.iter().map(|e| (s.accepted_at, e))).collect();
        for chunk in events.chunks(1_000) {
            append_events!($conn, chunk.iter().copied());
        }
        for (s, stored) in new {
            outcomes.insert(s.id.clone(), SetOutcome::Stored(stored));
        }
        outcomes
    }};
}
pub(crate) use insert_sets;
