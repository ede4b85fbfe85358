//! Blob uploads: start (with monolithic and mount forms), chunks, status, finish, cancel.

use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use berth_core::{Registry, UploadProgress};
use berth_oci::{Digest, ErrorCode, RepoName};

use super::{first, header_str, query_params, ApiResult};
use crate::error::ApiError;
use crate::AppState;
use berth_access::Caller;

/// The `Range` header value for an upload holding `offset` bytes.
pub fn range_value(offset: u64) -> String {
    format!("0-{}", offset.saturating_sub(1))
}

fn in_progress(repo: &RepoName, progress: &UploadProgress, status: StatusCode) -> Response {
    let location = format!("/v2/{repo}/blobs/uploads/{}", progress.reference);
    let id = progress
        .reference
        .split('.')
        .next()
        .unwrap_or_default()
        .to_string();
    (
        status,
        [
            (header::LOCATION, location),
            (header::RANGE, range_value(progress.offset)),
            (header::HeaderName::from_static("docker-upload-uuid"), id),
            (header::CONTENT_LENGTH, "0".to_string()),
        ],
    )
        .into_response()
}

fn created(repo: &RepoName, digest: &Digest) -> Response {
    (
        StatusCode::CREATED,
        [
            (header::LOCATION, format!("/v2/{repo}/blobs/{digest}")),
            (
                header::HeaderName::from_static("docker-content-digest"),
                digest.to_string(),
            ),
            (header::CONTENT_LENGTH, "0".to_string()),
        ],
    )
        .into_response()
}

fn parse_digest(s: &str) -> Result<Digest, ApiError> {
    s.parse()
        .map_err(|e: berth_oci::DigestError| ApiError::digest_invalid(e.to_string()))
}

/// Parses `Content-Range` as clients send it: `a-b`, `bytes a-b/*` or `bytes=a-b`.
fn content_range(request: &Request) -> Result<Option<(u64, u64)>, ApiError> {
    let Some(raw) = header_str(request, "content-range") else {
        return Ok(None);
    };
    let invalid = || {
        ApiError::new(
            StatusCode::RANGE_NOT_SATISFIABLE,
            ErrorCode::BlobUploadInvalid,
            format!("Content-Range {raw:?} is not of the form <start>-<end>"),
        )
    };
    let spec = raw
        .trim()
        .trim_start_matches("bytes")
        .trim_start_matches(['=', ' '])
        .split('/')
        .next()
        .unwrap_or("");
    let (a, b) = spec.split_once('-').ok_or_else(invalid)?;
    let (start, end): (u64, u64) = (
        a.trim().parse().map_err(|_| invalid())?,
        b.trim().parse().map_err(|_| invalid())?,
    );
    let len = end
        .checked_sub(start)
        .and_then(|d| d.checked_add(1))
        .ok_or_else(invalid)?;
    let declared: Option<u64> =
        header_str(request, "content-length").and_then(|v| v.trim().parse().ok());
    if let Some(n) = declared.filter(|n| *n != len) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::SizeInvalid,
            format!("Content-Range {raw:?} announces {len} bytes but Content-Length is {n}"),
        ));
    }
    Ok(Some((start, end)))
}

pub async fn start(
    app: &AppState,
    caller: &Caller,
    repo: &RepoName,
    request: Request,
    origin: &berth_core::Origin,
) -> ApiResult {
    let registry = &app.registry;
    let params = query_params(&request);
    if let Some(mount) = first(&params, "mount") {
        let digest = parse_digest(mount)?;
        if let Some(from) = first(&params, "from").and_then(|f| f.parse::<RepoName>().ok()) {
            // Mounting needs pull rights on the source; without them the client gets an
            // ordinary upload session and never learns whether the blob is there.
            if super::access::may_mount_from(app, caller, &from).await? {
                if let Some(d) = registry.mount_blob(repo, &from, &digest, origin).await? {
                    return Ok(created(repo, &d));
                }
            }
        }
        // Not mountable: fall back to an ordinary upload session, as the spec says.
        let progress = registry.start_upload(repo).await?;
        return Ok(in_progress(repo, &progress, StatusCode::ACCEPTED));
    }
    if let Some(d) = first(&params, "digest") {
        let digest = parse_digest(d)?;
        let progress = registry.start_upload(repo).await?;
        let body = request.into_body().into_data_stream();
        let digest = registry
            .finish_upload(repo, &progress.reference, &digest, body, origin)
            .await?;
        return Ok(created(repo, &digest));
    }
    let progress = registry.start_upload(repo).await?;
    Ok(in_progress(repo, &progress, StatusCode::ACCEPTED))
}

pub async fn status(registry: &Registry, repo: &RepoName, reference: &str) -> ApiResult {
    let progress = registry.upload_status(repo, reference).await?;
    Ok(in_progress(repo, &progress, StatusCode::NO_CONTENT))
}

pub async fn patch(
    registry: &Registry,
    repo: &RepoName,
    reference: &str,
    request: Request,
) -> ApiResult {
    let range = content_range(&request)?;
    let body = request.into_body().into_data_stream();
    let progress = registry.append_upload(repo, reference, range, body).await?;
    Ok(in_progress(repo, &progress, StatusCode::ACCEPTED))
}

pub async fn put(
    registry: &Registry,
    repo: &RepoName,
    reference: &str,
    request: Request,
    origin: &berth_core::Origin,
) -> ApiResult {
    let params = query_params(&request);
    let digest = match first(&params, "digest") {
        Some(d) => parse_digest(d)?,
        None => {
            return Err(ApiError::digest_invalid(
                "the digest query parameter is required to finish an upload",
            ))
        }
    };
    if let Some(range) = content_range(&request)? {
        let progress = registry.upload_status(repo, reference).await?;
        if range.0 != progress.offset {
            return Err(berth_core::RegistryError::ChunkOutOfOrder {
                offset: progress.offset,
            }
            .into());
        }
    }
    let body = request.into_body().into_data_stream();
    let digest = registry
        .finish_upload(repo, reference, &digest, body, origin)
        .await?;
    Ok(created(repo, &digest))
}

pub async fn cancel(registry: &Registry, repo: &RepoName, reference: &str) -> ApiResult {
    registry.cancel_upload(repo, reference).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
