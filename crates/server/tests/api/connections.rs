//! The connection layer (issue 10, item 4): a header that arrives too slowly and a kept-alive
//! connection left idle are closed, at most `--max-connections` connections are served at once
//! (the rest wait in the backlog and are served when a slot frees), and a burst of connects is
//! accepted promptly. Raw sockets on 127.0.0.1, bounded in count and time.

use crate::helpers::spawn_app_with;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const HEALTH: &[u8] = b"GET /-/health HTTP/1.1\r\nHost: x\r\n\r\n";

fn addr(base: &str) -> String {
    base.trim_start_matches("http://").to_owned()
}

/// Reads until the peer closes (Ok(bytes)) or `within` passes (Err).
async fn read_to_close(stream: &mut TcpStream, within: Duration) -> Result<Vec<u8>, ()> {
    let mut all = Vec::new();
    tokio::time::timeout(within, async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => all.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await
    .map_err(|_| ())?;
    Ok(all)
}

/// Reads one response head (up to the blank line).
async fn read_head(stream: &mut TcpStream, within: Duration) -> Option<String> {
    let mut all = Vec::new();
    tokio::time::timeout(within, async {
        let mut buf = [0u8; 4096];
        while !all.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => all.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await
    .ok()?;
    (!all.is_empty()).then(|| String::from_utf8_lossy(&all).into_owned())
}

#[tokio::test]
async fn slow_headers_and_idle_connections_are_closed() {
    let app = spawn_app_with(|c| {
        c.header_read_timeout = Duration::from_millis(500);
        c.idle_timeout = Duration::from_millis(800);
    })
    .await;
    let addr = addr(&app.base);
    // Half a request header: closed after the header-read timeout, without an answer.
    let mut slow = TcpStream::connect(&addr).await.unwrap();
    slow.write_all(b"GET /-/health HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let got = read_to_close(&mut slow, Duration::from_secs(5)).await;
    assert_eq!(got, Ok(Vec::new()), "a slow header is cut off");
    // A kept-alive connection: answered, then closed once idle.
    let mut idle = TcpStream::connect(&addr).await.unwrap();
    idle.write_all(HEALTH).await.unwrap();
    let head = read_head(&mut idle, Duration::from_secs(5)).await.unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(read_to_close(&mut idle, Duration::from_secs(5))
        .await
        .is_ok());
    // A connection that never says anything: closed too.
    let mut silent = TcpStream::connect(&addr).await.unwrap();
    assert_eq!(
        read_to_close(&mut silent, Duration::from_secs(5)).await,
        Ok(Vec::new())
    );
    // A connection that keeps sending requests stays open past the idle timeout.
    let mut busy = TcpStream::connect(&addr).await.unwrap();
    for _ in 0..4 {
        busy.write_all(HEALTH).await.unwrap();
        let head = read_head(&mut busy, Duration::from_secs(5)).await.unwrap();
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

#[tokio::test]
async fn connections_past_the_bound_wait_in_the_backlog_until_a_slot_frees() {
    let app = spawn_app_with(|c| c.max_connections = 2).await;
    let addr = addr(&app.base);
    let mut first = TcpStream::connect(&addr).await.unwrap();
    first.write_all(HEALTH).await.unwrap();
    assert!(read_head(&mut first, Duration::from_secs(5))
        .await
        .is_some());
    let second = TcpStream::connect(&addr).await.unwrap();
    // The third connects (the kernel queues it) but is not served while two are open.
    let mut third = TcpStream::connect(&addr).await.unwrap();
    third.write_all(HEALTH).await.unwrap();
    assert!(read_head(&mut third, Duration::from_millis(700))
        .await
        .is_none());
    drop(first);
    let head = read_head(&mut third, Duration::from_secs(5)).await.unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    drop(second);
}

#[tokio::test]
async fn a_burst_of_connects_is_accepted_promptly() {
    let app = spawn_app_with(|_| {}).await;
    let addr = addr(&app.base);
    let mut tasks = Vec::new();
    for _ in 0..2_500 {
        let addr = addr.clone();
        tasks.push(tokio::spawn(async move {
            let started = std::time::Instant::now();
            let mut s = TcpStream::connect(&addr).await.unwrap();
            let connect = started.elapsed();
            s.write_all(HEALTH).await.unwrap();
            (connect, read_head(&mut s, Duration::from_secs(30)).await)
        }));
    }
    let mut slowest = Duration::ZERO;
    for t in tasks {
        let (connect, head) = t.await.unwrap();
        let head = head.expect("answered");
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        slowest = slowest.max(connect);
    }
    // A listen queue that overflows drops SYNs, and the client retries after 1 s, then 3 s;
    // with the deep backlog the kernel completes every handshake at once.
    assert!(
        slowest < Duration::from_secs(3),
        "slowest connect {slowest:?}"
    );
}
