// Rebuild when a migration or a spec data file changes: both are embedded in the binary.
//
// The tests that drive a real browser or a real HAProxy are marked ignored (shown as such in `cargo test`'s
// summary, with what to install) when those programs are missing, unless CI requires them
// (CAREPLAN_RELAY_REQUIRE_BROWSER=1, CAREPLAN_RELAY_REQUIRE_HAPROXY=1): then they run, and fail without them.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=spec");
    println!("cargo::rustc-check-cfg=cfg(no_browser)");
    println!("cargo::rustc-check-cfg=cfg(no_haproxy)");
    missing(
        "no_browser",
        "CAREPLAN_RELAY_REQUIRE_BROWSER",
        &["/usr/bin/chromedriver", "/usr/bin/chromium"],
    );
    missing(
        "no_haproxy",
        "CAREPLAN_RELAY_REQUIRE_HAPROXY",
        &["/usr/sbin/haproxy", "/usr/bin/haproxy", "/usr/local/sbin/haproxy"],
    );
}

/// Sets `cfg` when none of `paths` exists and `require` is not "1" (every one of `paths` for the browser).
fn missing(cfg: &str, require: &str, paths: &[&str]) {
    println!("cargo:rerun-if-env-changed={require}");
    // The directories, not the files: a file that does not exist would make cargo rerun this every build.
    for p in paths {
        if let Some(dir) = std::path::Path::new(p).parent().filter(|d| d.exists()) {
            println!("cargo:rerun-if-changed={}", dir.display());
        }
    }
    let required = std::env::var(require).as_deref() == Ok("1");
    let present = if cfg == "no_browser" {
        paths.iter().all(|p| std::path::Path::new(p).exists())
    } else {
        paths.iter().any(|p| std::path::Path::new(p).exists())
    };
    if !present && !required {
        println!("cargo:rustc-cfg={cfg}");
    }
}
