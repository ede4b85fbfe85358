//! A TCP proxy that a test can take down and bring back: a backend (the object store, the
//! database) becomes unreachable — every open connection cut, new ones closed at once — without
//! losing its data.

use std::sync::Arc;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

pub struct FaultProxy {
    pub addr: String,
    up: watch::Sender<bool>,
}

impl FaultProxy {
    /// Starts forwarding from a free loopback port to `target` (`host:port`).
    pub async fn start(target: &str) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy address").to_string();
        let (up, watcher) = watch::channel(true);
        let target = Arc::new(target.to_string());
        tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    return;
                };
                let mut state = watcher.clone();
                if !*state.borrow() {
                    drop(client);
                    continue;
                }
                let target = target.clone();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(target.as_str()).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = state.wait_for(|up| !*up) => {}
                    }
                });
            }
        });
        FaultProxy { addr, up }
    }

    /// Cuts every connection and refuses new ones.
    pub fn down(&self) {
        let _ = self.up.send(false);
    }

    pub fn up(&self) {
        let _ = self.up.send(true);
    }
}
