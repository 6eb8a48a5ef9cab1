//! Second review, hole F: one client holding every connection slot of a listener, with
//! cheap keep-alive requests or with pipelined requests it never reads. Every listener of
//! `wxcs` (serve, emulate, dev) is `http::serve`, so the attacks run against it directly
//! where a limit needs small values, and against `wxcs emulate` as a process where the
//! flags are what a user sets.

use super::*;

use axum::{routing::get, Router};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpSocket, TcpStream as AsyncStream},
};

/// A listener on 127.0.0.1 with `limits`, answering `GET /ok` with "ok" and `GET /big`
/// with 64 KiB; returns its address.
async fn listener(limits: http::Limits) -> std::net::SocketAddr {
    let app = Router::new()
        .route("/ok", get(|| async { "ok" }))
        .route("/big", get(|| async { vec![b'x'; 64 * 1024] }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(http::serve(listener, app, limits, std::future::pending()));
    address
}

/// Reads one answer (headers and a Content-Length body); `None` at end of stream.
async fn read_answer(stream: &mut AsyncStream) -> Option<String> {
    let mut buffer = Vec::new();
    let mut byte = [0u8; 1];
    while !buffer.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).await.ok()? == 0 {
            return None;
        }
        buffer.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&buffer).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length: "))
        .map_or(0, |n| n.trim().parse().unwrap());
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).await.ok()?;
    Some(head)
}

/// A client from `from` that connects to `address`.
async fn connect_from(from: &str, address: std::net::SocketAddr) -> AsyncStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(format!("{from}:0").parse().unwrap()).unwrap();
    socket.connect(address).await.unwrap()
}

/// The attack: keep-alive sockets from one address, each sending a cheap request
/// well within the header timeout, more than the cap. A client from another address is
/// still served at once, and the attacker's sockets past its share are told why.
#[tokio::test]
async fn one_address_cannot_hold_every_connection_slot() {
    let process = support::process::spawn_with(
        &temp_dir("slots"),
        &["--max-connections", "64", "--header-timeout", "2"],
    )
    .await;
    let address: std::net::SocketAddr = process.wx.trim_start_matches("http://").parse().unwrap();
    let (refused, held) = (Arc::new(std::sync::atomic::AtomicUsize::new(0)), Arc::new(()));
    for _ in 0..80 {
        let (refused, held) = (refused.clone(), held.clone());
        tokio::spawn(async move {
            let _held = held;
            let Ok(mut stream) = AsyncStream::connect(address).await else { return };
            loop {
                let request = b"GET /ok HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
                if stream.write_all(request).await.is_err() {
                    return;
                }
                match read_answer(&mut stream).await {
                    Some(head) if head.starts_with("http/1.1 429") => {
                        refused.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        return;
                    }
                    Some(_) => tokio::time::sleep(Duration::from_millis(500)).await,
                    None => return,
                }
            }
        });
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(Arc::strong_count(&held) > 1, "the attacker still holds connections");
    let started = Instant::now();
    let victim = reqwest::Client::builder()
        .local_address("127.0.0.2".parse::<std::net::IpAddr>().unwrap())
        .timeout(Duration::from_secs(3))
        .build()
        .unwrap();
    let answer = victim.get(format!("http://{address}/ok")).send().await;
    assert!(answer.is_ok(), "a client from another address waited: {answer:?}");
    assert!(started.elapsed() < Duration::from_secs(1), "served at once: {:?}", started.elapsed());
    let refused = refused.load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(refused, 80 - 16, "past a quarter of the cap, the attacker's sockets were told 429");
}

/// Sockets that pipeline requests and never read their answers: the server's writes block,
/// and the write timeout frees their slots.
#[tokio::test]
async fn clients_that_never_read_are_cut_off_by_the_write_timeout() {
    let limits = http::Limits {
        max_connections: 4,
        max_connections_per_address: Some(4),
        write_timeout: Duration::from_secs(1),
        ..http::Limits::default()
    };
    let address = listener(limits).await;
    for _ in 0..4 {
        let socket = TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(4096).unwrap();
        let mut stream = socket.connect(address).await.unwrap();
        tokio::spawn(async move {
            let requests = b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n".repeat(64);
            while stream.write_all(&requests).await.is_ok() {}
            std::future::pending::<()>().await; // never reads, never closes
        });
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let started = Instant::now();
    let mut victim = connect_from("127.0.0.2", address).await;
    victim.write_all(b"GET /ok HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let answer = tokio::time::timeout(Duration::from_secs(6), read_answer(&mut victim)).await;
    assert!(
        matches!(&answer, Ok(Some(head)) if head.starts_with("http/1.1 200")),
        "served once the stuck writes timed out: {answer:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(4), "{:?}", started.elapsed());
}

/// A connection that stays busy forever is closed after its request cap, and after its
/// age: gracefully, the last answer saying `Connection: close`, no request unanswered.
#[tokio::test]
async fn busy_connections_end_after_their_requests_and_their_age() {
    let limits = http::Limits {
        max_requests_per_connection: 3,
        max_connection_age: Duration::from_millis(1200),
        ..http::Limits::default()
    };
    let address = listener(limits).await;
    let mut stream = AsyncStream::connect(address).await.unwrap();
    for n in 1..=3 {
        stream.write_all(b"GET /ok HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
        let head = read_answer(&mut stream).await.expect("answered");
        assert!(head.starts_with("http/1.1 200"), "{head}");
        assert_eq!(head.contains("connection: close"), n == 3, "request {n}: {head}");
    }
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(2), stream.read_to_end(&mut rest)).await;
    assert!(matches!(closed, Ok(Ok(0))), "closed after the third: {closed:?}");

    let limits = http::Limits { max_connection_age: Duration::from_millis(1200), ..http::Limits::default() };
    let address = listener(limits).await;
    let mut stream = AsyncStream::connect(address).await.unwrap();
    let started = Instant::now();
    let mut answered = 0;
    loop {
        stream.write_all(b"GET /ok HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
        let head = read_answer(&mut stream).await.expect("every request sent is answered");
        answered += 1;
        if head.contains("connection: close") {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(3), "still open after its age");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(started.elapsed() >= Duration::from_millis(1100), "closed early: {:?}", started.elapsed());
    assert!(answered >= 5, "{answered}");
}
