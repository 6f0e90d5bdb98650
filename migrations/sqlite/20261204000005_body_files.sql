-- Where a file's bytes are when they are not in `body`: a segment file of the SQLite store (`<database>.bodies/`,
-- see store/body_files.rs), its number and the byte offset; the length is `size`. Both null when `body` holds the
-- bytes (always on PostgreSQL, and for rows written before this migration).
alter table files add column segment integer;
alter table files add column body_offset integer;
