//! Signed receipts: proof for the sender and the recipient that a set was accepted, downloaded, acknowledged.
//!
//! Keys are Ed25519, one file per key under `<data-dir>/keys/<key_id>.ed25519` (the 32-byte seed, hex). The
//! newest signs; older ones stay so that every receipt ever issued can still be verified (`GET /v1/keys`).

use crate::files::write_private;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};

/// A receipt: `payload` is JSON text; `signature` is base64 Ed25519 over its UTF-8 bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    pub payload: String,
    pub signature: String,
    pub key_id: String,
}

/// The signing keys: the newest signs, all verify.
pub struct ReceiptKeys {
    current: (String, SigningKey),
    public: Vec<(String, VerifyingKey)>,
}

impl std::fmt::Debug for ReceiptKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReceiptKeys")
            .field("current", &self.current.0)
            .field("keys", &self.public.len())
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

impl ReceiptKeys {
    /// Loads every key in `dir`, creating the first one if there is none.
    pub fn load_or_create(dir: &Path) -> anyhow::Result<ReceiptKeys> {
        std::fs::create_dir_all(dir)?;
        let mut keys: Vec<(std::time::SystemTime, String, SigningKey)> = Vec::new();
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            if path.extension().and_then(|e| e.to_str()) != Some("ed25519") {
                continue;
            }
            let seed = unhex(&std::fs::read_to_string(&path)?)
                .ok_or_else(|| anyhow::anyhow!("{} is not a 32-byte hex Ed25519 seed", path.display()))?;
            let key = SigningKey::from_bytes(&seed);
            let modified = std::fs::metadata(&path)?.modified()?;
            keys.push((modified, key_id(&key.verifying_key()), key));
        }
        if keys.is_empty() {
            let (id, key) = Self::generate(dir)?;
            keys.push((std::time::SystemTime::now(), id, key));
        }
        keys.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
        let public = keys
            .iter()
            .map(|(_, id, k)| (id.clone(), k.verifying_key()))
            .collect();
        let (_, id, key) = keys.pop().ok_or_else(|| anyhow::anyhow!("no receipt key"))?;
        Ok(ReceiptKeys {
            current: (id, key),
            public,
        })
    }

    /// Writes a new key into `dir` (key rotation: it signs from the next start; old keys keep verifying).
    pub fn generate(dir: &Path) -> anyhow::Result<(String, SigningKey)> {
        std::fs::create_dir_all(dir)?;
        let key = SigningKey::from_bytes(&rand::random::<[u8; 32]>());
        let id = key_id(&key.verifying_key());
        let path: PathBuf = dir.join(format!("{id}.ed25519"));
        write_private(&path, hex(&key.to_bytes()).as_bytes())?;
        Ok((id, key))
    }

    /// Signs `payload` (JSON text) with the current key.
    pub fn sign(&self, payload: String) -> Receipt {
        let sig = self.current.1.sign(payload.as_bytes());
        Receipt {
            payload,
            signature: B64.encode(sig.to_bytes()),
            key_id: self.current.0.clone(),
        }
    }

    /// The public keys, for `GET /v1/keys`: (key_id, base64 public key).
    pub fn public_keys(&self) -> Vec<(String, String)> {
        self.public
            .iter()
            .map(|(id, k)| (id.clone(), B64.encode(k.as_bytes())))
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
        std::thread::sleep(std::time::Duration::from_millis(20));
        ReceiptKeys::generate(dir.path()).expect("rotate");
        let rotated = ReceiptKeys::load_or_create(dir.path()).expect("reload");
        assert_ne!(rotated.current.0, r.key_id);
        assert_eq!(rotated.public_keys().len(), 2);
        assert!(verify_receipt(&r, &rotated.public_keys()).is_ok());
    }
}
