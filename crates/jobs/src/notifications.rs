//! Delivering notification events from the outbox to each endpoint, at least once and in order.
//!
//! Every replica runs one deliverer per endpoint; the one holding the endpoint's lease
//! (`notify:<name>` in the `leases` table) sends its pending events oldest first, one envelope
//! (`{"events": [event]}`) per request, and marks each delivered on a 2xx or 3xx answer. A
//! failure is recorded on the event (attempts, last error) and the same event is tried again:
//! at once, until `threshold` failures in a row, then after `backoff` each time. A replica that
//! dies loses the lease when it expires and another goes on from the first undelivered event,
//! so an event being sent at that moment may arrive twice — never not at all. Pushes only write
//! rows: a slow or dead endpoint never slows them.

use berth_core::{EndpointFilter, Registry, ENVELOPE_MEDIA_TYPE};
use std::time::{Duration, Instant};

/// An endpoint as configured (Distribution's keys).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointConfig {
    pub filter: EndpointFilter,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub timeout: Duration,
    pub threshold: u32,
    pub backoff: Duration,
}

/// How long delivered events stay visible (`berth get notifications`).
pub const DELIVERED_RETENTION: Duration = Duration::from_secs(24 * 3600);
/// How often an idle deliverer looks for events written by other replicas.
const POLL: Duration = Duration::from_secs(1);
const BATCH: i64 = 100;

/// Runs the deliverers of every endpoint until the process ends.
pub async fn deliver_notifications(
    registry: Registry,
    endpoints: Vec<EndpointConfig>,
    instance: String,
) {
    let mut tasks = Vec::new();
    for endpoint in endpoints {
        tasks.push(tokio::spawn(deliver(
            registry.clone(),
            endpoint,
            instance.clone(),
        )));
    }
    for t in tasks {
        let _ = t.await;
    }
}

async fn deliver(registry: Registry, endpoint: EndpointConfig, instance: String) {
    let name = endpoint.filter.name.clone();
    let http = match reqwest::Client::builder()
        .timeout(endpoint.timeout)
        .connect_timeout(endpoint.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(endpoint = %name, error = %e, "cannot set up HTTP for notifications");
            return;
        }
    };
    let meta = registry.metadata().clone();
    let lease_name = format!("notify:{name}");
    // Held a good while longer than one attempt can take, and renewed before each.
    let lease = (endpoint.timeout * 3).max(Duration::from_secs(15));
    let mut failures: u32 = 0;
    let mut last_trim: Option<Instant> = None;
    loop {
        if last_trim.is_none_or(|t| t.elapsed() > Duration::from_secs(600)) {
            last_trim = Some(Instant::now());
            let cutoff = berth_metadata::now_millis() - DELIVERED_RETENTION.as_millis() as i64;
            if let Err(e) = meta.trim_delivered_notifications(cutoff).await {
                tracing::warn!(error = %e, "trimming delivered notifications failed");
            }
        }
        let pending = match meta.pending_notifications(&name, BATCH).await {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(endpoint = %name, error = %e, "cannot read pending notifications; will retry");
                tokio::time::sleep(POLL).await;
                continue;
            }
        };
        if pending.is_empty() {
            meta.notifications_written(POLL).await;
            continue;
        }
        for event in &pending {
            // The lease is taken (or renewed) only when there is something to send, so an idle
            // deliverer writes nothing; another replica holding it sends instead.
            match meta
                .try_lease(&lease_name, &instance, lease.as_millis() as i64)
                .await
            {
                Ok(true) => {}
                Ok(false) => {
                    tokio::time::sleep(POLL).await;
                    break;
                }
                Err(e) => {
                    tracing::warn!(endpoint = %name, error = %e, "cannot take the notification lease; will retry");
                    tokio::time::sleep(POLL).await;
                    break;
                }
            }
            let outcome = send(&http, &endpoint, &event.payload).await;
            let recorded = meta
                .notification_attempted(
                    &event.event_id,
                    &name,
                    outcome.as_ref().err().map(String::as_str),
                )
                .await;
            if let Err(e) = recorded {
                tracing::warn!(endpoint = %name, error = %e, "cannot record a notification attempt");
            }
            match outcome {
                Ok(()) => failures = 0,
                Err(error) => {
                    failures = failures.saturating_add(1);
                    tracing::warn!(endpoint = %name, event = %event.event_id, failures, %error, "notification not delivered; will retry");
                    let wait = if failures >= endpoint.threshold {
                        endpoint.backoff
                    } else {
                        Duration::from_millis(50)
                    };
                    tokio::time::sleep(wait).await;
                    // In order: the same event first, next time round.
                    break;
                }
            }
        }
    }
}

