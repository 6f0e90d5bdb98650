//! Signed receipts: proof for the sender and the recipient that a set was accepted, downloaded, acknowledged.
//!
//! Keys are Ed25519. The private seeds stay in files, one per key under `<data-dir>/keys/<key_id>.ed25519` (the
//! 32-byte seed, hex, mode 0600); `<data-dir>/keys/current` names the key this node signs with (recorded when a
//! key is made, never inferred from file times). The public keys go into the database (`receipt_keys`) before
//! they sign anything, so every node sharing the database publishes every key any node ever signed with
//! (`GET /v1/keys`), and a receipt signed by one node verifies with the keys fetched from another.

use crate::files::write_private;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};

/// The file under the keys directory that names the signing key (its key id, one line).
pub const CURRENT_FILE: &str = "current";

/// Proof for the sender and the recipient. `signature` is the base64 Ed25519 signature over the UTF-8 bytes of
/// `payload`, by the key `key_id` of `GET /v1/keys`. Verify the bytes of `payload` exactly as received; do not
/// re-serialise them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Receipt {
    /// A JSON text (see `ReceiptPayload`).
    pub payload: String,
    /// Base64 (standard, padded) of the 64-byte Ed25519 signature.
    pub signature: String,
    /// The signing key: the first 8 bytes of the SHA-256 of its public key, hex.
    #[schema(pattern = "^[0-9a-f]{16}$")]
    pub key_id: String,
}

/// A public key of this data directory: its id, the base64 public key, and when it was made (Unix
/// milliseconds; for a key made before this was recorded, its file's modification time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalKey {
    pub key_id: String,
    pub public_base64: String,
    pub created_at: i64,
}

/// The signing keys of one data directory: the recorded current one signs, all are published.
pub struct ReceiptKeys {
    current: (String, SigningKey),
    local: Vec<LocalKey>,
    /// Set once every local public key is in the database; nothing is signed before.
    registered: AtomicBool,
}

impl std::fmt::Debug for ReceiptKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReceiptKeys")
            .field("current", &self.current.0)
            .field("keys", &self.local.len())
            .finish()
    }
}

