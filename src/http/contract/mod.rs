//! The OpenAPI document of the HTTP API, derived from the code: the operations come from the `#[utoipa::path]`
//! of each handler as the router registers it (`http::api`), the schemas from the typed bodies
//! (`utoipa::ToSchema`), and this module adds what no type carries: the document's introduction, its tags, the
//! security schemes and the shared error responses. `careplan-relay openapi` writes it; `docs/openapi.json` is
//! that output, and `tests/openapi.rs` fails when the two differ.

pub(super) mod pages;
pub(super) mod params;
pub(super) mod responses;

use utoipa::openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{InfoBuilder, LicenseBuilder, OpenApi, SecurityRequirement, Server, Tag};

/// The tags of the document, in order: (name, description).
const TAGS: &[(&str, &str)] = &[
    (
        "meta",
        "Liveness, this document, and the receipt-signing public keys. No authentication.",
    ),
    (
        "submissions",
        "Sending a set (送信) and checking one without sending it.",
    ),
    (
        "inbox",
        "The recipient's side (受信): list, long-poll, download, acknowledge.",
    ),
    ("outbox", "The sender's side: what was sent and where it stands."),
    (
        "receipts",
        "Signed receipts that the sender or the recipient can keep as proof.",
    ),
    (
        "admin",
        "Offices (事業所) and their credentials. Admin token only.",
    ),
    (
        "delivery log",
        "Every submission and rejection (送受信履歴), retention flags and purges. Admin token only.",
    ),
    (
        "audit",
        "The hash-chained audit trail (監査ログ): reading, verifying, and exporting it for the care information \
         platform. Admin token only.",
    ),
    ("metrics", "Prometheus metrics. Admin token only."),
    (
        "admin page",
        "The admin web page (HTML): a session cookie from logging in with an admin token, and forms that make the \
         admin API's changes, each checked against the session's CSRF token.",
    ),
];

const BEARER: &str = "`Authorization: Bearer <token>`. Office endpoints take a token issued for the office \
(`careplan-relay token issue --office NUMBER`, or `POST /v1/admin/offices/{number}/tokens`); admin tokens are refused \
there (403). Admin endpoints take an admin token (`careplan-relay token issue --admin`); office tokens are refused \
there (403). Only a token's hash is stored.";

const MUTUAL_TLS: &str = "A TLS client certificate issued by the configured client CA (`tls.client_ca`; \
`careplan-relay cert issue --office NUMBER`) whose subject carries the 10-digit office number as its CN or \
serialNumber.";

const ADMIN_COOKIE: &str = "The admin web page's session: an opaque random id (not the admin token) set by \
`POST /admin/login`, HttpOnly, Secure, SameSite=Strict, Path=/admin. It ends at logout, after \
`admin_page.session_secs` (default 8 h), or when its admin token is revoked. Admin endpoints read it only when the \
request has no `Authorization` header, and only to read: changes through `/v1/admin/…` (POST, PATCH, DELETE) need a \
bearer admin token (403 otherwise).";

/// Completes the document that the router gathered from the handlers.
pub(super) fn complete(mut doc: OpenApi) -> OpenApi {
    doc.info = InfoBuilder::new()
        .title("careplan-relay")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(include_str!("intro.md").trim_end()))
        .license(Some(
            LicenseBuilder::new()
                .name("Apache-2.0")
                .identifier(Some("Apache-2.0"))
                .build(),
        ))
        .build();
    let mut server = Server::new("https://localhost:8443");
    server.description = Some(
        "The default listener (`server.listen = \"127.0.0.1:8443\"`), with the development CA under \
         `<data-dir>/tls/`."
            .to_string(),
    );
    doc.servers = Some(vec![server]);
    doc.security = Some(vec![
        SecurityRequirement::new("bearerAuth", Vec::<String>::new()),
        SecurityRequirement::new("mutualTLS", Vec::<String>::new()),
    ]);
    doc.tags = Some(
        TAGS.iter()
            .map(|(name, description)| {
                let mut t = Tag::new(*name);
                t.description = Some((*description).to_string());
                t
            })
            .collect(),
    );
    let components = doc.components.get_or_insert_with(Default::default);
    let mut bearer = Http::new(HttpAuthScheme::Bearer);
    bearer.description = Some(BEARER.to_string());
    components.add_security_scheme("bearerAuth", SecurityScheme::Http(bearer));
    components.add_security_scheme(
        "mutualTLS",
        SecurityScheme::MutualTls {
            description: Some(MUTUAL_TLS.to_string()),
            deprecated: None,
            extensions: None,
        },
    );
    components.add_security_scheme(
        "adminCookie",
        SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
            "careplan_admin",
            ADMIN_COOKIE,
        ))),
    );
    // The signed text of a receipt is a string in its schema; what it holds is documented beside it.
    let mut payload = vec![(
        "ReceiptPayload".to_string(),
        <crate::relay::ReceiptPayload as utoipa::PartialSchema>::schema(),
    )];
    <crate::relay::ReceiptPayload as utoipa::ToSchema>::schemas(&mut payload);
    components.schemas.extend(payload);
    responses::add(components);
    exact(&mut doc);
    doc
}

/// What the types and attributes cannot say, said on the generated document:
/// - a service type is a code of the spec's table (`enum`), not only two characters;
/// - a multipart upload has `file` parts only (others are refused with 400);
/// - a raw upload (any content type but multipart) is any bytes;
/// - the body of `POST /v1/submissions` and `POST /v1/validate` may be absent (an empty raw file named by `name`),
///   and so may an admin page form's: without a session the page answers 303 to the login form before reading it,
///   and with a session a form without its CSRF token is a 403.
fn exact(doc: &mut OpenApi) {
    use utoipa::openapi::schema::{AdditionalProperties, Schema};
    use utoipa::openapi::{RefOr, Required};
    if let Some(components) = doc.components.as_mut() {
        if let (Some(RefOr::T(Schema::Object(o))), Ok(spec)) = (
            components.schemas.get_mut("ServiceType"),
            crate::spec::Spec::get(),
        ) {
            o.enum_values = Some(
                spec.service_type_codes()
                    .into_iter()
                    .map(|c| serde_json::Value::String(c.to_string()))
                    .collect(),
            );
        }
        if let Some(RefOr::T(Schema::Object(o))) = components.schemas.get_mut("UploadForm") {
            o.additional_properties = Some(Box::new(AdditionalProperties::FreeForm(false)));
        }
    }
    for (path, item) in doc.paths.paths.iter_mut() {
        let upload = path == "/v1/submissions" || path == "/v1/validate";
        let optional = upload || path.starts_with("/admin/");
        let Some(RefOr::T(body)) = item.post.as_mut().and_then(|op| op.request_body.as_mut()) else {
            continue;
        };
        if optional {
            body.required = Some(Required::False);
        }
        // A raw upload is the file's bytes, whatever they hold: the standard, not a schema, says what they must be.
        if upload {
            for (media_type, content) in body.content.iter_mut() {
                if let (false, RefOr::T(content)) = (media_type == "multipart/form-data", content) {
                    content.schema = Some(RefOr::T(Schema::Object(
                        utoipa::openapi::schema::ObjectBuilder::new()
                            .schema_type(utoipa::openapi::schema::SchemaType::AnyValue)
                            .description(Some("The file's bytes, as they are."))
                            .build(),
                    )));
                }
            }
        }
    }
}

/// The document as the relay serves it and `docs/openapi.json` holds it: pretty JSON with a final newline.
pub fn to_json(doc: &OpenApi) -> String {
    let mut text = serde_json::to_string_pretty(doc).unwrap_or_default();
    text.push('\n');
    text
}
