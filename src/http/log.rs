//! The delivery log (送受信履歴), retention and purges of the admin API. Admin tokens only.

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use utoipa::IntoParams;

use super::AppState;
use super::auth::AdminCaller;
use super::bodies::ErrorBody;
use super::bodies::admin::{LogLine, LogPage, Purged, Retention};
use super::contract::params::DeliveryLogIdPath;
use super::contract::responses::*;
use super::error::ApiError;
use crate::domain::parse_time;
use crate::message::{Message, clip};
use crate::relay::RelayError;
use crate::store::{LogEntry, LogQuery};

type ApiResult<T> = Result<T, ApiError>;

fn bad(ja: impl Into<String>, en: impl Into<String>) -> ApiError {
    ApiError(RelayError::BadRequest(Message::new(ja, en)))
}

/// The schema of `from` and `to`: a date, an RFC 3339 time, or empty (ignored), as [`parse_time`] reads them. It
/// carries their examples: a parameter whose schema comes from `schema_with` keeps neither its doc comment nor
/// its other `#[param(…)]` attributes.
fn date_or_time() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{AnyOfBuilder, KnownFormat, ObjectBuilder, SchemaFormat, Type};
    let string = |format: Option<KnownFormat>| {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(format.map(SchemaFormat::KnownFormat))
    };
    AnyOfBuilder::new()
        .item(string(Some(KnownFormat::Date)))
        .item(string(Some(KnownFormat::DateTime)))
        .item(string(None).max_length(Some(0)))
        .examples(["2025-03-28", "2025-03-28T10:15:00Z"])
        .into()
}

/// The filters of the delivery log; all optional, they combine, and an empty value is ignored.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct LogParams {
    /// Entries where this office is the sender or the recipient.
    #[param(pattern = r"^([0-9]{10})?$")]
    pub office: Option<String>,
    /// Only entries in this status; `rejected` gives only rejections.
    #[param(pattern = "^(queued|downloaded|acknowledged|rejected)?$")]
    pub status: Option<String>,
    /// Entries at or after this time: RFC 3339 (any offset), or `YYYY-MM-DD` (midnight UTC).
    #[param(schema_with = date_or_time)]
    pub from: Option<String>,
    /// Entries before this time: RFC 3339 (exclusive), or `YYYY-MM-DD`, which includes that whole day (UTC).
    #[param(schema_with = date_or_time)]
    pub to: Option<String>,
    /// Only entries from this office (送信元).
    #[param(pattern = r"^([0-9]{10})?$")]
    pub sender: Option<String>,
    /// Only entries to this office (送信先).
    #[param(pattern = r"^([0-9]{10})?$")]
    pub recipient: Option<String>,
    /// The opaque cursor `next` of the previous page (`<at_ms>_<id>`): entries older than that one; empty or
    /// absent: from the newest.
    #[param(
        pattern = "^([0-9]{1,18}_.+)?$",
        example = "1743156900123_5e1d7a90-2c4b-4f6e-8a1d-3b2c9e0f4a51"
    )]
    pub after: Option<String>,
    /// Entries per page; values outside 1..500 are clamped.
    #[param(default = 50)]
    pub limit: Option<i64>,
}

fn time(s: Option<&str>, what: &str) -> ApiResult<Option<i64>> {
    match s.filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => parse_time(s).map(Some).ok_or_else(|| {
            bad(
                format!("{what}: 日付または RFC 3339 の日時ではありません: {}", clip(s)),
                format!("{what}: not a date or RFC 3339 time: {}", clip(s)),
            )
        }),
    }
}

/// Runs the log query of `p`: (entries, next cursor).
pub(super) async fn log(s: &AppState, p: &LogParams) -> ApiResult<(Vec<LogEntry>, Option<String>)> {
    let some = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
    for (what, number) in [
        ("office", &p.office),
        ("sender", &p.sender),
        ("recipient", &p.recipient),
    ] {
        if let Some(n) = some(number).filter(|n| !crate::domain::Office::valid_number(n)) {
            return Err(bad(
                format!("{what}: 事業所番号は10桁の数字です: {}", clip(&n)),
                format!("{what}: an office number is 10 digits: {}", clip(&n)),
            ));
        }
    }
    if let Some(st) = some(&p.status)
        && !matches!(st.as_str(), "queued" | "downloaded" | "acknowledged" | "rejected")
    {
        return Err(bad(
            "status は queued, downloaded, acknowledged, rejected のいずれかです。",
            "status is queued, downloaded, acknowledged or rejected",
        ));
    }
    let before = match some(&p.after) {
        Some(c) => {
            let (at, id) = c
                .split_once('_')
                .ok_or_else(|| bad("カーソルの形式が正しくありません。", "malformed cursor"))?;
            Some((
                at.parse()
                    .map_err(|_| bad("カーソルの形式が正しくありません。", "malformed cursor"))?,
                id.to_string(),
            ))
        }
        None => None,
    };
    let q = LogQuery {
        office: some(&p.office),
        status: some(&p.status),
        from: time(p.from.as_deref(), "from")?,
        // A bare date as `to` includes that whole day.
        to: time(p.to.as_deref(), "to")?.map(|t| {
            if p.to.as_deref().is_some_and(|s| s.len() == 10) {
                t + 86_400_000
            } else {
                t
            }
        }),
        sender: some(&p.sender),
        recipient: some(&p.recipient),
        before,
        limit: p.limit.unwrap_or(50).clamp(1, 500),
    };
    let items = s.relay.delivery_log(&q).await?;
    let next = (items.len() as i64 == q.limit)
        .then(|| items.last().map(|e| format!("{}_{}", e.at, e.id)))
        .flatten();
    Ok((items, next))
}

