//! The SQLite store's file bodies outside the database: append-only segment files in `<database>.bodies/`.
//!
//! The writer appends the bytes of a batch's accepted files to the current segment (one `pwrite` each) before the
//! batch's statements run, flushes the segment to disk (`fdatasync`) while they run, and commits only once that
//! flush has returned: a committed `files` row always points at bytes on disk. The row keeps the segment number,
//! the offset and the size; its `body` column stays empty. Bytes are written once, instead of into B-tree pages,
//! the WAL and again into the database file by a checkpoint.
//!
//! A batch that fails after appending leaves unreferenced bytes at the end of the segment (as does a crash before
//! the commit); they are never read and go with the segment. A segment is closed at [`SEGMENT_BYTES`], after a
//! write error and at every start (a new process never appends to a file a crash may have cut short). Retention
//! empties rows; [`BodyFiles::reclaim`] deletes the closed segments no row points into any more.
//!
//! Segments are `0600` in a `0700` directory, like the database: they hold care records.

use std::collections::HashSet;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

/// A segment is closed once it holds this many bytes (a file larger than this gets a segment to itself).
pub(super) const SEGMENT_BYTES: u64 = 64 << 20;

/// Where one file's bytes are: segment number, byte offset in it, and length in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct BodyAt {
    pub(super) segment: i64,
    pub(super) offset: i64,
    pub(super) size: i64,
}

/// One file's bytes on their way into a `files` row: in the row itself (PostgreSQL, an in-memory SQLite
/// database) or already appended to a segment.
#[derive(Debug)]
pub(super) enum Body {
    Inline(Vec<u8>),
    At(BodyAt),
}

impl Body {
    /// The file's size in bytes.
    pub(super) fn size(&self) -> i64 {
        match self {
            Body::Inline(b) => b.len() as i64,
            Body::At(at) => at.size,
        }
    }
}

/// The segment being appended to.
#[derive(Debug)]
struct Open {
    id: i64,
    file: Arc<File>,
    len: u64,
}

/// The segment files of one SQLite database.
#[derive(Debug)]
pub(super) struct BodyFiles {
    dir: PathBuf,
    /// The open segment (`None` before the first append and after a write error), and the next segment's number.
    current: Mutex<(Option<Open>, i64)>,
}

impl BodyFiles {
    /// The segment directory of the database file `database` (`<database>.bodies`), created `0700` if missing.
    /// The next segment is numbered after the highest one there.
    ///
    /// Errors: the directory cannot be created or listed.
    pub(super) fn open(database: &Path) -> io::Result<BodyFiles> {
        let mut dir = database.as_os_str().to_owned();
        dir.push(".bodies");
        let dir = PathBuf::from(dir);
        crate::files::private_dir(&dir)?;
        let next = segments(&dir)?.into_iter().max().unwrap_or(0) + 1;
        Ok(BodyFiles {
            dir,
            current: Mutex::new((None, next)),
        })
    }

    fn path(&self, id: i64) -> PathBuf {
        self.dir.join(format!("{id:012}.seg"))
    }

    /// Appends `bytes` to the open segment (opening a new one when there is none or it is full) and says where
    /// they are. They are not on disk until [`BodyFiles::unsynced`]'s file has been synced.
    ///
    /// Errors: the segment cannot be created or written; the open segment is then closed, so the next append
    /// starts a new one after whatever this one holds.
    pub(super) fn append(&self, bytes: &[u8]) -> io::Result<BodyAt> {
        let mut guard = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        let (current, next) = &mut *guard;
        if let Some(open) = current.as_ref()
            && open.len > 0
            && open.len + bytes.len() as u64 > SEGMENT_BYTES
        {
            // The full segment's bytes must be on disk before a commit refers to them; the batch's final sync
            // covers only the segment open then.
            let full = current.take();
            full.map(|o| o.file.sync_data()).transpose()?;
        }
        if current.is_none() {
            let id = *next;
            *next += 1;
            *current = Some(Open {
                id,
                file: Arc::new(create_segment(&self.dir, &self.path(id))?),
                len: 0,
            });
        }
        let Some(open) = current.as_mut() else {
            return Err(io::Error::other("no open segment"));
        };
        if let Err(e) = write_at(&open.file, bytes, open.len) {
            *current = None;
            return Err(e);
        }
        let at = BodyAt {
            segment: open.id,
            offset: open.len as i64,
            size: bytes.len() as i64,
        };
        open.len += bytes.len() as u64;
        Ok(at)
    }

    /// The open segment, to sync before the batch that appended to it commits.
    pub(super) fn unsynced(&self) -> Option<Arc<File>> {
        let guard = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        guard.0.as_ref().map(|o| Arc::clone(&o.file))
    }

    /// Closes the open segment after a failed sync: what it holds may not be on disk, so nothing more is appended
    /// to it (the batch that failed is rolled back; its bytes are never referenced).
    pub(super) fn close_current(&self) {
        self.current.lock().unwrap_or_else(PoisonError::into_inner).0 = None;
    }

