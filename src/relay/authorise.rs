//! Authorising the files of an upload before they are judged: who may send them, and what their names may be.

use super::submit::UploadedFile;
use super::{Relay, RelayError, Result};
use crate::message::{Message, clip};
use crate::name::{FileName, canonical_name};

impl Relay {
    /// Refuses an empty upload, a name given twice (in any spelling of its extension), a file whose name names
    /// another sender, or a sender service type the office is not registered for (403). Returns the names in
    /// their canonical spelling ([`canonical_name`]), in upload order.
    pub(super) async fn authorise(&self, office: &str, files: &[UploadedFile]) -> Result<Vec<String>> {
        if files.is_empty() {
            return Err(RelayError::BadRequest(Message::new(
                "リクエストにファイルがありません。",
                "the request holds no files",
            )));
        }
        super::bounds::check_file_names(files)?;
        let canonical: Vec<String> = files.iter().map(|f| canonical_name(self.spec, &f.name)).collect();
        let mut sorted: Vec<&String> = canonical.iter().collect();
        sorted.sort_unstable();
        if sorted.windows(2).any(|w| w[0] == w[1]) {
            return Err(RelayError::BadRequest(Message::new(
                "同じファイル名が2回含まれています。",
                "the same file name appears twice",
            )));
        }
        let mut registered: Option<Vec<String>> = None;
        for f in files {
            let Ok(n) = FileName::parse(self.spec, &f.name) else {
                continue;
            };
            if n.sender.office != office {
                return Err(RelayError::Forbidden(Message::new(
                    format!(
                        "{}: ファイル名の送信元 {} は、認証された事業所 {office} ではありません。",
                        clip(&f.name),
                        n.sender.office
                    ),
                    format!(
                        "{}: the sender in the file name is {}, not the authenticated office {office}",
                        clip(&f.name),
                        n.sender.office
                    ),
                )));
            }
            let Some(t) = &n.sender.service_type else { continue };
            if registered.is_none() {
                registered = Some(self.store.office(office).await?.service_types);
            }
            if !registered.iter().flatten().any(|r| r == t) {
                return Err(RelayError::Forbidden(Message::new(
                    format!(
                        "{}: ファイル名の送信元サービス種類 {t} は、事業所 {office} に登録されていません。",
                        clip(&f.name)
                    ),
                    format!(
                        "{}: the sender service type {t} is not registered for the office {office}",
                        clip(&f.name)
                    ),
                )));
            }
        }
        Ok(canonical)
    }
}
