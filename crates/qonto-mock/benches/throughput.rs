//! Requests per second of the mock with N keep-alive clients (plain std timing).
//!
//! Run with `cargo bench -p qonto-mock`; set `QONTO_MOCK_BENCH_CLIENTS` and
//! `QONTO_MOCK_BENCH_REQUESTS` to change the load.
#![allow(clippy::print_stdout, reason = "a bench reports on stdout")]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Instant;

use qonto_mock::{DEMO_LOGIN, DEMO_SECRET, MockConfig, MockServer};

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Sends `count` requests on one connection, reading each answer by its Content-Length.
fn client(addr: SocketAddr, count: usize) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let request = format!(
        "GET /v2/bank_accounts HTTP/1.1\r\nHost: bench\r\nAuthorization: {DEMO_LOGIN}:{DEMO_SECRET}\r\n\r\n"
    );
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16384];
    for _ in 0..count {
        stream.write_all(request.as_bytes()).expect("write");
        loop {
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                let len: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length: "))
                    .and_then(|v| v.trim().parse().ok())
                    .expect("content-length");
                if buf.len() >= end + 4 + len {
                    assert!(head.starts_with("http/1.1 200"), "{head}");
                    buf.drain(..end + 4 + len);
                    break;
                }
            }
            let n = stream.read(&mut chunk).expect("read");
            assert!(n > 0, "server closed the connection");
            buf.extend_from_slice(&chunk[..n]);
        }
    }
}

fn main() {
    // `cargo bench` passes `--bench`; under `cargo test --all-targets` run a quick smoke pass.
    let full = std::env::args().any(|a| a == "--bench");
    let requests = env_or("QONTO_MOCK_BENCH_REQUESTS", if full { 20_000 } else { 200 });
    let server = MockServer::start(MockConfig::default()).expect("start");
    for clients in [1, 8, env_or("QONTO_MOCK_BENCH_CLIENTS", 32)] {
        let per_client = requests / clients;
        let addr = server.addr();
        let started = Instant::now();
        let threads: Vec<_> = (0..clients)
            .map(|_| std::thread::spawn(move || client(addr, per_client)))
            .collect();
        for t in threads {
            t.join().expect("client");
        }
        let secs = started.elapsed().as_secs_f64();
        let done = per_client * clients;
        println!(
            "{clients:>3} keep-alive clients: {done} requests in {secs:.2} s = {:.0} requests/s",
            done as f64 / secs
        );
    }
}
