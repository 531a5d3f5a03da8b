//! An upstream that answers from a script, over a raw TCP socket, where an
//! HTTP library would tidy a fault away: truncated bodies, resets, stalls.
//! The relay's socket tests and the browser tests both stand it in for Adapty.

pub mod postgres;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// What the upstream does with one connection.
#[derive(Clone)]
pub enum Raw {
    /// Writes these bytes, then closes.
    Send(Vec<u8>),
    /// Writes these bytes, then waits this long before closing.
    SendThenStall(Vec<u8>, Duration),
    /// Closes at once with a TCP reset.
    Reset,
}

/// A whole HTTP/1.1 response with the given status line, extra header lines
/// (each ending in CRLF) and body.
pub fn http(status: &str, headers: &str, body: &str) -> Raw {
    Raw::Send(
        format!(
            "HTTP/1.1 {status}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes(),
    )
}

pub fn ok_json(body: &str) -> Raw {
    http("200 OK", "Content-Type: application/json\r\n", body)
}

/// Serves `script` on a free loopback port, one step per connection, the last
/// step repeating. Returns the base URL and a count of requests received.
pub async fn raw_upstream(script: Vec<Raw>) -> (String, Arc<AtomicUsize>) {
    assert!(!script.is_empty(), "a script needs at least one step");
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let url = format!("http://{}", listener.local_addr().expect("a bound address"));
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let index = counter.fetch_add(1, Ordering::SeqCst);
            let step = script[index.min(script.len() - 1)].clone();
            tokio::spawn(async move {
                // Read the whole request head before answering, as a server would.
                let mut request = Vec::new();
                let mut buffer = [0u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(read) => request.extend_from_slice(&buffer[..read]),
                    }
                }
                match step {
                    Raw::Send(bytes) => {
                        let _ = socket.write_all(&bytes).await;
                        let _ = socket.shutdown().await;
                    }
                    Raw::SendThenStall(bytes, wait) => {
                        let _ = socket.write_all(&bytes).await;
                        tokio::time::sleep(wait).await;
                    }
                    Raw::Reset => {
                        // Zero linger is what makes the close a reset; it
                        // does not block, which is what the deprecation warns of.
                        #[allow(deprecated)]
                        let _ = socket.set_linger(Some(Duration::ZERO));
                        drop(socket);
                    }
                }
            });
        }
    });
    (url, calls)
}