/// The delivery log (送受信履歴)
///
/// Every delivered set and every rejected submission, newest first, with sender, recipient, names, digests, status, codes and times; never contents. All filters are optional and combine; an empty value is ignored. Page with `after` = the previous page's `next`.
#[utoipa::path(
    get,
    path = "/v1/admin/deliveries",
    operation_id = "listDeliveryLog",
    tag = "delivery log",
    security(("bearerAuth" = []), ("adminCookie" = [])),
    params(LogParams),
    responses(
        (status = 200, description = "A page of the log.", body = LogPage),
        (status = 400, description = "An unknown `status`, a `from` or `to` that is neither a date nor RFC 3339, a malformed cursor, or a non-numeric `limit`.", body = ErrorBody, example = json!(error_example("bad_request", "status is queued, downloaded, acknowledged or rejected"))),
        Unauthenticated, AdminForbidden, RequestTimeout, Throttled, Internal, Unavailable
    )
)]
pub(super) async fn deliveries(
    State(s): State<AppState>,
    _a: AdminCaller,
    Query(p): Query<LogParams>,
) -> ApiResult<Json<LogPage>> {
    let (items, next) = log(&s, &p).await?;
    Ok(Json(LogPage {
        items: items.iter().map(LogLine::from).collect(),
        next,
    }))
}

/// Retention policy and flagged deliveries
///
/// The configured retention policy and the deliveries flagged by it: not acknowledged within `flag_unacknowledged_days`, bytes still kept. Acknowledged sets are purged automatically after `acknowledged_days`; flagged ones only by `POST /v1/admin/deliveries/{id}/purge`.
#[utoipa::path(
    get,
    path = "/v1/admin/retention",
    operation_id = "getRetention",
    tag = "delivery log",
    security(("bearerAuth" = []), ("adminCookie" = [])),
    responses(
        (status = 200, description = "The policy and the flagged deliveries.", body = Retention, example = json!({"policy": {"acknowledged_days": 90, "flag_unacknowledged_days": 14}, "flagged": ["5e1d7a90-2c4b-4f6e-8a1d-3b2c9e0f4a51"]})),
        Unauthenticated, AdminForbidden, RequestTimeout, Throttled, Internal, Unavailable
    )
)]
pub(super) async fn retention(State(s): State<AppState>, _a: AdminCaller) -> ApiResult<Json<Retention>> {
    let flagged = s.relay.flagged(s.relay.policies.retention, 500).await?;
    Ok(Json(Retention {
        policy: s.relay.policies.retention,
        flagged,
    }))
}

/// Purge a delivery's bytes
///
/// Removes the stored bytes of the delivery's files, whatever its status (e.g. a set flagged by retention that its recipient never acknowledged). Names, digests, events and receipts stay; downloads answer 410 from then on. Recorded as a `delivery.purged` audit event with `reason: "admin"` and the actor. No request body.
#[utoipa::path(
    post,
    path = "/v1/admin/deliveries/{id}/purge",
    operation_id = "purgeDelivery",
    tag = "delivery log",
    security(("bearerAuth" = [])),
    params(DeliveryLogIdPath),
    responses(
        (status = 200, description = "Purged.", body = Purged, example = json!({"delivery_id": "5e1d7a90-2c4b-4f6e-8a1d-3b2c9e0f4a51", "purged": true})),
        Unauthenticated, AdminForbidden,
        (status = 404, description = "No such delivery, or its bytes were purged already.", body = ErrorBody, example = json!(error_example("not_found", "no such object"))),
        RequestTimeout, TooLarge, Throttled, Internal, Unavailable
    )
)]
pub(super) async fn purge(
    State(s): State<AppState>,
    a: AdminCaller,
    Path(id): Path<String>,
) -> ApiResult<Json<Purged>> {
    s.relay
        .purge_delivery(&id, &format!("admin:{}", a.token_id), a.request_id.as_deref())
        .await?;
    Ok(Json(Purged {
        delivery_id: id,
        purged: true,
    }))
}
