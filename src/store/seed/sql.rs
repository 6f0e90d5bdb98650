//! The set-based SQL of the seed: one batch of deliveries is generated into the temporary table `seed_batch`
//! (`FILL_*`), then copied into submissions, files and deliveries in delivery order.

/// Fills `seed_batch` with deliveries `$1 .. $2` (SQLite). Parameters: `$3` offices, `$4` seed, `$5` first
/// backlog index, `$6` first pending index, `$7` Unix second of the sequence of delivery 0.
pub(super) const FILL_SQLITE: &str = "insert into seed_batch \
    with recursive n(i) as (select $1 union all select i + 1 from n where i + 1 < $2), \
    r as (select i, case when i >= $5 then 0 else (i * 2654435761 + $4) % $3 end as ro, $7 + i as t from n), \
    o as (select i, ro, t, 1 - ro % 2 as p from r) \
    select i, printf('%08x-5eed-4000-8000-%012x', $4, i), printf('%08x-5eed-4000-9000-%012x', $4, i), \
    '13' || printf('%08d', 2 * ((i + $4) % (($3 - p + 1) / 2)) + p), '13' || printf('%08d', ro), \
    strftime('%Y%m%d%H%M%S', t, 'unixepoch'), strftime('%Y%m', t, 'unixepoch'), \
    case when i < $6 then 'acknowledged' when i < $5 and i % 3 = 0 then 'downloaded' else 'queued' end, \
    (t + 60) * 1000, p from o";

/// The same for PostgreSQL.
pub(super) const FILL_POSTGRES: &str = "insert into seed_batch \
    select i, lpad(to_hex($4::bigint), 8, '0') || '-5eed-4000-8000-' || lpad(to_hex(i), 12, '0'), \
    lpad(to_hex($4::bigint), 8, '0') || '-5eed-4000-9000-' || lpad(to_hex(i), 12, '0'), \
    '13' || lpad((2 * ((i + $4) % (($3 - p + 1) / 2)) + p)::text, 8, '0'), '13' || lpad(ro::text, 8, '0'), \
    to_char(to_timestamp(t) at time zone 'UTC', 'YYYYMMDDHH24MISS'), \
    to_char(to_timestamp(t) at time zone 'UTC', 'YYYYMM'), \
    case when i < $6 then 'acknowledged' when i < $5 and i % 3 = 0 then 'downloaded' else 'queued' end, \
    (t + 60) * 1000, p from ( \
      select i, ro, t, 1 - ro % 2 as p from ( \
        select i, case when i >= $5 then 0 else (i * 2654435761 + $4) % $3 end as ro, $7 + i as t \
        from generate_series($1::bigint, $2::bigint - 1) as g(i)) a) b";

/// The file name of a `seed_batch` row (`to_cm` = 1: a provider's 実績 to a care manager).
macro_rules! name_sql {
    () => {
        "case when to_cm = 1 then 'UPJSK_' else 'DLTPLAN_' end || month || '_' || sender || \
         case when to_cm = 1 then '_11_' else '_43_' end || recipient || \
         case when to_cm = 1 then '_43_' else '_11_' end || sequence || '.CSV'"
    };
}

/// The submissions of a batch (both databases, like the two statements after it). `$1`/`$2`: the digests of the
/// UPJSK and DLTPLAN file.
pub(super) const INSERT_SUBMISSIONS: &str = concat!(
    "insert into submissions (id, sender, sender_type, recipient, recipient_type, sequence, month, names_key, \
     digest, response, accepted_at) select sid, sender, case when to_cm = 1 then '11' else '43' end, recipient, \
     case when to_cm = 1 then '43' else '11' end, sequence, month, ",
    name_sql!(),
    ", case when to_cm = 1 then $1 else $2 end, '{\"submission_id\":\"' || sid || '\",\"delivery_id\":\"' || did \
     || '\",\"sequence\":\"' || sequence || '\",\"sender\":\"' || sender || '\",\"recipient\":\"' || recipient \
     || '\",\"month\":\"' || month || '\",\"status\":\"queued\"}', received_at from seed_batch order by i"
);

/// The one file of each set: `$1`…`$12` are kind, CSV version, records, size, SHA-256 and bytes of the UPJSK
/// and the DLTPLAN file, pairwise.
pub(super) const INSERT_FILES: &str = concat!(
    "insert into files (submission_id, position, name, kind, csv_version, records, size, sha256, body) \
     select sid, 0, ",
    name_sql!(),
    ", case when to_cm = 1 then $1 else $2 end, case when to_cm = 1 then $3 else $4 end, \
     case when to_cm = 1 then $5 else $6 end, case when to_cm = 1 then $7 else $8 end, \
     case when to_cm = 1 then $9 else $10 end, case when to_cm = 1 then $11 else $12 end \
     from seed_batch order by i"
);

/// The deliveries of a batch: downloaded 10 minutes and acknowledged 15 minutes after arrival. Their arrival
/// numbers follow the batch order after `$1` (the highest number given before the load), so they rise per recipient.
pub(super) const INSERT_DELIVERIES: &str = "insert into deliveries (id, submission_id, recipient, sender, sender_type, \
    sequence, month, status, received_at, downloaded_at, acknowledged_at, arrival, stream) \
    select did, sid, recipient, sender, case when to_cm = 1 then '11' else '43' end, sequence, month, status, \
    received_at, case when status = 'queued' then null else received_at + 600000 end, \
    case when status = 'acknowledged' then received_at + 900000 end, i + 1 + $1, \
    case when to_cm = 1 then 'actual' else 'schedule' end from seed_batch order by i";

/// The highest arrival number given so far (0 in an empty database).
pub(super) const LAST_ARRIVAL: &str = "select coalesce(max(last), 0) from inbox_arrivals";

/// Each recipient's counter after a batch (`$1` as in [`INSERT_DELIVERIES`]).
pub(super) const UPDATE_ARRIVALS: &str = "insert into inbox_arrivals (recipient, last) \
    select recipient, max(i) + 1 + $1 from seed_batch group by recipient \
    on conflict (recipient) do update set last = case when excluded.last > inbox_arrivals.last \
    then excluded.last else inbox_arrivals.last end";

/// The batch being generated, one row per delivery (temporary: never part of the relay's schema).
pub(super) const CREATE_BATCH: &str = "create temp table if not exists seed_batch (i bigint primary key, sid text, \
    did text, sender text, recipient text, sequence text, month text, status text, received_at bigint, \
    to_cm integer)";

/// Offices `0 .. $1`, created at `$2` (SQLite); existing numbers are kept.
pub(super) const INSERT_OFFICES_SQLITE: &str = "insert into offices (number, name, kind, service_types, created_at, \
    updated_at) with recursive n(k) as (select 0 union all select k + 1 from n where k + 1 < $1) \
    select '13' || printf('%08d', k), 'seed office ' || k, \
    case when k % 2 = 0 then 'care_manager' else 'provider' end, case when k % 2 = 0 then '43' else '11' end, \
    $2, $2 from n where true on conflict (number) do nothing";

/// The same for PostgreSQL.
pub(super) const INSERT_OFFICES_POSTGRES: &str = "insert into offices (number, name, kind, service_types, created_at, \
    updated_at) select '13' || lpad(k::text, 8, '0'), 'seed office ' || k, \
    case when k % 2 = 0 then 'care_manager' else 'provider' end, case when k % 2 = 0 then '43' else '11' end, \
    $2, $2 from generate_series(0, $1::bigint - 1) as g(k) on conflict (number) do nothing";
