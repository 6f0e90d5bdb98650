//! Writing accepted sets in one transaction: the retry check, the recipients' arrival numbers, the order within
//! each stream, then one multi-row statement per table. The statements are [`Backend::insert_sets`], used by the
//! PostgreSQL path of `Store::insert_submission` and by SQLite's group commit; this module holds what it decides
//! without the database.
//!
//! [`Backend::insert_sets`]: super::backend::Backend::insert_sets

use std::collections::{BTreeMap, HashMap, HashSet};

use super::body_files::{Body, BodyFiles};
use super::submissions::SetOutcome;
use super::{NewFile, NewSubmission, Newer};

/// Takes the files' bytes out of each set (per set, per file), so that they are moved into the statement that
/// stores them rather than copied.
pub(super) fn take_bodies(subs: &mut [&mut NewSubmission]) -> Vec<Vec<Body>> {
    subs.iter_mut()
        .map(|s| {
            s.files
                .iter_mut()
                .map(|f| Body::Inline(std::mem::take(&mut f.body)))
                .collect()
        })
        .collect()
}

/// Appends the files' bytes of each set to the store's segment files (per set, per file) and frees them: the rows
/// will say where they are. Every set's files are appended, also those the batch will not store (a retry); their
/// bytes are never referenced.
///
/// Errors: a segment cannot be written (the batch fails; nothing refers to what was appended).
pub(super) fn place_bodies(
    files: &BodyFiles,
    subs: &mut [&mut NewSubmission],
) -> std::io::Result<Vec<Vec<Body>>> {
    subs.iter_mut()
        .map(|s| {
            s.files
                .iter_mut()
                .map(|f| {
                    let at = files.append(&f.body)?;
                    f.body = Vec::new();
                    Ok(Body::At(at))
                })
                .collect()
        })
        .collect()
}

/// How many arrival numbers each recipient needs for the sets not decided yet, in a fixed order of recipients
/// (so that two transactions lock the counter rows in the same order).
pub(super) fn arrivals_wanted<'a>(
    subs: &[&'a NewSubmission],
    outcomes: &HashMap<String, SetOutcome>,
) -> BTreeMap<&'a str, i64> {
    let mut wanted: BTreeMap<&str, i64> = BTreeMap::new();
    for s in subs.iter().filter(|s| !outcomes.contains_key(&s.id)) {
        *wanted.entry(s.recipient.as_str()).or_default() += 1;
    }
    wanted
}

/// The newest set of each stream (recipient, sender, kind of set) among the sets of a batch judged so far.
#[derive(Debug, Default)]
pub(super) struct StreamOrder<'a> {
    newest: HashMap<(&'a str, &'a str, &'a str), Newer>,
}

impl<'a> StreamOrder<'a> {
    /// Judges `s` against `stored`, the newest stored set of its stream with a later sequence (none if `s` has no
    /// stream), and the sets of the batch before it: `Ok` with the newer set it is stored after (if any), or
    /// `Err` with the newer set when `s` asks to be refused then.
    pub(super) fn judge(
        &mut self,
        s: &'a NewSubmission,
        stored: Option<Newer>,
    ) -> Result<Option<Newer>, Newer> {
        let Some(stream) = s.stream.as_deref() else {
            return Ok(None);
        };
        let mut older_than = stored;
        let key = (s.recipient.as_str(), s.sender.as_str(), stream);
        if let Some(n) = self.newest.get(&key)
            && n.sequence > s.sequence
            && older_than.as_ref().is_none_or(|o| n.sequence > o.sequence)
        {
            older_than = Some(n.clone());
        }
        if let Some(n) = older_than.clone().filter(|_| s.refuse_older) {
            return Err(n);
        }
        if self.newest.get(&key).is_none_or(|n| s.sequence > n.sequence) {
            let n = Newer {
                sequence: s.sequence.clone(),
                submission_id: s.id.clone(),
                delivery_id: s.delivery_id.clone(),
            };
            self.newest.insert(key, n);
        }
        Ok(older_than)
    }
}

/// One row of `files` to insert.
pub(super) struct FileRow<'a> {
    pub(super) submission_id: &'a str,
    pub(super) position: i32,
    pub(super) file: &'a NewFile,
    pub(super) body: Body,
}

/// The files of the sets in `inserted`, with their bytes from `bodies` (as [`take_bodies`] or [`place_bodies`]
/// returned them), in chunks of one statement each: at most 1,000 rows and ~8 MiB of bytes in the rows (or one
/// larger file), so the bound copies that SQLite makes while a statement runs stay small even when a batch holds
/// many large sets.
pub(super) fn file_chunks<'a>(
    subs: &[&'a NewSubmission],
    bodies: Vec<Vec<Body>>,
    inserted: &HashSet<String>,
) -> Vec<Vec<FileRow<'a>>> {
    let mut chunks: Vec<Vec<FileRow<'a>>> = Vec::new();
    let mut size = 0usize;
    for (s, bodies) in subs.iter().zip(bodies) {
        if !inserted.contains(&s.id) {
            continue;
        }
        for (i, (file, body)) in s.files.iter().zip(bodies).enumerate() {
            let inline = match &body {
                Body::Inline(b) => b.len(),
                Body::At(_) => 0,
            };
            let full = chunks
                .last()
                .is_none_or(|c| c.len() >= 1_000 || size + inline > 8 << 20);
            if full {
                chunks.push(Vec::new());
                size = 0;
            }
            size += inline;
            if let Some(chunk) = chunks.last_mut() {
                chunk.push(FileRow {
                    submission_id: s.id.as_str(),
                    position: i as i32,
                    file,
                    body,
                });
            }
        }
    }
    chunks
}
