//! The folder agent's file operations: atomic writes (temporary name, fsync, rename, fsync of the folder),
//! moves that survive a crash half-way, leftovers of an interrupted write, and the folder lock.

use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::Context;

/// Names of the agent's temporary files start with this; any such file is a leftover of an interrupted write
/// (the lock guarantees no other agent writes in the folder) and is removed at the start of a pass.
pub const TEMP_PREFIX: &str = ".careplan-relay-tmp-";

/// Writes `bytes` to `dir/name` so that the name shows either nothing or the whole file: a private temporary
/// file (0600 on Unix) is written and synced, renamed over the name, and the folder is synced.
///
/// Errors: the folder cannot be created, or a write, sync or rename fails (the temporary file is removed).
pub fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let tmp = dir.join(format!("{TEMP_PREFIX}{}-{name}", std::process::id()));
    let to = dir.join(name);
    let result = crate::files::write_private(&tmp, bytes)
        .and_then(|()| std::fs::rename(&tmp, &to))
        .and_then(|()| sync_dir(dir));
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("writing {}", to.display()));
    }
    Ok(to)
}

/// Makes a rename in `dir` durable. On Windows a folder cannot be opened for syncing; NTFS journals the rename.
///
/// Errors: the folder cannot be opened or synced (Unix).
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// Moves `from` into the folder `to_dir` under the same name, durably. Across file systems (where a rename
/// cannot) it copies atomically and then removes the original.
///
/// Errors: the target folder cannot be created or the file cannot be moved.
pub fn move_into(from: &Path, to_dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to_dir).with_context(|| format!("creating {}", to_dir.display()))?;
    let name = from
        .file_name()
        .with_context(|| format!("{} has no file name", from.display()))?;
    let to = to_dir.join(name);
    if std::fs::rename(from, &to).is_err() {
        let bytes = std::fs::read(from).with_context(|| format!("reading {}", from.display()))?;
        write_atomic(to_dir, &name.to_string_lossy(), &bytes)?;
        std::fs::remove_file(from).with_context(|| format!("removing {}", from.display()))?;
    }
    sync_dir(to_dir)?;
    if let Some(parent) = from.parent() {
        sync_dir(parent)?;
    }
    Ok(())
}

/// Removes the leftovers of interrupted writes in `dir`; returns how many.
///
/// Errors: the folder exists but cannot be read.
pub fn remove_leftovers(dir: &Path) -> anyhow::Result<usize> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e).with_context(|| format!("reading {}", dir.display())),
    };
    let mut n = 0;
    for e in entries.flatten() {
        let path = e.path();
        if e.file_name().to_string_lossy().starts_with(TEMP_PREFIX) {
            std::fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
            n += 1;
        } else if e.file_type().is_ok_and(|t| t.is_dir()) {
            n += remove_leftovers(&path)?;
        }
    }
    Ok(n)
}

/// The SHA-256 (lowercase hex) of a file's bytes, or `None` when it does not exist.
///
/// Errors: the file exists but cannot be read.
pub fn file_sha256(path: &Path) -> anyhow::Result<Option<String>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(crate::relay::sha256_hex(&bytes))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// An exclusive lock on a folder, held while the value lives (the lock file `.careplan-relay.lock` stays).
#[derive(Debug)]
pub struct FolderLock {
    _file: File,
}

/// Locks `dir` for this process (creating it if needed), without waiting.
///
/// Errors: another agent holds the lock (its message says so in Japanese and English), or the lock file
/// cannot be opened.
pub fn lock_folder(dir: &Path) -> anyhow::Result<FolderLock> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join(".careplan-relay.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(FolderLock { _file: file }),
        Err(std::fs::TryLockError::WouldBlock) => anyhow::bail!(
            "別のエージェントが {} を使っています / another agent is using {}",
            dir.display(),
            dir.display()
        ),
        Err(std::fs::TryLockError::Error(e)) => Err(e).with_context(|| format!("locking {}", path.display())),
    }
}
