//! `check-config`: checks the configuration without changing anything (the file and its values, the TLS files,
//! the data directory and its permissions, the database, the listen addresses; the only file it writes is a
//! probe of the data directory, removed at once) and lists every finding in Japanese and English. Exit 0 when the relay can run with it (warnings allowed), 1 with every problem listed.

mod files;
mod tls;

use std::path::Path;
use std::process::ExitCode;

use crate::config::Settings;
use crate::message::Message;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    Ok,
    Warning,
    Problem,
}

/// What the checks found, in order.
#[derive(Debug, Default)]
struct Findings(Vec<(Level, String, Message)>);

impl Findings {
    fn add(&mut self, level: Level, what: &str, ja: String, en: String) {
        self.0.push((level, what.to_string(), Message::new(ja, en)));
    }
    fn ok(&mut self, what: &str, ja: String, en: String) {
        self.add(Level::Ok, what, ja, en);
    }
    fn warning(&mut self, what: &str, ja: String, en: String) {
        self.add(Level::Warning, what, ja, en);
    }
    fn problem(&mut self, what: &str, ja: String, en: String) {
        self.add(Level::Problem, what, ja, en);
    }
    fn count(&self, level: Level) -> usize {
        self.0.iter().filter(|(l, _, _)| *l == level).count()
    }

    /// Prints every finding (two lines: Japanese, English) and the verdict; returns the exit code.
    fn report(&self) -> ExitCode {
        for (level, what, m) in &self.0 {
            let tag = match level {
                Level::Ok => "ok",
                Level::Warning => "WARNING",
                Level::Problem => "PROBLEM",
            };
            say!("{tag:<8}{what}: {}", m.ja);
            say!("{:<8}{what}: {}", "", m.en);
        }
        let (problems, warnings) = (self.count(Level::Problem), self.count(Level::Warning));
        if problems == 0 {
            say!("使えます（警告 {warnings} 件） / usable ({warnings} warnings)");
            ExitCode::SUCCESS
        } else {
            say!(
                "使えません: 問題 {problems} 件、警告 {warnings} 件 / NOT usable: {problems} problems, {warnings} warnings"
            );
            ExitCode::from(1)
        }
    }
}

/// The permission bits of `path`, if it exists (`None` elsewhere than Unix).
fn mode(path: &Path) -> Option<u32> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path)
            .ok()
            .map(|m| m.permissions().mode() & 0o777)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

/// Runs every check and prints the findings. Exit 0: usable; 1: problems (each listed); 2: could not run.
pub(super) fn run(data_dir: &Path, config: Option<&Path>) -> ExitCode {
    let mut f = Findings::default();
    let settings = match Settings::parse(data_dir, config) {
        Ok(s) => s,
        Err(e) => {
            let file = config.map_or_else(
                || "(defaults and environment)".into(),
                |p| p.display().to_string(),
            );
            f.problem(
                "config",
                format!("設定 {file} を読めません: {e:#}"),
                format!("cannot read the configuration {file}: {e:#}"),
            );
            return f.report();
        }
    };
    match config {
        Some(p) => {
            f.ok(
                "config",
                format!("{} を読みました", p.display()),
                format!("{} parses", p.display()),
            );
            files::config_mode(&mut f, p, &settings);
        }
        None => f.ok(
            "config",
            "設定ファイルなし（既定値と環境変数）".into(),
            "no configuration file (defaults and environment)".into(),
        ),
    }
    for m in settings.problems() {
        f.problem("settings", m.ja, m.en);
    }
    files::listeners(&mut f, &settings);
    let now = crate::domain::now_ms() / 1000;
    check_tls(&mut f, &settings, now);
    files::data_dir(&mut f, &settings);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("careplan-relay: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    runtime.block_on(files::database(&mut f, &settings));
    f.report()
}

fn check_tls(f: &mut Findings, settings: &Settings, now: i64) {
    let t = &settings.tls;
    let dev = settings.data_dir.join("tls");
    let (cert, key, client_ca, client_ca_key) = match (&t.cert, &t.key) {
        (Some(c), Some(k)) => (c.clone(), k.clone(), t.client_ca.clone(), t.client_ca_key.clone()),
        (None, None) => {
            f.warning(
                "tls",
                format!("TLSの設定がありません: 開発用の証明書（{}）を使います。本番では tls.cert と tls.key を設定してください", dev.display()),
                format!("no TLS configured: the development certificates in {} are used; set tls.cert and tls.key in production", dev.display()),
            );
            if !dev.join("server.pem").exists() {
                f.ok(
                    "tls",
                    "開発用の証明書は最初の serve で作られます".into(),
                    "the development certificates are made by the first serve".into(),
                );
                return;
            }
            (
                dev.join("server.pem"),
                dev.join("server.key"),
                Some(t.client_ca.clone().unwrap_or(dev.join("ca.pem"))),
                t.client_ca_key.clone().or(Some(dev.join("ca.key"))),
            )
        }
        // One set without the other is a problem of the settings, listed already.
        _ => return,
    };
    let chain = tls::certificates(f, "tls.cert", &cert, now);
    tls::key_matches(f, "tls.key", &key, chain);
    if let Some(ca) = client_ca {
        let chain = tls::certificates(f, "tls.client_ca", &ca, now);
        if let Some(ca_key) = client_ca_key.filter(|k| k.exists()) {
            tls::key_matches(f, "tls.client_ca_key", &ca_key, chain);
        }
    }
}
