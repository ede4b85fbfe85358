//! The cloud backends — S3 (and S3-compatible servers), Google Cloud Storage, Azure Blob — as
//! the seeds' `storage` sections configure them. They are only constructors: once built, a
//! [`BlobStore`] works the same over every backend.
//!
//! At start-up each store is probed (a small object written, read and deleted) so that a wrong
//! bucket, region, endpoint or credential stops start-up with a message naming the setting; a
//! missing bucket is created first where the backend lets us (S3 with static credentials, and
//! GCS emulators that need no OAuth).

use object_store::aws::{AmazonS3Builder, AwsAuthorizer, AwsCredential};
use object_store::azure::MicrosoftAzureBuilder;
use object_store::gcp::GoogleCloudStorageBuilder;
use object_store::path::Path;
use object_store::{ClientOptions, ObjectStore, PutPayload, RetryConfig};
use std::time::Duration;

/// Retries of one storage request: a few, quickly, so that a store that is down becomes a 503
/// with Retry-After for the client within seconds instead of a request hanging for minutes.
fn retry() -> RetryConfig {
    RetryConfig {
        max_retries: 3,
        retry_timeout: Duration::from_secs(15),
        ..RetryConfig::default()
    }
}

/// Connections are given 5 s; a whole request has no time limit, because a blob read streams
/// at the pace of the client pulling it (object_store's default would cut it after 30 s).
fn client_options() -> ClientOptions {
    ClientOptions::new()
        .with_connect_timeout(Duration::from_secs(5))
        .with_timeout_disabled()
}
use std::sync::Arc;

use crate::BlobStore;

/// A configuration problem found at start-up, naming the setting to fix.
#[derive(Debug, thiserror::Error)]
#[error("{setting}: {message}")]
pub struct CloudError {
    pub setting: &'static str,
    pub message: String,
}

fn err(setting: &'static str, message: impl Into<String>) -> CloudError {
    CloudError {
        setting,
        message: message.into(),
    }
}

/// `storage.s3`.
#[derive(Debug, Clone, Default)]
pub struct S3Settings {
    pub bucket: String,
    pub region: String,
    /// An S3-compatible endpoint (`regionEndpoint`), for example `http://127.0.0.1:9000`.
    pub endpoint: Option<String>,
    pub encrypt: bool,
    pub key_id: Option<String>,
    /// Static credentials (`REGISTRY_STORAGE_S3_ACCESSKEY`/`…_SECRETKEY`); without them the
    /// default chain (environment, profile, instance metadata) is used.
    pub access_key: Option<String>,
    pub secret_key: Option<String>,
}

/// `storage.gcs`.
#[derive(Debug, Clone, Default)]
pub struct GcsSettings {
    pub bucket: String,
    /// A service account key file (`REGISTRY_STORAGE_GCS_KEYFILE`); without it the default
    /// credentials are used.
    pub key_file: Option<String>,
}

/// `storage.azure`.
#[derive(Debug, Clone, Default)]
pub struct AzureSettings {
    pub account_name: String,
    pub container: String,
    /// `REGISTRY_STORAGE_AZURE_ACCOUNTKEY`; without it the default credential chain is used.
    pub account_key: Option<String>,
    /// The blob service URL, for emulators and sovereign clouds.
    pub endpoint: Option<String>,
}

impl BlobStore {
    /// Blobs in an S3 bucket (created when missing and the credentials allow).
    pub async fn s3(s: &S3Settings) -> Result<BlobStore, CloudError> {
        if s.bucket.is_empty() {
            return Err(err("storage.s3.bucket", "is required"));
        }
        let mut b = AmazonS3Builder::from_env()
            .with_retry(retry())
            .with_client_options(client_options())
            .with_bucket_name(&s.bucket)
            .with_region(if s.region.is_empty() {
                "us-east-1"
            } else {
                &s.region
            });
        if let Some(endpoint) = &s.endpoint {
            b = b
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"))
                .with_virtual_hosted_style_request(false);
        }
        if let (Some(k), Some(sk)) = (&s.access_key, &s.secret_key) {
            b = b.with_access_key_id(k).with_secret_access_key(sk);
        }
        if s.encrypt {
            b = match &s.key_id {
                Some(key) => b.with_sse_kms_encryption(key),
                None => b.with_config(
                    "aws_server_side_encryption"
                        .parse()
                        .map_err(|e| err("storage.s3.encrypt", format!("{e}")))?,
                    "AES256",
                ),
            };
        }
        let s3 = Arc::new(
            b.build()
                .map_err(|e| err("storage.s3", format!("invalid configuration: {e}")))?,
        );
        let store: Arc<dyn ObjectStore> = s3.clone();
        if let Err(first) = probe(&store).await {
            let missing = first.contains("NoSuchBucket") || first.contains("not found");
            if !missing {
                return Err(s3_problem(s, &first));
            }
            create_s3_bucket(s).await.map_err(|e| {
                err(
                    "storage.s3.bucket",
                    format!(
                        "bucket {:?} does not exist and could not be created: {e}",
                        s.bucket
                    ),
                )
            })?;
            tracing::info!(bucket = %s.bucket, "created the S3 bucket");
            probe(&store).await.map_err(|e| s3_problem(s, &e))?;
        }
        Ok(BlobStore::from_object_store(store, "s3").with_signer(s3))
    }

