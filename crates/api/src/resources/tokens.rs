//! API tokens (`/apis/oauth.openshift.io/v1/oauthaccesstokens`): created for oneself, by
//! cluster admins for any user, by a project's admins for its service accounts; shown once;
//! listed without their secret; revoked at once.

use axum::http::Method;
use berth_access::{owner, secrets, Principal, Verb};
use berth_metadata::{ApiTokenRow, NewApiToken};
use serde_json::{json, Value};

use super::status::deleted;
use super::{created, list, ok, str_at, timestamp, Ctx, ResourceResult, Status};

/// A token made by logging in with a password lasts this long (seconds).
const LOGIN_TOKEN_SECONDS: u64 = 24 * 3600;
/// The longest lifetime a token may be given (ten years).
const MAX_TOKEN_SECONDS: u64 = 10 * 365 * 24 * 3600;

fn token_json(row: &ApiTokenRow, secret: Option<&str>) -> Value {
    let expires_in = row
        .expires_at
        .map(|e| ((e - row.created_at).max(0) / 1000) as u64)
        .unwrap_or(0);
    let mut v = json!({
        "apiVersion": "oauth.openshift.io/v1",
        "kind": "OAuthAccessToken",
        "metadata": {
            "name": row.id,
            "creationTimestamp": timestamp(row.created_at),
        },
        "userName": owner(row).name(),
        "expiresIn": expires_in,
        "expires": row.expires_at.map(timestamp),
    });
    if let Some(secret) = secret {
        v["token"] = Value::String(secret.to_string());
    }
    v
}

/// May the caller see and revoke tokens of `target`?
async fn may_manage(ctx: &Ctx, target: &Principal) -> Result<bool, Status> {
    if target == ctx.principal() || ctx.allows(Verb::ManageCluster, "").await? {
        return Ok(true);
    }
    match target {
        Principal::ServiceAccount { project, .. } => ctx.allows(Verb::AdminProject, project).await,
        _ => Ok(false),
    }
}

pub async fn collection(
    ctx: &Ctx,
    method: &Method,
    namespace: Option<&str>,
    body: Value,
) -> ResourceResult {
    let meta = ctx.app.access.metadata();
    match *method {
        Method::GET => {
            let rows = match namespace {
                Some(project) => {
                    ctx.require_in_project(Verb::AdminProject, project).await?;
                    meta.api_tokens(None, Some(project)).await?
                }
                None if ctx.allows(Verb::ManageCluster, "").await? => {
                    meta.api_tokens(None, None).await?
                }
                None => match ctx.principal() {
                    Principal::User(name) => meta.api_tokens(Some(name), None).await?,
                    Principal::ServiceAccount { project, .. } => meta
                        .api_tokens(None, Some(project))
                        .await?
                        .into_iter()
                        .filter(|t| &owner(t) == ctx.principal())
                        .collect(),
                    Principal::Anonymous => Vec::new(),
                },
            };
            let items = rows.iter().map(|r| token_json(r, None)).collect();
            Ok(list("oauth.openshift.io/v1", "OAuthAccessTokenList", items))
        }
        Method::POST => create(ctx, body).await,
        _ => Err(Status::method_not_allowed("GET, POST")),
    }
}

async fn create(ctx: &Ctx, body: Value) -> ResourceResult {
    let target = match str_at(&body, &["userName"]) {
        Some(name) => Principal::parse_subject(name).map_err(Status::invalid)?,
        None => ctx.principal().clone(),
    };
    if target.is_anonymous() {
        return Err(Status::unauthorized("log in to create a token"));
    }
    if !may_manage(ctx, &target).await? {
        return Err(Status::forbidden(format!(
            "{} may not create tokens for {target}: cluster-admin creates tokens for users, a project's admin for its service accounts",
            ctx.principal()
        )));
    }
    let seconds = match body.get("expiresIn") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_u64() {
            Some(0) => None,
            Some(s) if s <= MAX_TOKEN_SECONDS => Some(s),
            _ => {
                return Err(Status::invalid(format!(
                "expiresIn must be a number of seconds between 0 (never) and {MAX_TOKEN_SECONDS}"
            )))
            }
        },
    };
    let seconds = seconds
        .or((ctx.caller.by_password && &target == ctx.principal()).then_some(LOGIN_TOKEN_SECONDS));
    let expires_at = seconds.map(|s| berth_metadata::now_millis() + (s as i64) * 1000);
    let (secret, hash) = secrets::new_api_token();
    let id = secrets::token_id(&hash);
    let (user_name, service_account) = match &target {
        Principal::User(name) => (Some(name.as_str()), None),
        Principal::ServiceAccount { project, name } => {
            (None, Some((project.as_str(), name.as_str())))
        }
        Principal::Anonymous => (None, None),
    };
    let row = ctx
        .app
        .access
        .metadata()
        .create_api_token(&NewApiToken {
            id: &id,
            secret_sha256: &hash,
            user_name,
            service_account,
            expires_at,
        })
        .await?;
    Ok(created(token_json(&row, Some(&secret))))
}

pub async fn item(ctx: &Ctx, method: &Method, id: &str) -> ResourceResult {
    let meta = ctx.app.access.metadata();
    let row = match meta.api_token(id).await? {
        Some(row) if may_manage(ctx, &owner(&row)).await? => row,
        _ => return Err(Status::not_found("oauthaccesstoken", id)),
    };
    match *method {
        Method::GET => Ok(ok(token_json(&row, None))),
        Method::DELETE => {
            if meta.delete_api_token(id).await? {
                Ok(deleted("oauthaccesstokens", id))
            } else {
                Err(Status::not_found("oauthaccesstoken", id))
            }
        }
        _ => Err(Status::method_not_allowed("GET, DELETE")),
    }
}
