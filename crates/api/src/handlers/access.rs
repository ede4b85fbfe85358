//! Access control for `/v2/`: which verb each endpoint and method needs, checked against the
//! caller's roles (and, for registry tokens, against what the token grants) before anything
//! else happens.

use axum::http::{HeaderMap, Method, StatusCode};
use berth_access::{Caller, Principal, Verb};
use berth_oci::{ErrorCode, RepoName};

use crate::auth::Challenge;
use crate::error::ApiError;
use crate::route::Endpoint;
use crate::AppState;

/// What a request on an endpoint needs: a verb on a repository, and the registry token action
/// that covers it.
fn needs(endpoint: &Endpoint, method: &Method) -> Option<(RepoName, Verb, &'static str)> {
    let (repo, verb, action) = match (endpoint, method) {
        (Endpoint::Base | Endpoint::Catalog, _) => return None,
        (Endpoint::Tags(r) | Endpoint::Referrers(r, _), _) => (r, Verb::Pull, "pull"),
        (Endpoint::Manifest(r, _) | Endpoint::Blob(r, _), &Method::GET | &Method::HEAD) => {
            (r, Verb::Pull, "pull")
        }
        (Endpoint::Manifest(r, _) | Endpoint::Blob(r, _), &Method::DELETE) => {
            (r, Verb::Push, "delete")
        }
        (Endpoint::Manifest(r, _) | Endpoint::Blob(r, _), _) => (r, Verb::Push, "push"),
        (Endpoint::StartUpload(r) | Endpoint::Upload(r, _), _) => (r, Verb::Push, "push"),
    };
    Some((repo.clone(), verb, action))
}

/// Checks that `caller` may make this request. `Ok` means go on.
pub async fn authorize(
    app: &AppState,
    caller: &Caller,
    endpoint: &Endpoint,
    method: &Method,
    headers: &HeaderMap,
) -> Result<(), ApiError> {
    if !app.access.enabled() {
        return Ok(());
    }
    let Some((repo, verb, action)) = needs(endpoint, method) else {
        // `/v2/` tells clients whether they are logged in; the catalog is filtered instead.
        if matches!(endpoint, Endpoint::Base) && caller.principal.is_anonymous() {
            return Err(Challenge::for_request(app, headers, None)
                .unauthorized("authentication required: log in with a user's token", None));
        }
        return Ok(());
    };
    let scope = format!(
        "repository:{repo}:{}",
        if verb == Verb::Pull {
            "pull"
        } else {
            "pull,push"
        }
    );
    let challenge = Challenge::for_request(app, headers, Some(scope));
    let allowed = app
        .access
        .allows(&caller.principal, verb, repo.project())
        .await
        .map_err(|e| ApiError::from(berth_core::RegistryError::Metadata(e)))?;
    if !allowed {
        if caller.principal.is_anonymous() {
            return Err(challenge.unauthorized(
                format!("authentication required to {} {repo}", verb.describe()),
                None,
            ));
        }
        if verb == Verb::Push {
            check_project_exists(app, &repo).await?;
        }
        return Err(denied(&caller.principal, verb, &repo));
    }
    if let Some(grants) = &caller.registry_grants {
        let covered = grants.iter().any(|g| {
            g.allows(repo.as_str(), action)
                || (action == "delete" && g.allows(repo.as_str(), "push"))
        });
        if !covered {
            return Err(challenge.unauthorized(
                format!("the registry token does not grant {action} on {repo}: request a token with that scope"),
                Some("insufficient_scope"),
            ));
        }
    }
    Ok(())
}

/// Whether the caller may pull from `from`, for a cross-repository mount: without that the
/// mount is not attempted and the client gets an ordinary upload session.
pub async fn may_mount_from(
    app: &AppState,
    caller: &Caller,
    from: &RepoName,
) -> Result<bool, ApiError> {
    if !app.access.enabled() {
        return Ok(true);
    }
    let by_role = app
        .access
        .allows(&caller.principal, Verb::Pull, from.project())
        .await
        .map_err(|e| ApiError::from(berth_core::RegistryError::Metadata(e)))?;
    let by_token = caller
        .registry_grants
        .as_ref()
        .is_none_or(|g| g.iter().any(|g| g.allows(from.as_str(), "pull")));
    Ok(by_role && by_token)
}

/// With access control on, a push into a project that does not exist is refused before any
/// data is sent, with what to do about it.
pub async fn check_project_exists(app: &AppState, repo: &RepoName) -> Result<(), ApiError> {
    if !app.access.enabled() {
        return Ok(());
    }
    let exists = app
        .access
        .metadata()
        .project(repo.project())
        .await
        .map_err(|e| ApiError::from(berth_core::RegistryError::Metadata(e)))?
        .is_some();
    if exists {
        Ok(())
    } else {
        Err(ApiError::from(berth_core::RegistryError::ProjectUnknown(
            repo.project().to_string(),
        )))
    }
}

fn denied(principal: &Principal, verb: Verb, repo: &RepoName) -> ApiError {
    let roles = berth_access::roles::roles_allowing(verb)
        .into_iter()
        .filter(|r| !matches!(*r, "cluster-admin" | "admin" | "system:registry"))
        .collect::<Vec<_>>()
        .join(", ");
    ApiError::new(
        StatusCode::FORBIDDEN,
        ErrorCode::Denied,
        format!(
            "{principal} may not {} {repo}: that needs one of the roles {roles} on project {} (ask its admin: berth policy add-role-to-user ROLE {principal} -n {})",
            verb.describe(),
            repo.project(),
            repo.project()
        ),
    )
}