fn key_id(public: &VerifyingKey) -> String {
    use sha2::Digest;
    let d = sha2::Sha256::digest(public.as_bytes());
    d[..8].iter().map(|b| format!("{b:02x}")).collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<[u8; 32]> {
    let s = s.trim();
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

fn millis(t: std::time::SystemTime) -> i64 {
    t.duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The keys in `dir`: (key, created_at in Unix ms), sorted by key id. Reads only.
fn read_keys(dir: &Path) -> anyhow::Result<Vec<(SigningKey, i64)>> {
    let mut keys = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(keys),
        Err(e) => return Err(anyhow::anyhow!("reading {}: {e}", dir.display())),
    };
    for entry in entries {
        let path = entry?.path();
        if path.extension().and_then(|e| e.to_str()) != Some("ed25519") {
            continue;
        }
        let seed = unhex(&std::fs::read_to_string(&path)?)
            .ok_or_else(|| anyhow::anyhow!("{} is not a 32-byte hex Ed25519 seed", path.display()))?;
        let created = std::fs::metadata(&path)?.modified().map_or(0, millis);
        keys.push((SigningKey::from_bytes(&seed), created));
    }
    keys.sort_by_key(|(k, _)| key_id(&k.verifying_key()));
    Ok(keys)
}

/// The key id recorded in `dir/current`, if the file exists.
fn read_current(dir: &Path) -> anyhow::Result<Option<String>> {
    match std::fs::read_to_string(dir.join(CURRENT_FILE)) {
        Ok(s) => Ok(Some(s.trim().to_string())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(anyhow::anyhow!(
            "reading {}: {e}",
            dir.join(CURRENT_FILE).display()
        )),
    }
}

fn write_current(dir: &Path, id: &str) -> std::io::Result<()> {
    let tmp = dir.join(format!("{CURRENT_FILE}.tmp"));
    write_private(&tmp, format!("{id}\n").as_bytes())?;
    std::fs::rename(&tmp, dir.join(CURRENT_FILE))
}

impl ReceiptKeys {
    /// Loads every key in `dir` and the one `dir/current` names; creates the first key if there is none.
    ///
    /// A directory from before `current` was recorded: with one key, that key is recorded as current; with
    /// several, the most recently modified one is recorded once (a warning is logged) and `current` decides
    /// from then on. Errors: a key file that is not a hex seed, or `current` naming a key that is not there.
    pub fn load_or_create(dir: &Path) -> anyhow::Result<ReceiptKeys> {
        crate::files::private_dir(dir)?;
        let mut keys = read_keys(dir)?;
        if keys.is_empty() {
            Self::generate(dir)?;
            keys = read_keys(dir)?;
        }
        let id = match read_current(dir)? {
            Some(id) => id,
            None => {
                let newest = keys
                    .iter()
                    .max_by_key(|(k, created)| (*created, key_id(&k.verifying_key())))
                    .map(|(k, _)| key_id(&k.verifying_key()))
                    .ok_or_else(|| anyhow::anyhow!("no receipt key in {}", dir.display()))?;
                if keys.len() > 1 {
                    tracing::warn!(
                        key_id = %newest, dir = %dir.display(),
                        "no recorded current receipt key: recording the most recently modified one; \
                         `keys/current` decides from now on"
                    );
                }
                write_current(dir, &newest)?;
                newest
            }
        };
        let current = keys
            .iter()
            .find(|(k, _)| key_id(&k.verifying_key()) == id)
            .map(|(k, _)| k.clone())
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "{} names the receipt key {id}, but {} has no {id}.ed25519",
                    dir.join(CURRENT_FILE).display(),
                    dir.display()
                )
            })?;
        let local = keys
            .iter()
            .map(|(k, created)| LocalKey {
                key_id: key_id(&k.verifying_key()),
                public_base64: B64.encode(k.verifying_key().as_bytes()),
                created_at: *created,
            })
            .collect();
        Ok(ReceiptKeys {
            current: (id, current),
            local,
            registered: AtomicBool::new(false),
        })
    }

    /// Writes a new key into `dir` and records it as current (key rotation: it signs from the next start; old
    /// keys keep verifying). Returns its id and key.
    pub fn generate(dir: &Path) -> anyhow::Result<(String, SigningKey)> {
        crate::files::private_dir(dir)?;
        let key = SigningKey::from_bytes(&rand::random::<[u8; 32]>());
        let id = key_id(&key.verifying_key());
        let path: PathBuf = dir.join(format!("{id}.ed25519"));
        write_private(&path, hex(&key.to_bytes()).as_bytes())?;
        write_current(dir, &id)?;
        Ok((id, key))
    }

    /// The public keys of the seeds in `dir`, without creating or recording anything (for offline verification).
    pub fn public_in(dir: &Path) -> anyhow::Result<Vec<(String, String)>> {
        Ok(read_keys(dir)?
            .iter()
            .map(|(k, _)| {
                (
                    key_id(&k.verifying_key()),
                    B64.encode(k.verifying_key().as_bytes()),
                )
            })
            .collect())
    }

    /// The id of the key that signs.
    pub fn current_id(&self) -> &str {
        &self.current.0
    }

    /// Every key of this data directory, to publish in the database.
    pub fn local(&self) -> &[LocalKey] {
        &self.local
    }

    /// Whether every local key is known to be in the database.
    pub fn is_registered(&self) -> bool {
        self.registered.load(Ordering::Acquire)
    }

    /// Marks every local key as published in the database.
    pub fn mark_registered(&self) {
        self.registered.store(true, Ordering::Release);
    }

    /// Signs `payload` (JSON text) with the current key. The relay publishes the key first
    /// (`Relay::sign`); this only signs.
    pub fn sign(&self, payload: String) -> Receipt {
        let sig = self.current.1.sign(payload.as_bytes());
        Receipt {
            payload,
            signature: B64.encode(sig.to_bytes()),
            key_id: self.current.0.clone(),
        }
    }

    /// The public keys of this data directory: (key_id, base64 public key). `GET /v1/keys` lists those of the
    /// database, which include these.
    pub fn public_keys(&self) -> Vec<(String, String)> {
        self.local
            .iter()
            .map(|k| (k.key_id.clone(), k.public_base64.clone()))
            .collect()
    }
}

