//! What the office portal needs beyond the API's use cases: an office's deliveries newest first with the names
//! of the offices on the other side, and a whole set as one ZIP of its original files.

use std::collections::HashMap;
use std::io::Write;

use super::{Relay, RelayError, Result};
use crate::store::{DeliveryRow, NewestQuery, StoreError};

/// Most deliveries on one page of the portal's lists.
pub const PAGE_SIZE: i64 = 100;

impl Relay {
    /// One page of an office's deliveries (received or sent), newest first.
    pub async fn newest(&self, q: &NewestQuery) -> Result<Vec<DeliveryRow>> {
        let q = NewestQuery {
            limit: q.limit.clamp(1, PAGE_SIZE),
            ..q.clone()
        };
        Ok(self.store.newest_deliveries(&q).await?)
    }

    /// One delivery to `recipient`, with its files; `NotFound` for anyone else's (its sender's too).
    pub async fn received(&self, recipient: &str, delivery_id: &str) -> Result<DeliveryRow> {
        let d = self.store.delivery_for(recipient, delivery_id).await?;
        if d.recipient != recipient {
            return Err(RelayError::NotFound);
        }
        Ok(d)
    }

    /// The names of these offices by number; an office no longer registered is left out.
    pub async fn office_names<'a>(
        &self,
        numbers: impl Iterator<Item = &'a str>,
    ) -> Result<HashMap<String, String>> {
        let mut names = HashMap::new();
        for n in numbers {
            if names.contains_key(n) {
                continue;
            }
            match self.store.office(n).await {
                Ok(o) => {
                    names.insert(o.number, o.name);
                }
                Err(StoreError::NotFound) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(names)
    }

    /// The whole set of a delivery to `recipient` as one ZIP (deflated; entries named with the spec's file
    /// names, holding the original bytes) and the ZIP's file name (`<sequence>.zip`). Each file is read through
    /// [`Relay::download`], so the delivery is marked downloaded and each file's download is an event.
    /// `NotFound` for another office's delivery, `Gone` when the bytes were purged.
    pub async fn set_zip(
        &self,
        recipient: &str,
        delivery_id: &str,
        request_id: Option<&str>,
    ) -> Result<(String, Vec<u8>)> {
        let d = self.received(recipient, delivery_id).await?;
        let mut files = Vec::with_capacity(d.files.len());
        for f in d.files {
            let file = self.download(recipient, delivery_id, &f.name, request_id).await?;
            files.push((f.name, file.body));
        }
        let zip = tokio::task::spawn_blocking(move || zip_files(&files))
            .await
            .map_err(|e| anyhow::anyhow!("zip task failed: {e}"))??;
        Ok((format!("{}.zip", d.sequence), zip))
    }
}

/// A ZIP of `(name, bytes)` entries, deflated.
fn zip_files(files: &[(String, Vec<u8>)]) -> Result<Vec<u8>> {
    let internal = |e: &dyn std::fmt::Display| RelayError::Internal(anyhow::anyhow!("writing a ZIP: {e}"));
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .unix_permissions(0o600);
    for (name, bytes) in files {
        w.start_file(name.as_str(), options).map_err(|e| internal(&e))?;
        w.write_all(bytes).map_err(|e| internal(&e))?;
    }
    Ok(w.finish().map_err(|e| internal(&e))?.into_inner())
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    #[test]
    fn zips_hold_the_original_bytes_under_their_names() {
        let files = vec![
            (
                "UPHOSOKU_202504_a.CSV".to_string(),
                vec![0x82, 0xa0, b',', b'\r', b'\n'],
            ),
            ("UPPLAN_202504_b.CSV".to_string(), b"1,2\r\n".repeat(100)),
        ];
        let zip = zip_files(&files).unwrap_or_default();
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(archive.len(), 2);
        for (name, bytes) in &files {
            let mut f = archive.by_name(name).unwrap_or_else(|e| panic!("{name}: {e}"));
            let mut back = Vec::new();
            f.read_to_end(&mut back).unwrap_or_default();
            assert_eq!(&back, bytes);
        }
    }
}
