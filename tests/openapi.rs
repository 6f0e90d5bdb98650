//! The published contract is the code's: `docs/openapi.json` is exactly what the routes and their types generate
//! (`careplan-relay openapi`), every operation has an id and its answers, every finding code and file kind is in
//! its enum and described, every `$ref` resolves, and `deploy/relay.example.toml` loads and documents every key of
//! `config::Settings`.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use careplan_relay::config::Settings;
use careplan_relay::spec::Kind;
use careplan_relay::validate::Code;
use serde_json::Value;

/// The HTTP methods an OpenAPI path item can hold.
const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(relative: &str) -> String {
    let path = root().join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn openapi() -> Value {
    serde_json::from_str(&careplan_relay::http::openapi_json()).expect("the generated document is JSON")
}

#[test]
fn docs_openapi_json_is_what_the_code_generates() {
    let generated = careplan_relay::http::openapi_json();
    let kept = read("docs/openapi.json");
    assert!(
        kept == generated,
        "docs/openapi.json differs from the document the routes and types generate; regenerate it with \
         `cargo run --quiet -- openapi > docs/openapi.json` and commit it"
    );
}

/// `(path, method)` of every operation in the document.
fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let paths = doc["paths"].as_object().expect("`paths` is an object");
    paths
        .iter()
        .flat_map(|(path, item)| {
            let item = item.as_object().expect("a path item is an object");
            METHODS
                .iter()
                .filter(|m| item.contains_key(**m))
                .map(move |m| (path.clone(), (*m).to_string()))
        })
        .collect()
}

fn string_enum(doc: &Value, schema: &str) -> BTreeSet<String> {
    doc["components"]["schemas"][schema]["enum"]
        .as_array()
        .unwrap_or_else(|| panic!("components.schemas.{schema}.enum is an array"))
        .iter()
        .map(|v| v.as_str().expect("enum values are strings").to_string())
        .collect()
}

#[test]
fn the_document_is_openapi_3_1() {
    let doc = openapi();
    let version = doc["openapi"].as_str().expect("`openapi` is a string");
    assert!(version.starts_with("3.1"), "openapi version {version}");
    assert!(doc["info"]["title"].is_string());
    assert!(doc["info"]["version"].is_string());
    let schemes = doc["components"]["securitySchemes"]
        .as_object()
        .expect("security schemes");
    assert_eq!(schemes["bearerAuth"]["type"], "http");
    assert_eq!(schemes["bearerAuth"]["scheme"], "bearer");
    assert_eq!(schemes["mutualTLS"]["type"], "mutualTLS");
}

#[test]
fn every_operation_has_an_id_and_responses() {
    let doc = openapi();
    let mut ids = BTreeSet::new();
    for (path, method) in documented(&doc) {
        let op = &doc["paths"][&path][&method];
        let id = op["operationId"]
            .as_str()
            .unwrap_or_else(|| panic!("{method} {path} has no operationId"));
        assert!(ids.insert(id.to_string()), "operationId {id} is used twice");
        assert!(
            op["responses"].as_object().is_some_and(|r| !r.is_empty()),
            "{method} {path} documents no responses"
        );
    }
}

#[test]
fn every_code_is_in_the_code_enum() {
    let documented = string_enum(&openapi(), "Code");
    let codes: BTreeSet<String> = Code::ALL.iter().map(|c| c.as_str().to_string()).collect();
    let missing: Vec<_> = codes.difference(&documented).collect();
    assert!(
        missing.is_empty(),
        "codes missing from the Code enum: {missing:?}"
    );
    let unknown: Vec<_> = documented.difference(&codes).collect();
    assert!(
        unknown.is_empty(),
        "the Code enum lists unknown codes: {unknown:?}"
    );
    let doc = openapi();
    let described = doc["components"]["schemas"]["Code"]["description"]
        .as_str()
        .expect("the Code schema has a description");
    let undescribed: Vec<_> = codes
        .iter()
        .filter(|c| !described.contains(&format!("* `{c}`:")))
        .collect();
    assert!(
        undescribed.is_empty(),
        "codes without a line in src/validate/codes.md: {undescribed:?}"
    );
}

