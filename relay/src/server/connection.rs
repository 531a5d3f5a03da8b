//! The bytes of one client connection, under hyper: a write deadline and a
//! least pace, so a client that stops reading, or reads a trickle, cannot
//! hold an answer (and its share of the relay's memory) for long; and the
//! security headers on the few answers hyper writes by itself.
//!
//! hyper answers a request it cannot parse (400, 414, 431) straight to the
//! socket, without asking the relay's service, so the relay's header layer
//! never sees it. Such an answer is recognised as hyper writes it: a lone
//! response head, without the Content-Security-Policy the relay puts on
//! every answer of its own. The security headers are written into it.

use crate::security_headers;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::LazyLock;
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_io_timeout::TimeoutStream;

pub struct Connection {
    inner: Pin<Box<TimeoutStream<TcpStream>>>,
    /// hyper's own answer, with the headers added, while it is being written.
    rewritten: Option<Rewritten>,
    pace: Pace,
}

/// The least a client must take while bytes wait for it: this many a
/// second, counted over windows of the write timeout. A modem's pace;
/// a client reading a trickle to keep an answer held gets cut off.
const LEAST_BYTES_PER_SEC: u64 = 8 * 1024;

/// How fast a client takes what waits for it. The clock runs from the
/// first write the socket could not take at once until everything written
/// has gone out (a flush that completes): an idle connection is not slow.
struct Pace {
    window: Duration,
    least: u64,
    /// Since when bytes have been waiting, and how many went out since.
    waiting: Option<(Instant, u64)>,
}

impl Pace {
    fn new(window: Duration) -> Pace {
        Pace {
            window,
            least: LEAST_BYTES_PER_SEC.saturating_mul(window.as_secs().max(1)),
            waiting: None,
        }
    }

    /// Before a write: fails once a whole window passed with too little taken.
    fn check(&mut self) -> io::Result<()> {
        let Some((since, taken)) = self.waiting else {
            return Ok(());
        };
        if since.elapsed() < self.window {
            return Ok(());
        }
        if taken < self.least {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client takes its answer too slowly",
            ));
        }
        self.waiting = Some((Instant::now(), 0));
        Ok(())
    }

    fn wrote(&mut self, result: &Poll<io::Result<usize>>) {
        match (result, &mut self.waiting) {
            (Poll::Pending, None) => self.waiting = Some((Instant::now(), 0)),
            (Poll::Ready(Ok(written)), Some((_, taken))) => *taken += *written as u64,
            _ => {}
        }
    }

    fn caught_up(&mut self) {
        self.waiting = None;
    }
}

struct Rewritten {
    bytes: Vec<u8>,
    sent: usize,
    /// The length hyper asked to write, reported once all is sent.
    stands_for: usize,
}

/// The header lines added to hyper's own answers: no script, no caching.
static HEADER_LINES: LazyLock<Vec<u8>> = LazyLock::new(|| {
    let mut lines = format!(
        "content-security-policy: {}\r\ncache-control: no-store\r\n",
        security_headers::policy("")
    );
    for (name, value) in security_headers::HEADERS {
        lines += &format!("{name}: {value}\r\n");
    }
    lines.into_bytes()
});

impl Connection {
    /// A write that makes no progress for `write_timeout` fails, and hyper
    /// then drops the connection and the answer it held.
    pub fn new(stream: TcpStream, write_timeout: Duration) -> Connection {
        let mut inner = TimeoutStream::new(stream);
        inner.set_write_timeout(Some(write_timeout));
        Connection {
            inner: Box::pin(inner),
            rewritten: None,
            pace: Pace::new(write_timeout),
        }
    }

    fn poll_rewritten(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let rewritten = self.rewritten.as_mut().expect("a rewrite in progress");
        while rewritten.sent < rewritten.bytes.len() {
            let written = ready!(self
                .inner
                .as_mut()
                .poll_write(cx, &rewritten.bytes[rewritten.sent..]))?;
            if written == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            rewritten.sent += written;
        }
        let stands_for = rewritten.stands_for;
        self.rewritten = None;
        Poll::Ready(Ok(stands_for))
    }
}

