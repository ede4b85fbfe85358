//! Creating an Azure Blob container with the account key (Shared Key authorization): the one
//! request object_store does not make for us.

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::cloud::AzureSettings;

const API_VERSION: &str = "2021-08-06";

/// `PUT <endpoint>/<container>?restype=container`, signed with the account key.
pub async fn create(s: &AzureSettings, account_key: &str) -> Result<(), String> {
    let endpoint = s
        .endpoint
        .clone()
        .unwrap_or_else(|| format!("https://{}.blob.core.windows.net", s.account_name));
    let url = format!(
        "{}/{}?restype=container",
        endpoint.trim_end_matches('/'),
        s.container
    );
    let path = reqwest::Url::parse(&url)
        .map_err(|e| e.to_string())?
        .path()
        .to_string();
    let date = httpdate::fmt_http_date(std::time::SystemTime::now());
    let string_to_sign = format!(
        "PUT\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:{date}\nx-ms-version:{API_VERSION}\n/{}{path}\nrestype:container",
        s.account_name
    );
    let key = base64::engine::general_purpose::STANDARD
        .decode(account_key)
        .map_err(|_| "the account key is not base64".to_string())?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).map_err(|e| e.to_string())?;
    mac.update(string_to_sign.as_bytes());
    let signature = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    let response = reqwest::Client::new()
        .put(&url)
        .header("x-ms-date", date)
        .header("x-ms-version", API_VERSION)
        .header("content-length", "0")
        .header(
            "authorization",
            format!("SharedKey {}:{signature}", s.account_name),
        )
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    if status.is_success() || status.as_u16() == 409 {
        return Ok(());
    }
    Err(format!(
        "{status}: {}",
        response
            .text()
            .await
            .unwrap_or_default()
            .chars()
            .take(300)
            .collect::<String>()
    ))
}
