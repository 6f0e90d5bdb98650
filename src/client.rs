//! The reference client: what a vendor's software does, over HTTPS with a token or a client certificate.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde_json::Value;

/// How to reach and authenticate to a relay.
#[derive(Debug, Clone, Default)]
pub struct ClientOptions {
    pub url: String,
    pub token: Option<secrecy::SecretString>,
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    pub cacert: Option<PathBuf>,
}

/// An HTTP answer: status and JSON body (or the raw bytes of a download).
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub json: Value,
}

/// A relay client.
#[derive(Debug, Clone)]
pub struct Client {
    base: String,
    http: reqwest::Client,
    token: Option<secrecy::SecretString>,
}

impl Client {
    pub fn new(o: &ClientOptions) -> anyhow::Result<Client> {
        let mut b = reqwest::Client::builder()
            .use_rustls_tls()
            .timeout(std::time::Duration::from_secs(300));
        if let Some(ca) = &o.cacert {
            let pem = std::fs::read(ca).with_context(|| format!("reading {}", ca.display()))?;
            b = b.add_root_certificate(reqwest::Certificate::from_pem(&pem)?);
        }
        if let (Some(cert), Some(key)) = (&o.cert, &o.key) {
            let mut pem = std::fs::read(cert).with_context(|| format!("reading {}", cert.display()))?;
            pem.extend(std::fs::read(key).with_context(|| format!("reading {}", key.display()))?);
            b = b.identity(reqwest::Identity::from_pem(&pem)?);
        }
        Ok(Client {
            base: o.url.trim_end_matches('/').to_string(),
            http: b.build()?,
            token: o.token.clone(),
        })
    }

    fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let r = self.http.request(method, format!("{}{path}", self.base));
        match &self.token {
            Some(t) => r.bearer_auth(secrecy::ExposeSecret::expose_secret(t)),
            None => r,
        }
    }

    async fn answer(r: reqwest::Response) -> anyhow::Result<Answer> {
        let status = r.status().as_u16();
        let text = r.text().await?;
        let json = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Ok(Answer { status, json })
    }

    /// Sends one set: each (name, bytes) as a multipart part named `file`.
    pub async fn send(&self, files: Vec<(String, Vec<u8>)>) -> anyhow::Result<Answer> {
        let mut form = reqwest::multipart::Form::new();
        for (name, bytes) in files {
            form = form.part("file", reqwest::multipart::Part::bytes(bytes).file_name(name));
        }
        Self::answer(
            self.req(reqwest::Method::POST, "/v1/submissions")
                .multipart(form)
                .send()
                .await?,
        )
        .await
    }

    /// Sends a set to another endpoint taking the same body (`/v1/validate`).
    pub async fn send_to(&self, path: &str, files: Vec<(String, Vec<u8>)>) -> anyhow::Result<Answer> {
        let mut form = reqwest::multipart::Form::new();
        for (name, bytes) in files {
            form = form.part("file", reqwest::multipart::Part::bytes(bytes).file_name(name));
        }
        Self::answer(
            self.req(reqwest::Method::POST, path)
                .multipart(form)
                .send()
                .await?,
        )
        .await
    }

    /// Sends one file as the raw body with `?name=`.
    pub async fn raw(&self, name: &str, bytes: Vec<u8>) -> anyhow::Result<Answer> {
        let r = self
            .req(reqwest::Method::POST, "/v1/submissions")
            .query(&[("name", name)])
            .body(bytes);
        Self::answer(r.send().await?).await
    }

    /// Sends the files at these paths as one set.
    pub async fn send_paths(&self, paths: &[PathBuf]) -> anyhow::Result<Answer> {
        let mut files = Vec::new();
        for p in paths {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            files.push((
                name,
                std::fs::read(p).with_context(|| format!("reading {}", p.display()))?,
            ));
        }
        self.send(files).await
    }

    pub async fn get(&self, path: &str) -> anyhow::Result<Answer> {
        Self::answer(self.req(reqwest::Method::GET, path).send().await?).await
    }

    pub async fn post(&self, path: &str) -> anyhow::Result<Answer> {
        Self::answer(self.req(reqwest::Method::POST, path).send().await?).await
    }

    pub async fn delete(&self, path: &str) -> anyhow::Result<Answer> {
        Self::answer(self.req(reqwest::Method::DELETE, path).send().await?).await
    }

    pub async fn post_json(&self, path: &str, body: Value) -> anyhow::Result<Answer> {
        Self::answer(self.req(reqwest::Method::POST, path).json(&body).send().await?).await
    }

    pub async fn patch_json(&self, path: &str, body: Value) -> anyhow::Result<Answer> {
        Self::answer(self.req(reqwest::Method::PATCH, path).json(&body).send().await?).await
    }

    /// Downloads one file: (status, bytes, Repr-Digest header).
    pub async fn download(
        &self,
        delivery_id: &str,
        name: &str,
    ) -> anyhow::Result<(u16, Vec<u8>, Option<String>)> {
        let r = self
            .req(
                reqwest::Method::GET,
                &format!("/v1/inbox/{delivery_id}/files/{name}"),
            )
            .send()
            .await?;
        let status = r.status().as_u16();
        let digest = r
            .headers()
            .get("repr-digest")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        Ok((status, r.bytes().await?.to_vec(), digest))
    }

    /// Downloads every file of a delivery into `dir`, checking each digest. Returns the paths written.
    pub async fn fetch(&self, delivery_id: &str, dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
        let d = self.get(&format!("/v1/inbox/{delivery_id}")).await?;
        if d.status != 200 {
            anyhow::bail!("delivery {delivery_id}: HTTP {} {}", d.status, d.json);
        }
        std::fs::create_dir_all(dir)?;
        let mut out = Vec::new();
        for f in d.json["files"].as_array().cloned().unwrap_or_default() {
            let name = f["name"].as_str().unwrap_or_default();
            let (status, bytes, _) = self.download(delivery_id, name).await?;
            if status != 200 {
                anyhow::bail!("{name}: HTTP {status}");
            }
            let sha = crate::relay::sha256_hex(&bytes);
            if Some(sha.as_str()) != f["sha256"].as_str() {
                anyhow::bail!("{name}: the downloaded bytes do not match the announced SHA-256");
            }
            // The name comes from the relay; keep only its last component.
            let path = dir.join(Path::new(name).file_name().unwrap_or_default());
            std::fs::write(&path, bytes)?;
            out.push(path);
        }
        Ok(out)
    }
}