/// A whole response head and nothing else, without the policy every answer
/// of the relay's own carries: hyper's answer to a request it could not parse.
fn is_hypers_own_answer(bytes: &[u8]) -> bool {
    const MAX_HEAD: usize = 512;
    bytes.len() <= MAX_HEAD
        && bytes.starts_with(b"HTTP/1.")
        && bytes.ends_with(b"\r\n\r\n")
        && !bytes
            .to_ascii_lowercase()
            .windows(b"content-security-policy:".len())
            .any(|window| window == b"content-security-policy:")
}

fn with_headers(head: &[u8]) -> Vec<u8> {
    let mut bytes = head[..head.len() - 2].to_vec();
    bytes.extend_from_slice(&HEADER_LINES);
    bytes.extend_from_slice(b"\r\n");
    bytes
}

impl AsyncRead for Connection {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.inner.as_mut().poll_read(cx, buf)
    }
}

impl AsyncWrite for Connection {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        // hyper repeats a write that was pending with the same bytes.
        if self.rewritten.is_none() && is_hypers_own_answer(buf) {
            self.rewritten = Some(Rewritten {
                bytes: with_headers(buf),
                sent: 0,
                stands_for: buf.len(),
            });
        }
        if self.rewritten.is_some() {
            return self.poll_rewritten(cx);
        }
        self.pace.check()?;
        let result = self.inner.as_mut().poll_write(cx, buf);
        self.pace.wrote(&result);
        result
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let mut filled = bufs.iter().filter(|buf| !buf.is_empty());
        if let (Some(only), None) = (filled.next(), filled.next()) {
            return self.poll_write(cx, only);
        }
        self.pace.check()?;
        let result = self.inner.as_mut().poll_write_vectored(cx, bufs);
        self.pace.wrote(&result);
        result
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let flushed = self.inner.as_mut().poll_flush(cx);
        if let Poll::Ready(Ok(())) = flushed {
            self.pace.caught_up();
        }
        flushed
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.inner.as_mut().poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_that_takes_too_little_while_bytes_wait_is_cut_off() {
        let window = Duration::from_millis(50);
        let mut pace = Pace::new(window);
        assert_eq!(
            pace.least, LEAST_BYTES_PER_SEC,
            "a window under a second counts as one"
        );
        // Idle, or writing at once: no clock runs.
        pace.wrote(&Poll::Ready(Ok(100)));
        std::thread::sleep(window * 2);
        assert!(pace.check().is_ok());
        // Bytes wait; a whole window passes with a trickle taken.
        pace.wrote(&Poll::Pending);
        pace.wrote(&Poll::Ready(Ok(1024)));
        std::thread::sleep(window * 2);
        assert_eq!(pace.check().unwrap_err().kind(), io::ErrorKind::TimedOut);
        // Enough taken in the window: a new window starts.
        let mut pace = Pace::new(window);
        pace.wrote(&Poll::Pending);
        pace.wrote(&Poll::Ready(Ok(LEAST_BYTES_PER_SEC as usize)));
        std::thread::sleep(window * 2);
        assert!(pace.check().is_ok());
        assert!(pace.check().is_ok(), "the new window has just begun");
        // Everything went out: the clock stops.
        pace.wrote(&Poll::Pending);
        pace.caught_up();
        std::thread::sleep(window * 2);
        assert!(pace.check().is_ok());
    }

    #[test]
    fn only_a_lone_head_without_the_policy_is_taken_for_hypers_own() {
        let own = b"HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n";
        assert!(is_hypers_own_answer(own));
        let relays = b"HTTP/1.1 405 Method Not Allowed\r\ncontent-security-policy: default-src 'none'\r\n\r\n";
        assert!(!is_hypers_own_answer(relays));
        assert!(!is_hypers_own_answer(
            b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello"
        ));
        assert!(!is_hypers_own_answer(
            b"{\"data\": \"HTTP/1.1 \\r\\n\\r\\n\"}"
        ));

        let rewritten = String::from_utf8(with_headers(own)).unwrap();
        assert!(rewritten.starts_with("HTTP/1.1 400 Bad Request\r\nconnection: close\r\n"));
        assert!(rewritten.contains("\r\nx-frame-options: DENY\r\n"));
        assert!(rewritten.ends_with("same-origin\r\n\r\n"));
        assert_eq!(rewritten.matches("\r\n\r\n").count(), 1);
    }
}
