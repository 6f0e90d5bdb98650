// Rebuild when a migration or a spec data file changes: both are embedded in the binary.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=spec");
}
