//! The admin page's actions on office users of the portal: create one (its one-time password shown once), reset,
//! unlock and disable. As every action form: the session's CSRF token, and the change audited through `relay` with
//! the admin token's id as the actor.

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, State};
use secrecy::ExposeSecret;

use super::actions::{ActionForm, checked, refused, shown_once};
use super::{Page, redirect};
use crate::http::AppState;
use crate::http::auth::AdminCaller;
use crate::http::contract::pages::PageAction;
use crate::http::error::ApiError;
use crate::relay::RelayError;

/// Create an office user of the portal from the dashboard
///
/// Like `careplan-relay user add`; the answer shows the one-time password once. The form must carry the session's CSRF token (403 otherwise); the change is an audit event with the admin token's id as its actor.
#[utoipa::path(
    post,
    path = "/admin/offices/{number}/users",
    operation_id = "adminPageAddUser",
    tag = "admin page",
    security(("adminCookie" = []), ()),
    params(("number" = String, Path, description = "The office's 10-digit number (事業所番号).")),
    request_body(content = ActionForm, content_type = "application/x-www-form-urlencoded"),
    responses(PageAction)
)]
pub(in crate::http) async fn add_user(
    State(s): State<AppState>,
    Path(number): Path<String>,
    who: Result<AdminCaller, ApiError>,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Page {
    let (who, f, actor) = checked(who, form)?;
    let login = f.login.trim();
    let password = s.relay.add_user(&number, login, &actor).await.map_err(refused)?;
    let what = format!(
        "事業所 {number} の利用者 {login} の初回パスワード（初回ログインで変更）。 \
         The one-time password of {login} at office {number} (changed at the first login)."
    );
    Ok(shown_once(
        &who,
        "利用者を作成しました User created",
        &what,
        password.expose_secret(),
    ))
}

/// Reset, unlock or disable an office user from the dashboard
///
/// Like `careplan-relay user reset|unlock|disable`; `reset` shows the new one-time password once. The form must carry the session's CSRF token (403 otherwise); the change is an audit event with the admin token's id as its actor.
#[utoipa::path(
    post,
    path = "/admin/users/{login}/{action}",
    operation_id = "adminPageUserAction",
    tag = "admin page",
    security(("adminCookie" = []), ()),
    params(("login" = String, Path, description = "The user's login ID."), ("action" = String, Path, description = "`reset` (a new one-time password), `unlock` or `disable`; anything else is 404.")),
    request_body(content = ActionForm, content_type = "application/x-www-form-urlencoded"),
    responses(PageAction)
)]
pub(in crate::http) async fn user_action(
    State(s): State<AppState>,
    Path((login, action)): Path<(String, String)>,
    who: Result<AdminCaller, ApiError>,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Page {
    let (who, _, actor) = checked(who, form)?;
    match action.as_str() {
        "reset" => {
            let password = s.relay.reset_user(&login, None, &actor).await.map_err(refused)?;
            let what = format!(
                "利用者 {login} の新しい初回パスワード（次のログインで変更）。 \
                 The new one-time password of {login} (changed at the next login)."
            );
            return Ok(shown_once(
                &who,
                "パスワードを再設定しました Password reset",
                &what,
                password.expose_secret(),
            ));
        }
        "unlock" => s.relay.unlock_user(&login, None, &actor).await,
        "disable" => s.relay.disable_user(&login, None, &actor).await,
        _ => Err(RelayError::NotFound),
    }
    .map_err(refused)?;
    Ok(redirect("/admin/#offices", None))
}