/// Verifies a receipt against published keys (key_id → base64 public key). Returns the payload on success.
pub fn verify_receipt(receipt: &Receipt, keys: &[(String, String)]) -> Result<serde_json::Value, String> {
    let (_, public) = keys
        .iter()
        .find(|(id, _)| *id == receipt.key_id)
        .ok_or_else(|| format!("unknown key id {}", receipt.key_id))?;
    let public: [u8; 32] = B64
        .decode(public)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or("malformed public key")?;
    let key = VerifyingKey::from_bytes(&public).map_err(|e| format!("malformed public key: {e}"))?;
    let sig: [u8; 64] = B64
        .decode(&receipt.signature)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or("malformed signature")?;
    key.verify(receipt.payload.as_bytes(), &Signature::from_bytes(&sig))
        .map_err(|_| "the signature does not match the payload".to_string())?;
    serde_json::from_str(&receipt.payload).map_err(|e| format!("payload is not JSON: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_verify_rotate() {
        let dir = tempfile::tempdir().expect("tmp");
        let keys = ReceiptKeys::load_or_create(dir.path()).expect("keys");
        let r = keys.sign(r#"{"submission_id":"x"}"#.into());
        assert!(verify_receipt(&r, &keys.public_keys()).is_ok());
        let mut bad = r.clone();
        bad.payload = bad.payload.replace('x', "y");
        assert!(
            verify_receipt(&bad, &keys.public_keys()).is_err(),
            "a changed byte fails"
        );
        // Rotation: a new key signs, the old receipt still verifies.
        let (new, _) = ReceiptKeys::generate(dir.path()).expect("rotate");
        let rotated = ReceiptKeys::load_or_create(dir.path()).expect("reload");
        assert_eq!(rotated.current_id(), new);
        assert_ne!(rotated.current_id(), r.key_id);
        assert_eq!(rotated.public_keys().len(), 2);
        assert!(verify_receipt(&r, &rotated.public_keys()).is_ok());
    }

    #[test]
    fn the_recorded_key_signs_whatever_the_file_times() {
        let dir = tempfile::tempdir().expect("tmp");
        let first = ReceiptKeys::load_or_create(dir.path()).expect("keys");
        let old = first.current_id().to_string();
        let (new, _) = ReceiptKeys::generate(dir.path()).expect("rotate");
        // The old key's file is touched after the new one was made: the recorded choice still holds.
        let later = std::time::SystemTime::now() + std::time::Duration::from_secs(3600);
        std::fs::File::options()
            .write(true)
            .open(dir.path().join(format!("{old}.ed25519")))
            .expect("open")
            .set_modified(later)
            .expect("touch");
        let keys = ReceiptKeys::load_or_create(dir.path()).expect("reload");
        assert_eq!(keys.current_id(), new);
        assert_eq!(keys.sign("{}".into()).key_id, new);
        // A `current` that names a missing key is an error, not a silent choice.
        std::fs::write(dir.path().join(CURRENT_FILE), "0123456789abcdef\n").expect("write");
        let err = ReceiptKeys::load_or_create(dir.path()).expect_err("unknown current");
        assert!(err.to_string().contains("0123456789abcdef"), "{err}");
    }

    #[test]
    fn a_directory_without_current_records_one_once() {
        let dir = tempfile::tempdir().expect("tmp");
        let (id, _) = ReceiptKeys::generate(dir.path()).expect("key");
        std::fs::remove_file(dir.path().join(CURRENT_FILE)).expect("rm current");
        let keys = ReceiptKeys::load_or_create(dir.path()).expect("load");
        assert_eq!(keys.current_id(), id);
        let recorded = std::fs::read_to_string(dir.path().join(CURRENT_FILE)).expect("current");
        assert_eq!(recorded.trim(), id);
        assert_eq!(ReceiptKeys::public_in(dir.path()).expect("public").len(), 1);
    }
}
