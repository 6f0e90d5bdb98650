//! The SQLite store keeps accepted files' bytes in segment files beside the database (`<database>.bodies/`): the
//! rows point into them, a segment that holds other bytes is an error (never other bytes served), a restart
//! appends to a new segment, and retention's reclaim deletes a segment once no file points into it.
#![allow(clippy::expect_used, clippy::unwrap_used, unreachable_pub)] // tests panic on failure

use std::path::{Path, PathBuf};

mod support;

use careplan_relay::store::{NewEvent, NewSubmission, Store, StoreError};
use serde_json::json;

fn set(id: &str, sequence: &str, body: &[u8]) -> NewSubmission {
    support::stored::submission(id, "1310000002", "1310000001", sequence, body)
}

fn segments(db: &Path) -> Vec<PathBuf> {
    let mut dir = db.as_os_str().to_owned();
    dir.push(".bodies");
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    found.sort();
    found
}

async fn download(s: &Store, id: &str, sequence: &str) -> Result<Vec<u8>, StoreError> {
    let name = format!("UPJSK_202504_1310000002_11_1310000001_43_{sequence}.CSV");
    let event = NewEvent::new("delivery.downloaded", Some("1310000001"), json!({}));
    s.download("1310000001", &format!("d-{id}"), &name, event)
        .await
        .map(|f| f.body)
}

#[tokio::test]
async fn sqlite_keeps_bodies_in_checked_segments_that_retention_reclaims() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("relay.db");
    let url = format!("sqlite://{}", db.display());
    let s = Store::connect(&url, None).await.unwrap();
    s.insert_submission(set("s1", "20250328100000", b"first plan"))
        .await
        .unwrap();
    let found = segments(&db);
    assert_eq!(found.len(), 1, "one segment: {found:?}");
    assert_eq!(std::fs::read(&found[0]).unwrap(), b"first plan");
    assert_eq!(download(&s, "s1", "20250328100000").await.unwrap(), b"first plan");
    s.close().await;

    // A crash can leave bytes no row points to at a segment's end; a restart never appends after them.
    let mut tail = std::fs::read(&found[0]).unwrap();
    tail.extend_from_slice(b"torn tail of a batch that never committed");
    std::fs::write(&found[0], &tail).unwrap();
    let s = Store::connect(&url, None).await.unwrap();
    s.insert_submission(set("s2", "20250328110000", b"second plan"))
        .await
        .unwrap();
    assert_eq!(
        segments(&db).len(),
        2,
        "the restarted store appends to a new segment"
    );
    assert_eq!(download(&s, "s1", "20250328100000").await.unwrap(), b"first plan");
    assert_eq!(
        download(&s, "s2", "20250328110000").await.unwrap(),
        b"second plan"
    );

    // Bytes that are not the file's are refused, not served.
    let mut spoiled = std::fs::read(&found[0]).unwrap();
    spoiled[0] = b'F';
    std::fs::write(&found[0], &spoiled).unwrap();
    let got = download(&s, "s1", "20250328100000").await;
    assert!(matches!(got, Err(StoreError::BodyFile(_))), "{got:?}");

    // Retention empties s1's row; its segment goes, the open one stays.
    assert_eq!(
        s.reclaim_body_files().await.unwrap(),
        0,
        "segment 1 is still referenced"
    );
    s.purge("d-s1", NewEvent::new("delivery.purged", None, json!({})))
        .await
        .unwrap();
    assert_eq!(s.reclaim_body_files().await.unwrap(), 1);
    assert_eq!(segments(&db).len(), 1);
    assert!(matches!(
        download(&s, "s1", "20250328100000").await,
        Err(StoreError::Gone)
    ));
    assert_eq!(
        download(&s, "s2", "20250328110000").await.unwrap(),
        b"second plan"
    );
    assert_eq!(
        s.reclaim_body_files().await.unwrap(),
        0,
        "the open segment is kept"
    );
    s.close().await;
}
