//! The audit trail: verifying the chain, and exporting sealed events for the care information platform.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{Relay, RelayError, Result};
use crate::domain::rfc3339;
use crate::store::{ExportRow, GENESIS, NewEvent, StoreError, chain_hash};

/// The outcome of re-computing the whole chain (`audit verify`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Verification {
    /// True when every link, hash and event holds and no event bypassed the chain.
    pub intact: bool,
    /// Sealed positions checked (up to the last good one when broken).
    #[schema(minimum = 0)]
    pub positions: i64,
    /// Events written but not yet sealed onto the chain.
    #[schema(minimum = 0)]
    pub queued: i64,
    /// The hash of the last position checked: 64 zeros for an empty chain, and when a position is broken.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub head: String,
    /// The first position that does not hold; null when intact.
    #[schema(minimum = 1)]
    pub broken_at: Option<i64>,
    /// Why it does not hold; null when intact.
    #[schema(example = "event 42 was changed")]
    pub reason: Option<String>,
}

/// What `audit export` wrote (nothing when there was nothing new or another exporter won).
#[derive(Debug, Clone, Serialize)]
pub struct Exported {
    pub batch: Option<super::ExportManifest>,
    pub files: Vec<PathBuf>,
}

fn line(r: &crate::store::ChainRow) -> Option<Value> {
    let e = r.event.as_ref()?;
    let detail: Value = serde_json::from_str(&e.detail).unwrap_or(Value::String(e.detail.clone()));
    Some(json!({
        "position": r.position, "seq": e.seq, "at": rfc3339(e.at), "at_ms": e.at, "kind": e.kind,
        "office": e.office, "submission_id": e.submission_id, "request_id": e.request_id, "detail": detail,
        "prev_hash": r.prev_hash, "hash": r.hash,
    }))
}

impl Relay {
    /// Writes the sealed events not exported yet as `audit-<first>-<last>.ndjson` and a signed manifest in
    /// `out`, then records the watermark. Safe to run concurrently: one exporter wins, the other writes nothing.
    pub async fn export_audit(&self, out: &Path, actor: &str) -> Result<Exported> {
        self.seal_all().await?;
        let watermark = self.store.export_watermark().await?;
        std::fs::create_dir_all(out).map_err(anyhow::Error::from)?;
        let token = uuid::Uuid::new_v4().simple().to_string();
        let tmp = out.join(format!(".audit-{token}.ndjson.tmp"));
        let mut file = std::io::BufWriter::new(std::fs::File::create(&tmp).map_err(anyhow::Error::from)?);
        let (mut hasher, mut count, mut first, mut last, mut head) =
            (Sha256::new(), 0i64, 0i64, watermark, String::new());
        loop {
            let rows = self.store.chain(last, 10_000).await?;
            if rows.is_empty() {
                break;
            }
            for r in &rows {
                let Some(l) = line(r) else {
                    let _ = std::fs::remove_file(&tmp);
                    return Err(RelayError::Internal(anyhow::anyhow!(
                        "position {} has no event: run audit verify",
                        r.position
                    )));
                };
                let mut text = l.to_string();
                text.push('\n');
                hasher.update(text.as_bytes());
                file.write_all(text.as_bytes()).map_err(anyhow::Error::from)?;
                if count == 0 {
                    first = r.position;
                }
                count += 1;
                last = r.position;
                head.clone_from(&r.hash);
            }
        }
        file.into_inner()
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .sync_all()
            .map_err(anyhow::Error::from)?;
        if count == 0 {
            let _ = std::fs::remove_file(&tmp);
            return Ok(Exported {
                batch: None,
                files: Vec::new(),
            });
        }
        let sha256: String = hasher.finalize().iter().map(|b| format!("{b:02x}")).collect();
        let batch = ExportRow {
            first,
            last,
            count,
            sha256,
            chain_head: head,
        };
        let stem = format!("audit-{first}-{last}");
        let signed = json!({ "first": first, "last": last, "count": count, "sha256": batch.sha256, "chain_head": batch.chain_head });
        let receipt = self.sign(signed.to_string()).await?;
        let manifest = super::ExportManifest {
            first,
            last,
            count,
            sha256: batch.sha256.clone(),
            chain_head: batch.chain_head.clone(),
            signed: receipt.payload,
            signature: receipt.signature,
            key_id: receipt.key_id,
        };
        let event = NewEvent::new(
            "audit.exported",
            None,
            json!({ "first": first, "last": last, "count": count, "sha256": batch.sha256, "actor": actor }),
        );
        match self.store.record_export(&token, &batch, &stem, event).await {
            Ok(()) => {}
            Err(StoreError::Conflict) => {
                let _ = std::fs::remove_file(&tmp);
                return Ok(Exported {
                    batch: None,
                    files: Vec::new(),
                });
            }
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                return Err(e.into());
            }
        }
        let (ndjson, manifest_path) = (
            out.join(format!("{stem}.ndjson")),
            out.join(format!("{stem}.manifest.json")),
        );
        std::fs::rename(&tmp, &ndjson).map_err(anyhow::Error::from)?;
        std::fs::write(
            &manifest_path,
            serde_json::to_vec_pretty(&manifest).map_err(anyhow::Error::from)?,
        )
        .map_err(anyhow::Error::from)?;
        Ok(Exported {
            batch: Some(manifest),
            files: vec![ndjson, manifest_path],
        })
    }

    /// Re-computes the whole chain. The first position whose link, hash or event does not hold is reported; an event
    /// that is neither sealed nor queued (inserted behind the relay's back) is reported by its seq.
    pub async fn verify_audit(&self) -> Result<Verification> {
        let store = &self.store;
        let queued = store.audit_counts().await?.queued;
        let mut v = Verification {
            intact: true,
            positions: 0,
            queued,
            head: GENESIS.into(),
            broken_at: None,
            reason: None,
        };
        let mut prev = GENESIS.to_string();
        let mut expected = 1;
        loop {
            let rows = store.chain(expected - 1, 10_000).await?;
            if rows.is_empty() {
                break;
            }
            for r in rows {
                let problem = if r.position != expected {
                    Some(format!("position {expected} is missing (next is {})", r.position))
                } else if r.prev_hash != prev {
                    Some("the link to the previous position does not match".to_string())
                } else {
                    match &r.event {
                        None => Some("its event was deleted".to_string()),
                        Some(e) if chain_hash(&prev, e) != r.hash => {
                            Some(format!("event {} was changed", e.seq))
                        }
                        Some(_) => None,
                    }
                };
                if let Some(reason) = problem {
                    v.intact = false;
                    v.broken_at = Some(expected);
                    v.reason = Some(reason);
                    return Ok(v);
                }
                prev = r.hash;
                v.positions = r.position;
                expected += 1;
            }
        }
        v.head = prev;
        if let Some(seq) = store.stray_event().await? {
            v.intact = false;
            v.broken_at = Some(v.positions + 1);
            v.reason = Some(format!(
                "event {seq} is neither sealed nor queued: it was inserted outside the relay"
            ));
        }
        Ok(v)
    }

    /// Seals up to 5,000 queued events (fewer when another node holds the sealing lock); answers how many.
    pub async fn seal_some(&self) -> Result<usize> {
        Ok(self.store.seal(5_000).await?)
    }

    /// Seals everything queued now. When another node holds the sealing lock, waits for it to finish (up to 10 s).
    pub async fn seal_all(&self) -> Result<()> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            if self.seal_some().await? > 0 {
                continue;
            }
            if self.store.audit_counts().await?.queued == 0 || std::time::Instant::now() > deadline {
                return Ok(());
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}
