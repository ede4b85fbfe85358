//! Users (`/apis/user.openshift.io/v1/users`, `users/~` is the caller) and service accounts
//! (`/api/v1/namespaces/<p>/serviceaccounts`).

use axum::http::Method;
use berth_access::{check_dns_label, check_user_name, Principal, Verb};
use berth_metadata::{ServiceAccountRow, UserRow};
use serde_json::{json, Value};

use super::status::deleted;
use super::{created, list, ok, str_at, timestamp, Ctx, ResourceResult, Status};

fn user_json(row: &UserRow, groups: Vec<String>) -> Value {
    json!({
        "apiVersion": "user.openshift.io/v1",
        "kind": "User",
        "metadata": {
            "name": row.name,
            "uid": row.uid,
            "creationTimestamp": timestamp(row.created_at),
        },
        "groups": groups,
    })
}

fn sa_json(row: &ServiceAccountRow) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {
            "name": row.name,
            "namespace": row.project,
            "uid": row.uid,
            "creationTimestamp": timestamp(row.created_at),
        },
    })
}

/// `users/~`: who the caller is.
async fn whoami(ctx: &Ctx) -> ResourceResult {
    let meta = ctx.app.access.metadata();
    let principal = ctx.principal();
    let groups = principal.groups();
    let (uid, created_at) = match principal {
        Principal::User(name) => match meta.user(name).await? {
            Some(u) => (u.uid, u.created_at),
            None => return Err(Status::unauthorized("the user no longer exists")),
        },
        Principal::ServiceAccount { project, name } => {
            match meta.service_account(project, name).await? {
                Some(sa) => (sa.uid, sa.created_at),
                None => return Err(Status::unauthorized("the service account no longer exists")),
            }
        }
        Principal::Anonymous => (String::new(), 0),
    };
    let row = UserRow {
        name: principal.name(),
        uid,
        password_hash: None,
        created_at,
    };
    Ok(ok(user_json(&row, groups)))
}

pub async fn users(ctx: &Ctx, method: &Method, body: Value) -> ResourceResult {
    ctx.require_cluster(Verb::ManageCluster).await?;
    let meta = ctx.app.access.metadata();
    match *method {
        Method::GET => {
            let items = meta
                .users()
                .await?
                .iter()
                .map(|u| user_json(u, Principal::User(u.name.clone()).groups()))
                .collect();
            Ok(list("user.openshift.io/v1", "UserList", items))
        }
        Method::POST => {
            let name = str_at(&body, &["metadata", "name"])
                .ok_or_else(|| Status::invalid("metadata.name is required"))?;
            check_user_name(name).map_err(Status::invalid)?;
            if name.starts_with("system") {
                return Err(Status::invalid(
                    "user names starting with \"system\" are reserved",
                ));
            }
            let hash = match body.get("password") {
                None | Some(Value::Null) => None,
                Some(Value::String(p)) if !p.is_empty() && p.len() <= 1024 => {
                    Some(ctx.app.access.hash_password(p).await.map_err(|e| {
                        Status::bad_request(format!("cannot hash the password: {e}"))
                    })?)
                }
                Some(_) => {
                    return Err(Status::invalid(
                        "password must be a string of 1-1024 characters",
                    ))
                }
            };
            let row = meta.create_user(name, hash.as_deref()).await?;
            Ok(created(user_json(
                &row,
                Principal::User(row.name.clone()).groups(),
            )))
        }
        _ => Err(Status::method_not_allowed("GET, POST")),
    }
}

pub async fn user(ctx: &Ctx, method: &Method, name: &str) -> ResourceResult {
    if name == "~" {
        return match *method {
            Method::GET => whoami(ctx).await,
            _ => Err(Status::method_not_allowed("GET")),
        };
    }
    ctx.require_cluster(Verb::ManageCluster).await?;
    let meta = ctx.app.access.metadata();
    match *method {
        Method::GET => match meta.user(name).await? {
            Some(u) => Ok(ok(user_json(&u, Principal::User(u.name.clone()).groups()))),
            None => Err(Status::not_found("user", name)),
        },
        Method::DELETE => {
            if meta.delete_user(name).await? {
                Ok(deleted("users", name))
            } else {
                Err(Status::not_found("user", name))
            }
        }
        _ => Err(Status::method_not_allowed("GET, DELETE")),
    }
}

pub async fn service_accounts(
    ctx: &Ctx,
    method: &Method,
    project: &str,
    body: Value,
) -> ResourceResult {
    ctx.require_in_project(Verb::AdminProject, project).await?;
    let meta = ctx.app.access.metadata();
    match *method {
        Method::GET => {
            let items = meta
                .service_accounts(project)
                .await?
                .iter()
                .map(sa_json)
                .collect();
            Ok(list("v1", "ServiceAccountList", items))
        }
        Method::POST => {
            let name = str_at(&body, &["metadata", "name"])
                .ok_or_else(|| Status::invalid("metadata.name is required"))?;
            check_dns_label("service account", name).map_err(Status::invalid)?;
            if let Some(ns) = str_at(&body, &["metadata", "namespace"]) {
                if ns != project {
                    return Err(Status::bad_request(format!(
                        "metadata.namespace {ns:?} does not match the project {project:?} of the URL"
                    )));
                }
            }
            let row = meta.create_service_account(project, name).await?;
            Ok(created(sa_json(&row)))
        }
        _ => Err(Status::method_not_allowed("GET, POST")),
    }
}

pub async fn service_account(
    ctx: &Ctx,
    method: &Method,
    project: &str,
    name: &str,
) -> ResourceResult {
    ctx.require_in_project(Verb::AdminProject, project).await?;
    let meta = ctx.app.access.metadata();
    match *method {
        Method::GET => match meta.service_account(project, name).await? {
            Some(sa) => Ok(ok(sa_json(&sa))),
            None => Err(Status::not_found("serviceaccount", name)),
        },
        Method::DELETE => {
            if meta.delete_service_account(project, name).await? {
                Ok(deleted("serviceaccounts", name))
            } else {
                Err(Status::not_found("serviceaccount", name))
            }
        }
        _ => Err(Status::method_not_allowed("GET, DELETE")),
    }
}
