//! `Checked`: the reference client as the API tests use it, checking every answer against the OpenAPI document
//! (`support::contract::check`) before the test sees it.

use careplan_relay::client::{Answer, Client};
use serde_json::Value;

use super::contract::check;

/// A [`Client`] whose every answer is checked against the document.
#[derive(Debug, Clone)]
pub struct Checked(pub Client);

fn checked(method: &str, path: &str, a: anyhow::Result<Answer>) -> anyhow::Result<Answer> {
    if let Ok(a) = &a {
        check(method, path, a.status, &a.json);
    }
    a
}

impl Checked {
    pub async fn send(&self, files: Vec<(String, Vec<u8>)>) -> anyhow::Result<Answer> {
        checked("POST", "/v1/submissions", self.0.send(files).await)
    }

    pub async fn send_to(&self, path: &str, files: Vec<(String, Vec<u8>)>) -> anyhow::Result<Answer> {
        checked("POST", path, self.0.send_to(path, files).await)
    }

    pub async fn raw(&self, name: &str, bytes: Vec<u8>) -> anyhow::Result<Answer> {
        checked("POST", "/v1/submissions", self.0.raw(name, bytes).await)
    }

    pub async fn get(&self, path: &str) -> anyhow::Result<Answer> {
        checked("GET", path, self.0.get(path).await)
    }

    pub async fn post(&self, path: &str) -> anyhow::Result<Answer> {
        checked("POST", path, self.0.post(path).await)
    }

    pub async fn delete(&self, path: &str) -> anyhow::Result<Answer> {
        checked("DELETE", path, self.0.delete(path).await)
    }

    pub async fn post_json(&self, path: &str, body: Value) -> anyhow::Result<Answer> {
        checked("POST", path, self.0.post_json(path, body).await)
    }

    pub async fn patch_json(&self, path: &str, body: Value) -> anyhow::Result<Answer> {
        checked("PATCH", path, self.0.patch_json(path, body).await)
    }

    /// Downloads one file: (status, bytes, Repr-Digest header); a status the document does not list fails.
    pub async fn download(
        &self,
        delivery_id: &str,
        name: &str,
    ) -> anyhow::Result<(u16, Vec<u8>, Option<String>)> {
        let r = self.0.download(delivery_id, name).await;
        if let Ok((status, bytes, _)) = &r {
            let body = serde_json::from_slice(bytes).unwrap_or(Value::Null);
            let path = format!("/v1/inbox/{delivery_id}/files/{name}");
            check("GET", &path, *status, &body);
        }
        r
    }
}
