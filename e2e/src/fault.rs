//! An upstream that fails on purpose, over a raw TCP socket: the relay must
//! turn each fault into its own message in the panel.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

#[derive(Clone, Copy)]
pub enum Fault {
    /// Every answer is this status, with these extra header lines and body.
    Answer {
        status: &'static str,
        headers: &'static str,
        body: &'static str,
    },
    /// Reads the request and never answers.
    Stall,
}

impl Fault {
    pub const WRONG_KEY: Fault = Fault::Answer {
        status: "401 Unauthorized",
        headers: "Content-Type: application/json\r\n",
        body: r#"{"errors":["Invalid API key"],"error_code":"unauthorized","status_code":401}"#,
    };
    pub const RATE_LIMITED: Fault = Fault::Answer {
        status: "429 Too Many Requests",
        headers: "Content-Type: application/json\r\nRetry-After: 30\r\n",
        body: r#"{"errors":["Too many requests"],"error_code":"rate_limited","status_code":429}"#,
    };
    pub const DOWN: Fault = Fault::Answer {
        status: "503 Service Unavailable",
        headers: "Content-Type: text/html\r\n",
        body: "<html><body>Service Unavailable</body></html>",
    };

    /// Serves this fault on a free loopback port; returns the base URL.
    pub async fn serve(self) -> String {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the fault upstream");
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut request = Vec::new();
                    let mut buffer = [0u8; 4096];
                    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                        match socket.read(&mut buffer).await {
                            Ok(0) | Err(_) => return,
                            Ok(read) => request.extend_from_slice(&buffer[..read]),
                        }
                    }
                    match self {
                        Fault::Answer {
                            status,
                            headers,
                            body,
                        } => {
                            let response = format!(
                                "HTTP/1.1 {status}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                                body.len()
                            );
                            let _ = socket.write_all(response.as_bytes()).await;
                        }
                        Fault::Stall => {
                            tokio::time::sleep(std::time::Duration::from_secs(60)).await;
                        }
                    }
                });
            }
        });
        url
    }
}
