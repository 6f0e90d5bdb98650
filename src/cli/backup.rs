//! `backup --out FILE` (a consistent copy of the live SQLite store, safe while `serve` runs) and
//! `restore --from FILE` (into the data directory of a stopped relay). PostgreSQL has its own tools:
//! `pg_dump`/`pg_restore` (docs/OPERATIONS.md).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::config::{Settings, redact_url};
use crate::store::backup::{BackupSummary, backup_sqlite, check_backup, sqlite_path, sync_parent};

fn sqlite_file(settings: &Settings, what: &str) -> anyhow::Result<PathBuf> {
    let url = settings.database_url();
    sqlite_path(&url).ok_or_else(|| {
        anyhow::anyhow!(
            "{what} はSQLiteのデータベースだけを扱います。PostgreSQLは pg_dump / pg_restore を使ってください \
             (docs/OPERATIONS.md)。\n{what} works on the SQLite store only; the database is {}: use pg_dump and \
             pg_restore (docs/OPERATIONS.md)",
            redact_url(&url)
        )
    })
}

fn describe(s: &BackupSummary) -> String {
    format!(
        "{} bytes, migration {}, {} submissions, {} deliveries, {} events",
        s.bytes, s.migration, s.submissions, s.deliveries, s.events
    )
}

/// `backup --out FILE`: exit 0 with what the file holds.
pub(super) async fn backup(settings: &Settings, out: &Path) -> anyhow::Result<ExitCode> {
    let db = sqlite_file(settings, "backup")?;
    let summary = backup_sqlite(&db, out).await?;
    say!(
        "backed up {} to {} ({})",
        db.display(),
        out.display(),
        describe(&summary)
    );
    say!(
        "the signing keys and TLS files are not in it: keep a copy of {} and {} too",
        settings.data_dir.join("keys").display(),
        settings.data_dir.join("tls").display()
    );
    Ok(ExitCode::SUCCESS)
}

/// `restore --from FILE`: refuses while a `serve` holds the data directory; checks the file, copies it in
/// (private, synced) and moves a database already there aside as `<db>.before-restore-<time>`, with its WAL and
/// its segment files (`<db>.before-restore-<time>.bodies`).
pub(super) async fn restore(settings: &Settings, from: &Path) -> anyhow::Result<ExitCode> {
    let db = sqlite_file(settings, "restore")?;
    crate::files::private_dir(&settings.data_dir)?;
    // Held until the end: no `serve` can start on the directory while its database is replaced.
    let _lock = crate::files::lock_data_dir(&settings.data_dir)?;
    let summary = check_backup(from).await?;
    let mut staged = db.as_os_str().to_owned();
    staged.push(".restoring");
    let staged = PathBuf::from(staged);
    copy_private(from, &staged)?;
    let copied = std::fs::metadata(&staged)?.len();
    if copied != summary.bytes {
        let _ = std::fs::remove_file(&staged);
        anyhow::bail!(
            "{} changed while it was copied ({} bytes checked, {copied} copied): nothing was restored",
            from.display(),
            summary.bytes
        );
    }
    if db.exists() {
        // 2026-12-04T05:06:07.123Z → 20261204T050607Z
        let stamp: String = crate::domain::rfc3339(crate::domain::now_ms())
            .chars()
            .take(19)
            .filter(|c| c.is_ascii_digit() || *c == 'T')
            .chain(['Z'])
            .collect();
        let mut aside = db.as_os_str().to_owned();
        aside.push(format!(".before-restore-{stamp}"));
        // The segment files go with their database: the restored one never refers to them, and its retention
        // would delete them (they are found as `<db>.bodies` beside the database moved aside).
        for suffix in ["", "-wal", "-shm", "-journal", ".bodies"] {
            let (mut old, mut new) = (db.as_os_str().to_owned(), aside.clone());
            old.push(suffix);
            new.push(suffix);
            if Path::new(&old).exists() {
                std::fs::rename(&old, &new)?;
            }
        }
        say!(
            "moved the database that was there to {}",
            Path::new(&aside).display()
        );
    }
    std::fs::rename(&staged, &db)?;
    sync_parent(&db)?;
    say!(
        "restored {} into {} ({})",
        from.display(),
        db.display(),
        describe(&summary)
    );
    Ok(ExitCode::SUCCESS)
}

/// Copies `from` to `to` (mode 0600 from the start, synced).
fn copy_private(from: &Path, to: &Path) -> anyhow::Result<()> {
    let _ = std::fs::remove_file(to);
    crate::files::private_database(to)?;
    let mut src = std::fs::File::open(from)?;
    let mut dst = std::fs::OpenOptions::new().write(true).truncate(true).open(to)?;
    std::io::copy(&mut src, &mut dst)?;
    dst.sync_all()?;
    Ok(())
}