/// Posts one event in an envelope; `Err` with a reason unless the endpoint answered 2xx or 3xx.
async fn send(
    http: &reqwest::Client,
    endpoint: &EndpointConfig,
    event: &str,
) -> Result<(), String> {
    let body = format!("{{\"events\":[{event}]}}");
    let mut request = http
        .post(&endpoint.url)
        .header(reqwest::header::CONTENT_TYPE, ENVELOPE_MEDIA_TYPE)
        .body(body);
    for (name, value) in &endpoint.headers {
        request = request.header(name.as_str(), value.as_str());
    }
    match request.send().await {
        Ok(response) if response.status().is_success() || response.status().is_redirection() => {
            Ok(())
        }
        Ok(response) => Err(format!("the endpoint answered {}", response.status())),
        Err(e) if e.is_timeout() => Err(format!("no answer within {:?}", endpoint.timeout)),
        Err(e) => Err(format!("cannot reach the endpoint: {}", root_cause(&e))),
    }
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// How long one trigger call may take.
const TRIGGER_TIMEOUT: Duration = Duration::from_secs(5);

/// Delivers image change trigger firings until the process ends: each trigger's firings in
/// order, at least once; a trigger whose URL fails is retried a second later without holding
/// up the others. `host` is how clients reach this registry, for the pull spec sent.
pub async fn deliver_triggers(registry: Registry, instance: String, host: String) {
    let http = match reqwest::Client::builder()
        .timeout(TRIGGER_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "cannot set up HTTP for image change triggers");
            return;
        }
    };
    let meta = registry.metadata().clone();
    let lease = (TRIGGER_TIMEOUT * 3).as_millis() as i64;
    loop {
        let endpoints = match meta.triggers_with_pending_firings().await {
            Ok(e) => e,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read trigger firings; will retry");
                tokio::time::sleep(POLL).await;
                continue;
            }
        };
        if endpoints.is_empty() {
            meta.notifications_written(POLL).await;
            continue;
        }
        let mut progressed = false;
        for endpoint in endpoints {
            match meta.try_lease("notify:triggers", &instance, lease).await {
                Ok(true) => {}
                _ => break,
            }
            progressed |= fire_one(&http, &meta, &endpoint, &host).await;
        }
        if !progressed {
            tokio::time::sleep(POLL).await;
        }
    }
}

/// Sends the pending firings of one trigger in order until one fails; whether any went.
async fn fire_one(
    http: &reqwest::Client,
    meta: &berth_metadata::Metadata,
    endpoint: &str,
    host: &str,
) -> bool {
    let Some((project, name)) = endpoint
        .strip_prefix("trigger:")
        .and_then(|r| r.split_once('/'))
    else {
        return false;
    };
    let trigger = match meta.trigger(project, name).await {
        Ok(Some(t)) => t,
        _ => return false,
    };
    let firings = match meta.pending_notifications(endpoint, BATCH).await {
        Ok(f) => f,
        Err(_) => return false,
    };
    let headers: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&trigger.headers).unwrap_or_default();
    let mut sent = false;
    for firing in firings {
        let mut payload: serde_json::Value =
            serde_json::from_str(&firing.payload).unwrap_or_default();
        payload["dockerImageReference"] =
            serde_json::Value::String(format!("{host}/{}@{}", firing.repository, firing.digest));
        let mut request = http.post(&trigger.url).json(&payload);
        for (h, v) in &headers {
            if let Some(v) = v.as_str() {
                request = request.header(h.as_str(), v);
            }
        }
        let outcome = match request.send().await {
            Ok(r) if r.status().is_success() || r.status().is_redirection() => Ok(()),
            Ok(r) => Err(format!("the trigger's URL answered {}", r.status())),
            Err(e) if e.is_timeout() => Err(format!("no answer within {TRIGGER_TIMEOUT:?}")),
            Err(e) => Err(format!(
                "cannot reach the trigger's URL: {}",
                root_cause(&e)
            )),
        };
        let _ = meta
            .notification_attempted(
                &firing.event_id,
                endpoint,
                outcome.as_ref().err().map(String::as_str),
            )
            .await;
        match outcome {
            Ok(()) => {
                let _ = meta.trigger_fired(project, name, &firing.digest).await;
                sent = true;
            }
            Err(error) => {
                tracing::warn!(trigger = %endpoint, %error, "image change trigger not delivered; will retry");
                break;
            }
        }
    }
    sent
}
