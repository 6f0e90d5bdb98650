-- File bodies are stored out of line but not compressed: Shift_JIS CSV compresses a little, and pglz on every
-- accepted set cost more CPU than the disk it saved. Rows written before keep their storage.
alter table files alter column body set storage external;
