-- File bodies are compressed with LZ4 again (storage extended): Shift_JIS CSV shrinks several times over, so a
-- set's bytes take a few TOAST chunks (with their index entries and WAL) instead of one per 2 KB, for less CPU
-- than the chunks cost. Rows written before keep their storage.
alter table files alter column body set storage extended;
alter table files alter column body set compression lz4;
