//! A webhook receiver on loopback for notification tests: records every request (headers and
//! JSON body) and answers as told — 200, 500, or never (hanging).

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use serde_json::Value;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How the receiver answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Accept = 0,
    Fail = 1,
    Hang = 2,
}

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub headers: HeaderMap,
    pub body: Value,
    /// Whether it was answered with success (and so counts as delivered).
    pub accepted: bool,
}

#[derive(Clone, Default)]
struct State {
    mode: Arc<AtomicU8>,
    got: Arc<Mutex<Vec<Received>>>,
}

pub struct Receiver {
    pub addr: std::net::SocketAddr,
    state: State,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Receiver {
    /// Starts on a free loopback port.
    pub async fn start() -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        Receiver::serve(listener, State::default())
    }

    /// A port nothing listens on yet: events to it fail until [`Receiver::listen`].
    pub async fn not_listening() -> Receiver {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        drop(listener);
        Receiver {
            addr,
            state: State::default(),
            task: None,
        }
    }

    /// Starts listening on this receiver's port.
    pub async fn listen(&mut self) {
        let listener = tokio::net::TcpListener::bind(self.addr)
            .await
            .expect("bind the receiver's port again");
        let mut started = Receiver::serve(listener, self.state.clone());
        self.task = started.task.take();
    }

    fn serve(listener: tokio::net::TcpListener, state: State) -> Receiver {
        let addr = listener.local_addr().expect("addr");
        let shared = state.clone();
        let app = axum::Router::new().fallback(
            move |uri: axum::http::Uri, headers: HeaderMap, body: Bytes| {
                let state = shared.clone();
                async move {
                    let mode = state.mode.load(Ordering::SeqCst);
                    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                    let accepted = mode == Mode::Accept as u8;
                    if let Ok(mut got) = state.got.lock() {
                        got.push(Received {
                            path: uri.path().to_string(),
                            headers,
                            body,
                            accepted,
                        });
                    }
                    if mode == Mode::Hang as u8 {
                        tokio::time::sleep(Duration::from_secs(3600)).await;
                    }
                    if accepted {
                        StatusCode::OK
                    } else {
                        StatusCode::INTERNAL_SERVER_ERROR
                    }
                }
            },
        );
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver {
            addr,
            state,
            task: Some(task),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}/events", self.addr)
    }

    pub fn set_mode(&self, mode: Mode) {
        self.state.mode.store(mode as u8, Ordering::SeqCst);
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Received> {
        self.state.got.lock().map(|g| g.clone()).unwrap_or_default()
    }

    /// The events of the requests answered with success, in arrival order.
    pub fn delivered(&self) -> Vec<Value> {
        self.requests()
            .into_iter()
            .filter(|r| r.accepted)
            .flat_map(|r| r.body["events"].as_array().cloned().unwrap_or_default())
            .collect()
    }

    /// Waits until `done` holds for the delivered events, failing after `timeout`.
    pub async fn wait_for(&self, timeout: Duration, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let events = self.delivered();
            if done(&events) {
                return events;
            }
            if tokio::time::Instant::now() > deadline {
                panic!("the receiver did not get what was expected; it got {events:#?}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Receiver {
    /// Waits until at least `n` requests came, failing after `timeout`.
    pub async fn wait_for_requests(&self, timeout: Duration, n: usize) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let got = self.requests();
            if got.len() >= n {
                return got;
            }
            if tokio::time::Instant::now() > deadline {
                panic!("the receiver got {} requests, not {n}: {got:#?}", got.len());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}
