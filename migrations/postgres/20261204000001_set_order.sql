-- The order of sets (PostgreSQL).
--
-- Arrival: each delivery gets `arrival`, the next number of its recipient's counter (`inbox_arrivals`), taken in
-- the transaction that stores it. The inbox lists by arrival and its cursor is an arrival number, so a set that is
-- accepted later always comes after every cursor handed out before, whatever its sequence. A sequence (bigserial)
-- would not do: two transactions can commit their ids out of order. The counter row is updated first in the
-- transaction and stays locked until its commit, so the transactions storing sets for one recipient commit one
-- after another in the order of their numbers, and a reader that sees number n sees every number below it.
--
-- Stream: the sets within which sequences must rise are those of one sender to one recipient of one kind of set
-- (`stream`: the send unit with its deletion, e.g. `schedule` for 第6表+第7表+補足 and DLTPLAN). A set accepted
-- after a newer one of its stream records that newer one in `older_than_*`.

alter table deliveries add column arrival bigint not null default 0;
alter table deliveries add column stream text;
alter table deliveries add column older_than_sequence text;
alter table deliveries add column older_than_submission text;
alter table deliveries add column older_than_delivery text;

-- Deliveries stored before: numbered per recipient in the order they were stored.
update deliveries set arrival = r.n
from (select seq, row_number() over (partition by recipient order by seq) as n from deliveries) as r
where r.seq = deliveries.seq;

-- Their stream, from the kinds of their files (the same mapping as `spec::Unit::stream`).
update deliveries set stream = case
    when exists (select 1 from files f where f.submission_id = deliveries.submission_id
                 and f.kind in ('UPYOBO', 'DLTYOBO')) then 'prevention_plan'
    when exists (select 1 from files f where f.submission_id = deliveries.submission_id
                 and f.kind in ('UP1KYO', 'DLT1KYO')) then 'plan'
    when exists (select 1 from files f where f.submission_id = deliveries.submission_id
                 and f.kind in ('UPPLAN', 'DLTPLAN')) then 'schedule'
    when exists (select 1 from files f where f.submission_id = deliveries.submission_id
                 and f.kind in ('UPJSK', 'DLTJSK')) then 'actual'
    when exists (select 1 from files f where f.submission_id = deliveries.submission_id
                 and f.kind in ('UPKIHON', 'DLTKIHON')) then 'basic'
end;

-- The last arrival number given out per recipient.
create table inbox_arrivals (
    recipient text primary key,
    last bigint not null
);
insert into inbox_arrivals (recipient, last) select recipient, max(arrival) from deliveries group by recipient;

-- The inbox reads by arrival: every delivery (status=all) and the pending ones (a partial index, as before).
create unique index deliveries_arrival on deliveries (recipient, arrival);
create index deliveries_pending_arrival on deliveries (recipient, arrival) where status <> 'acknowledged';
drop index deliveries_pending;
-- The newest set of a stream, looked up when a set is accepted.
create index deliveries_stream on deliveries (recipient, sender, stream, sequence);
