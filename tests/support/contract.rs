//! Every answer an API test receives is checked against the OpenAPI document the code generates: its path and
//! method must be documented, its status listed for that operation, and a JSON body must satisfy the schema
//! documented for that status (the document's `components` carried along, so its `$ref`s resolve).

use std::sync::LazyLock;

use serde_json::{Value, json};

static DOCUMENT: LazyLock<Value> = LazyLock::new(|| {
    serde_json::from_str(&careplan_relay::http::openapi_json()).expect("the generated document is JSON")
});

/// Whether the template path `template` (`/v1/inbox/{delivery_id}`) matches the request path `path`.
fn matches(template: &str, path: &str) -> bool {
    let (t, p): (Vec<&str>, Vec<&str>) = (template.split('/').collect(), path.split('/').collect());
    t.len() == p.len()
        && t.iter()
            .zip(&p)
            .all(|(t, p)| (t.starts_with('{') && t.ends_with('}') && !p.is_empty()) || t == p)
}

/// The document's operation for `method` on the request path `path` (without its query).
fn operation(method: &str, path: &str) -> &'static Value {
    let paths = DOCUMENT["paths"].as_object().expect("paths");
    // A literal path wins over a template that also matches (`/admin/offices` over `/admin/{x}`).
    let mut found: Vec<(&String, &Value)> = paths.iter().filter(|(t, _)| matches(t, path)).collect();
    found.sort_by_key(|(t, _)| t.matches('{').count());
    found
        .iter()
        .find_map(|(_, item)| item.get(method.to_ascii_lowercase()))
        .unwrap_or_else(|| panic!("{method} {path}: no such operation in the OpenAPI document"))
}

/// Follows a local `$ref` of the document.
fn resolve(v: &'static Value) -> &'static Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => DOCUMENT
            .pointer(r.trim_start_matches('#'))
            .unwrap_or_else(|| panic!("{r} does not resolve")),
        None => v,
    }
}

/// Panics unless the document lists `status` for `method` `uri` and, when it documents a JSON body for it,
/// `body` satisfies that schema.
pub fn check(method: &str, uri: &str, status: u16, body: &Value) {
    let path = uri.split('?').next().unwrap_or(uri);
    let op = operation(method, path);
    let response = op["responses"]
        .get(status.to_string())
        .map(resolve)
        .unwrap_or_else(|| {
            panic!("{method} {uri} answered {status}, which the OpenAPI document does not list: {body}")
        });
    let Some(schema) = response.pointer("/content/application~1json/schema") else {
        return;
    };
    let root = json!({ "components": DOCUMENT["components"], "allOf": [schema] });
    let validator = jsonschema::validator_for(&root)
        .unwrap_or_else(|e| panic!("{method} {path} {status}: the document's schema does not compile: {e}"));
    let errors: Vec<String> = validator
        .iter_errors(body)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{method} {uri} answered {status} with a body its documented schema refuses:\n  {}\nbody: {body}",
        errors.join("\n  ")
    );
}