    /// Reads a file's bytes as [`BodyFiles::read`] does and checks them against `sha256` (its digest in lowercase
    /// hex, as the `files` row records it).
    ///
    /// Errors: those of `read`; `InvalidData` when the bytes have another SHA-256.
    pub(super) fn read_checked(&self, at: BodyAt, sha256: &str) -> io::Result<Vec<u8>> {
        let bytes = self.read(at)?;
        if sha256_hex(&bytes) != sha256 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "the bytes there have another SHA-256 than the file's",
            ));
        }
        Ok(bytes)
    }

    /// Reads `at.size` bytes at `at.offset` of segment `at.segment`.
    ///
    /// Errors: the segment is missing or shorter than the row says (`UnexpectedEof`).
    pub(super) fn read(&self, at: BodyAt) -> io::Result<Vec<u8>> {
        let file = File::open(self.path(at.segment))?;
        let mut bytes = vec![0; usize::try_from(at.size).map_err(io::Error::other)?];
        read_at(&file, &mut bytes, at.offset as u64)?;
        Ok(bytes)
    }

    /// Deletes the closed segments not in `referenced` (the segments some `files` row points into); the number
    /// deleted. Run by the writer, between batches, so no batch is appending to a segment no row names yet.
    ///
    /// Errors: the directory cannot be listed or a segment deleted.
    pub(super) fn reclaim(&self, referenced: &HashSet<i64>) -> io::Result<usize> {
        let (open, next) = {
            let guard = self.current.lock().unwrap_or_else(PoisonError::into_inner);
            (guard.0.as_ref().map(|o| o.id), guard.1)
        };
        let mut deleted = 0;
        for id in segments(&self.dir)? {
            if id < next && Some(id) != open && !referenced.contains(&id) {
                std::fs::remove_file(self.path(id))?;
                deleted += 1;
            }
        }
        Ok(deleted)
    }
}

/// SHA-256 of `bytes` as 64 lowercase hex digits, as the `files` rows record it.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    use std::fmt::Write;
    let mut hex = String::with_capacity(64);
    for b in sha2::Sha256::digest(bytes) {
        let _ = write!(hex, "{b:02x}");
    }
    hex
}

/// The segment numbers in `dir`.
fn segments(dir: &Path) -> io::Result<Vec<i64>> {
    let mut ids = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let name = entry?.file_name();
        let id = name
            .to_str()
            .and_then(|n| n.strip_suffix(".seg"))
            .and_then(|n| n.parse::<i64>().ok());
        ids.extend(id);
    }
    Ok(ids)
}

/// Creates a segment `0600` (it must not exist) and makes its directory entry durable.
fn create_segment(dir: &Path, path: &Path) -> io::Result<File> {
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true).write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let file = opts.open(path)?;
    // A directory is synced through a handle of its own on Unix; Windows has no such call (NTFS journals it).
    #[cfg(unix)]
    File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(file)
}

#[cfg(unix)]
fn write_at(file: &File, bytes: &[u8], offset: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::write_all_at(file, bytes, offset)
}

#[cfg(unix)]
fn read_at(file: &File, bytes: &mut [u8], offset: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, bytes, offset)
}

#[cfg(windows)]
fn write_at(file: &File, mut bytes: &[u8], mut offset: u64) -> io::Result<()> {
    while !bytes.is_empty() {
        let n = std::os::windows::fs::FileExt::seek_write(file, bytes, offset)?;
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        bytes = &bytes[n..];
        offset += n as u64;
    }
    Ok(())
}

#[cfg(windows)]
fn read_at(file: &File, mut bytes: &mut [u8], mut offset: u64) -> io::Result<()> {
    while !bytes.is_empty() {
        let n = std::os::windows::fs::FileExt::seek_read(file, bytes, offset)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        bytes = &mut bytes[n..];
        offset += n as u64;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn appends_read_back_and_a_full_segment_is_closed() {
        let dir = tempfile::tempdir().unwrap();
        let files = BodyFiles::open(&dir.path().join("relay.db")).unwrap();
        let a = files.append(b"first").unwrap();
        let b = files.append(b"second").unwrap();
        assert_eq!((a.segment, a.offset, b.segment, b.offset), (1, 0, 1, 5));
        assert_eq!(files.read(b).unwrap(), b"second");
        let big = vec![7u8; SEGMENT_BYTES as usize];
        let c = files.append(&big).unwrap();
        assert_eq!(
            (c.segment, c.offset),
            (2, 0),
            "a file that does not fit starts a new segment"
        );
        assert_eq!(files.read(c).unwrap(), big);
        assert_eq!(files.read(a).unwrap(), b"first");
    }

    #[test]
    fn a_restart_starts_a_new_segment_and_reclaim_keeps_referenced_and_open_ones() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("relay.db");
        let first = BodyFiles::open(&db).unwrap();
        let a = first.append(b"kept").unwrap();
        drop(first);
        let files = BodyFiles::open(&db).unwrap();
        let b = files.append(b"purged later").unwrap();
        assert_eq!((a.segment, b.segment), (1, 2));
        let c = files.append(b"x").unwrap();
        assert_eq!(c.segment, 2);
        // Segment 2 is open: kept even though nothing refers to it.
        assert_eq!(files.reclaim(&HashSet::from([1])).unwrap(), 0);
        assert_eq!(files.reclaim(&HashSet::new()).unwrap(), 1);
        assert!(files.read(a).is_err(), "segment 1 was deleted");
        assert_eq!(files.read(c).unwrap(), b"x");
    }

    #[test]
    fn other_bytes_than_the_file_s_are_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let files = BodyFiles::open(&dir.path().join("relay.db")).unwrap();
        let a = files.append(b"abc").unwrap();
        assert_eq!(files.read_checked(a, &sha256_hex(b"abc")).unwrap(), b"abc");
        assert_eq!(
            files.read_checked(a, &sha256_hex(b"abd")).unwrap_err().kind(),
            io::ErrorKind::InvalidData
        );
    }

    #[test]
    fn a_short_segment_is_an_error_not_short_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let files = BodyFiles::open(&dir.path().join("relay.db")).unwrap();
        let a = files.append(b"abc").unwrap();
        let wrong = BodyAt { size: 10, ..a };
        assert_eq!(
            files.read(wrong).unwrap_err().kind(),
            io::ErrorKind::UnexpectedEof
        );
    }
}