    /// Blobs in a GCS bucket.
    pub async fn gcs(s: &GcsSettings) -> Result<BlobStore, CloudError> {
        if s.bucket.is_empty() {
            return Err(err("storage.gcs.bucket", "is required"));
        }
        let mut b = GoogleCloudStorageBuilder::from_env()
            .with_bucket_name(&s.bucket)
            .with_retry(retry())
            .with_client_options(client_options());
        if let Some(path) = &s.key_file {
            b = b.with_service_account_path(path);
        }
        let gcs = Arc::new(b.build().map_err(|e| {
            err(
                "REGISTRY_STORAGE_GCS_KEYFILE",
                format!("the GCS credentials are not usable: {e}"),
            )
        })?);
        let store: Arc<dyn ObjectStore> = gcs.clone();
        if let Err(first) = probe(&store).await {
            let missing = ["404", "not found", "NotFound"]
                .iter()
                .any(|m| first.contains(m));
            let created = match (missing, &s.key_file) {
                (true, Some(path)) => create_gcs_bucket_on_emulator(path, &s.bucket).await,
                _ => false,
            };
            if !created {
                return Err(gcs_problem(s, &first));
            }
            probe(&store).await.map_err(|e| gcs_problem(s, &e))?;
        }
        Ok(BlobStore::from_object_store(store, "gcs").with_signer(gcs))
    }

    /// Blobs in an Azure Blob container.
    pub async fn azure(s: &AzureSettings) -> Result<BlobStore, CloudError> {
        if s.account_name.is_empty() {
            return Err(err("storage.azure.accountName", "is required"));
        }
        if s.container.is_empty() {
            return Err(err("storage.azure.container", "is required"));
        }
        let mut b = MicrosoftAzureBuilder::from_env()
            .with_account(&s.account_name)
            .with_container_name(&s.container)
            .with_retry(retry())
            .with_client_options(client_options());
        if let Some(key) = &s.account_key {
            b = b.with_access_key(key);
        }
        if let Some(endpoint) = &s.endpoint {
            b = b
                .with_endpoint(endpoint.clone())
                .with_allow_http(endpoint.starts_with("http://"));
        }
        let azure = Arc::new(
            b.build()
                .map_err(|e| err("storage.azure", format!("invalid configuration: {e}")))?,
        );
        let store: Arc<dyn ObjectStore> = azure.clone();
        if let Err(first) = probe(&store).await {
            let created = match (
                first.contains("ContainerNotFound") || first.contains("not found"),
                &s.account_key,
            ) {
                (true, Some(key)) => crate::azure_container::create(s, key).await.is_ok(),
                _ => false,
            };
            if !created {
                return Err(azure_problem(s, &first));
            }
            tracing::info!(container = %s.container, "created the Azure container");
            probe(&store).await.map_err(|e| azure_problem(s, &e))?;
        }
        Ok(BlobStore::from_object_store(store, "azure").with_signer(azure))
    }
}

/// Writes, reads back and deletes a small object; answers the backend's error text.
async fn probe(store: &Arc<dyn ObjectStore>) -> Result<(), String> {
    let key = Path::from(format!("_berth/probe/{}", uuid::Uuid::new_v4().simple()));
    let text = |e: object_store::Error| format!("{e:?}");
    store
        .put(&key, PutPayload::from_static(b"berth"))
        .await
        .map_err(text)?;
    let got = store
        .get(&key)
        .await
        .map_err(text)?
        .bytes()
        .await
        .map_err(text)?;
    let _ = store.delete(&key).await;
    if got.as_ref() != b"berth" {
        return Err("the storage returned other bytes than were written".into());
    }
    Ok(())
}

