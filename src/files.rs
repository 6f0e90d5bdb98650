//! Files and directories private to the service: the data directory 0700, the database, its WAL and every key
//! 0600, whatever the umask, and existing ones tightened at start. Care records and token hashes are inside.

use std::io::Write;
use std::path::Path;

/// Creates `dir` (and its parents) and makes it `0700`: readable by the service's user only.
///
/// Errors: the directory cannot be created or its mode set.
pub fn private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    set_mode(dir, 0o700)
}

/// Creates `path` empty if it does not exist, and makes it (and `<path>-wal`, `<path>-shm`, `<path>-journal`
/// if they exist) `0600`. SQLite creates its WAL and shared-memory files with the database file's mode.
///
/// Errors: the file cannot be created or its mode set.
pub fn private_database(path: &Path) -> std::io::Result<()> {
    if !path.exists() {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
        open_private(path, false)?;
    }
    set_mode(path, 0o600)?;
    for suffix in ["-wal", "-shm", "-journal"] {
        let mut side = path.as_os_str().to_owned();
        side.push(suffix);
        let side = Path::new(&side);
        if side.exists() {
            set_mode(side, 0o600)?;
        }
    }
    Ok(())
}

/// Writes a secret file readable by its owner only (`0600`, also when it existed with a wider mode), synced.
///
/// Errors: the file cannot be written.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut f = open_private(path, true)?;
    set_mode(path, 0o600)?;
    f.write_all(bytes)?;
    f.sync_all()
}

fn open_private(path: &Path, truncate: bool) -> std::io::Result<std::fs::File> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(truncate);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    opts.open(path)
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

/// On other systems the directory's access list applies (Windows: the user's profile by default).
#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> std::io::Result<()> {
    Ok(())
}

/// Takes `<data-dir>/serve.lock` for this process (an OS lock, released when the process ends, also on a
/// crash) and writes its process id in it. One SQLite store has one serving process: a second is refused with
/// the first one's process id; `restore` takes the same lock, so it never replaces a database that is served.
///
/// Errors: the lock file cannot be opened, or another process holds the lock (its process id is named).
pub fn lock_data_dir(data_dir: &Path) -> anyhow::Result<std::fs::File> {
    use anyhow::Context;
    use std::io::{Read, Seek, Write};
    let path = data_dir.join("serve.lock");
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut file = opts
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    if let Err(e) = file.try_lock() {
        let mut other = String::new();
        let _ = file.read_to_string(&mut other);
        let other = other.trim();
        anyhow::bail!(
            "another careplan-relay serve (process {}) is using the data directory {} with its SQLite database; \
             stop it first, or give this one another --data-dir ({e})",
            if other.is_empty() { "?" } else { other },
            data_dir.display()
        );
    }
    file.set_len(0)?;
    file.rewind()?;
    writeln!(file, "{}", std::process::id())?;
    Ok(file)
}

#[cfg(all(test, unix))]
mod tests {
    #![allow(clippy::expect_used)]
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777
    }

    #[test]
    fn existing_wide_files_are_tightened() {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("data");
        std::fs::create_dir(&data).expect("mkdir");
        std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        private_dir(&data).expect("private dir");
        assert_eq!(mode(&data), 0o700);
        let db = data.join("relay.db");
        std::fs::write(&db, b"").expect("write");
        std::fs::write(data.join("relay.db-wal"), b"").expect("write");
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        private_database(&db).expect("private db");
        assert_eq!(mode(&db), 0o600);
        assert_eq!(mode(&data.join("relay.db-wal")), 0o600);
        let key = data.join("k");
        std::fs::write(&key, b"old").expect("write");
        write_private(&key, b"new").expect("write private");
        assert_eq!(mode(&key), 0o600);
    }
}