#[test]
fn every_kind_is_in_the_file_kind_enum() {
    let documented = string_enum(&openapi(), "FileKind");
    let kinds: BTreeSet<String> = Kind::ALL.iter().map(|k| k.prefix().to_string()).collect();
    assert_eq!(documented, kinds);
}

#[test]
fn every_local_reference_resolves() {
    fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    out.push(r);
                }
                m.values().for_each(|v| refs(v, out));
            }
            Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let doc = openapi();
    let mut found = Vec::new();
    refs(&doc, &mut found);
    assert!(!found.is_empty());
    for r in found {
        let pointer = r
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("{r} is not a local reference"));
        assert!(doc.pointer(pointer).is_some(), "{r} does not resolve");
    }
}

/// `section → fields` of the `…Settings` structs of `src/config/` other than `Settings` itself.
fn settings_keys(source: &str) -> BTreeSet<(String, String)> {
    let mut keys = BTreeSet::new();
    let mut section: Option<String> = None;
    for line in source.lines() {
        let line = line.trim();
        if let Some(name) = line
            .strip_prefix("pub struct ")
            .and_then(|s| s.strip_suffix(" {"))
            .and_then(|s| s.strip_suffix("Settings"))
        {
            // `AuthThrottle` → `auth_throttle`, as serde names the field of `Settings`.
            let snake = name.chars().enumerate().fold(String::new(), |mut s, (i, c)| {
                if c.is_ascii_uppercase() && i > 0 {
                    s.push('_');
                }
                s.push(c.to_ascii_lowercase());
                s
            });
            section = (!name.is_empty()).then_some(snake);
        } else if line == "}" {
            section = None;
        } else if let (Some(section), Some(field)) = (&section, line.strip_prefix("pub "))
            && let Some((name, _)) = field.split_once(':')
        {
            keys.insert((section.clone(), name.trim().to_string()));
        }
    }
    keys
}

/// The example with its commented-out keys (`# key = value`) uncommented, and `section → key` of every key.
fn uncommented(example: &str) -> (String, BTreeSet<(String, String)>) {
    let mut text = String::new();
    let mut keys = BTreeSet::new();
    let mut section = String::new();
    for line in example.lines() {
        let candidate = line.strip_prefix("# ").unwrap_or(line);
        let key = candidate.split_once(" = ").map(|(k, _)| k).filter(|k| {
            !k.is_empty()
                && k.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        });
        if let Some(s) = line.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            section = s.to_string();
            text.push_str(line);
        } else if let Some(key) = key {
            keys.insert((section.clone(), key.to_string()));
            text.push_str(candidate);
        } else {
            text.push_str(line);
        }
        text.push('\n');
    }
    (text, keys)
}

#[test]
fn the_example_configuration_loads() {
    let path = root().join("deploy/relay.example.toml");
    let settings = Settings::load(Path::new("/tmp"), Some(&path));
    assert!(
        settings.is_ok(),
        "deploy/relay.example.toml: {:#}",
        settings.err().unwrap()
    );
}

#[test]
fn the_example_configuration_documents_every_setting() {
    let (text, documented) = uncommented(&read("deploy/relay.example.toml"));
    let keys = settings_keys(&(read("src/config/mod.rs") + &read("src/config/sections.rs")));
    assert!(
        keys.contains(&("database".to_string(), "url".to_string())),
        "the scan of src/config/ found nothing sensible: {keys:?}"
    );
    let missing: Vec<_> = keys.difference(&documented).collect();
    assert!(
        missing.is_empty(),
        "settings missing from deploy/relay.example.toml: {missing:?}"
    );
    let unknown: Vec<_> = documented.difference(&keys).collect();
    assert!(
        unknown.is_empty(),
        "deploy/relay.example.toml names keys that Settings does not have: {unknown:?}"
    );
    // The commented-out examples have the right types too (their paths need not exist here).
    let parsed: Result<Settings, _> = config::Config::builder()
        .add_source(config::File::from_str(&text, config::FileFormat::Toml))
        .build()
        .and_then(config::Config::try_deserialize);
    assert!(
        parsed.is_ok(),
        "the uncommented example does not deserialize: {:#}\n{text}",
        parsed.err().unwrap()
    );
}