fn s3_problem(s: &S3Settings, e: &str) -> CloudError {
    let short = shorten(e);
    if s.access_key.is_none() && e.contains("169.254.169.254") {
        return err(
            "REGISTRY_STORAGE_S3_ACCESSKEY / REGISTRY_STORAGE_S3_SECRETKEY",
            "no S3 credentials found: set these, or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, a profile or an instance role",
        );
    }
    // No HTTP status at all: the endpoint never answered (refused, unresolvable, timed out).
    if !e.contains("Status {") {
        let setting = if s.endpoint.is_some() {
            "storage.s3.regionEndpoint"
        } else {
            "storage.s3.region"
        };
        return err(setting, format!("cannot reach the S3 endpoint: {short}"));
    }
    if [
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "AccessDenied",
        "status: 403",
    ]
    .iter()
    .any(|m| e.contains(m))
    {
        return err(
            "REGISTRY_STORAGE_S3_ACCESSKEY / REGISTRY_STORAGE_S3_SECRETKEY",
            format!(
                "the S3 credentials were refused for bucket {:?}: {short}",
                s.bucket
            ),
        );
    }
    if [
        "AuthorizationHeaderMalformed",
        "PermanentRedirect",
        "IllegalLocationConstraint",
        "status: 301",
    ]
    .iter()
    .any(|m| e.contains(m))
    {
        return err(
            "storage.s3.region",
            format!(
                "bucket {:?} is not in region {:?}: {short}",
                s.bucket, s.region
            ),
        );
    }
    err(
        "storage.s3",
        format!("bucket {:?} is not usable: {short}", s.bucket),
    )
}

fn gcs_problem(s: &GcsSettings, e: &str) -> CloudError {
    let short = shorten(e);
    if e.contains("401") || e.contains("403") {
        return err(
            "REGISTRY_STORAGE_GCS_KEYFILE",
            format!(
                "the GCS credentials were refused for bucket {:?}: {short}",
                s.bucket
            ),
        );
    }
    err(
        "storage.gcs.bucket",
        format!(
            "bucket {:?} is not usable (create it first): {short}",
            s.bucket
        ),
    )
}

fn azure_problem(s: &AzureSettings, e: &str) -> CloudError {
    let short = shorten(e);
    if e.contains("403") || e.contains("AuthenticationFailed") {
        return err(
            "REGISTRY_STORAGE_AZURE_ACCOUNTKEY",
            format!(
                "the Azure credentials were refused for account {:?}: {short}",
                s.account_name
            ),
        );
    }
    err(
        "storage.azure.container",
        format!("container {:?} is not usable: {short}", s.container),
    )
}

fn shorten(e: &str) -> String {
    e.chars().take(400).collect()
}

/// Creates an S3 bucket with a signed `PUT /<bucket>` (path style). Needs static credentials.
async fn create_s3_bucket(s: &S3Settings) -> Result<(), String> {
    let key_id = s
        .access_key
        .clone()
        .or_else(|| std::env::var("AWS_ACCESS_KEY_ID").ok())
        .ok_or("no static credentials to create it with")?;
    let secret_key = s
        .secret_key
        .clone()
        .or_else(|| std::env::var("AWS_SECRET_ACCESS_KEY").ok())
        .ok_or("no static credentials to create it with")?;
    let region = if s.region.is_empty() {
        "us-east-1"
    } else {
        &s.region
    };
    let endpoint = s
        .endpoint
        .clone()
        .unwrap_or_else(|| format!("https://s3.{region}.amazonaws.com"));
    let url = format!("{}/{}", endpoint.trim_end_matches('/'), s.bucket);
    let body = if region == "us-east-1" {
        String::new()
    } else {
        format!(
            "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>{region}</LocationConstraint></CreateBucketConfiguration>"
        )
    };
    let mut request = http::Request::builder()
        .method("PUT")
        .uri(&url)
        .body(object_store::client::HttpRequestBody::from(body.clone()))
        .map_err(|e| e.to_string())?;
    let credential = AwsCredential {
        key_id,
        secret_key,
        token: std::env::var("AWS_SESSION_TOKEN").ok(),
    };
    AwsAuthorizer::new(&credential, "s3", region).authorize(&mut request, None);
    let response = reqwest::Client::new()
        .put(&url)
        .headers(request.headers().clone())
        .body(body)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    if status.is_success() || status.as_u16() == 409 {
        return Ok(());
    }
    Err(format!(
        "{status}: {}",
        shorten(&response.text().await.unwrap_or_default())
    ))
}

/// Creates a bucket on a GCS emulator: a key file with `gcs_base_url` and `disable_oauth`
/// (the form object_store reads for emulators). Real GCS needs OAuth; there the bucket must
/// exist.
async fn create_gcs_bucket_on_emulator(key_file: &str, bucket: &str) -> bool {
    let Ok(text) = std::fs::read_to_string(key_file) else {
        return false;
    };
    let Ok(key) = serde_json::from_str::<serde_json::Value>(&text) else {
        return false;
    };
    let (Some(base), true) = (
        key["gcs_base_url"].as_str(),
        key["disable_oauth"].as_bool().unwrap_or(false),
    ) else {
        return false;
    };
    let project = key["project_id"].as_str().unwrap_or("berth");
    let url = format!(
        "{}/storage/v1/b?project={project}",
        base.trim_end_matches('/')
    );
    match reqwest::Client::new()
        .post(url)
        .json(&serde_json::json!({ "name": bucket }))
        .send()
        .await
    {
        Ok(r) if r.status().is_success() || r.status().as_u16() == 409 => {
            tracing::info!(bucket, "created the GCS bucket on the emulator");
            true
        }
        _ => false,
    }
}
