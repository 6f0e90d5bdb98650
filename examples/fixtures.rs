//! Writes the fixture catalogue under `fixtures/` (or the directory given): `cargo run --example fixtures`.
#![allow(clippy::expect_used, clippy::unwrap_used, unreachable_pub)] // tests and test tools panic on failure

#[path = "../tests/support/catalog.rs"]
mod catalog;

fn main() -> std::io::Result<()> {
    let root = std::path::PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "fixtures".into()));
    let spec = careplan_relay::spec::Spec::get().map_err(|e| std::io::Error::other(e.to_string()))?;
    for dir in ["valid", "invalid"] {
        let path = root.join(dir);
        if path.exists() {
            std::fs::remove_dir_all(&path)?;
        }
    }
    let fixtures = catalog::all(spec);
    for f in &fixtures {
        let dir = root.join(&f.dir);
        std::fs::create_dir_all(&dir)?;
        for file in &f.files {
            std::fs::write(dir.join(&file.name), &file.bytes)?;
        }
    }
    println!("wrote {} fixture sets under {}", fixtures.len(), root.display());
    Ok(())
}
