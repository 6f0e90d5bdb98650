//! `migrate`: apply the schema's migrations and exit (for a relay whose own role may not change the schema).

use std::process::ExitCode;

use crate::config::{Settings, redact_url};
use crate::store::{Schema, Store};

/// Applies the migrations the database lacks; exit 0 with what was applied (or that it was current).
pub(super) async fn migrate(settings: &Settings) -> anyhow::Result<ExitCode> {
    let url = settings.database_url();
    if url.starts_with("sqlite:") {
        crate::files::private_dir(&settings.data_dir)?;
    }
    let (_, applied) = Store::open(&url, Some(1), Schema::Migrate).await?;
    match applied.as_slice() {
        [] => say!("{}: the schema is current; nothing to apply", redact_url(&url)),
        versions => say!(
            "{}: applied {} migration(s): {}",
            redact_url(&url),
            versions.len(),
            versions.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
        ),
    }
    Ok(ExitCode::SUCCESS)
}
