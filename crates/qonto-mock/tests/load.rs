//! Bounded load: 50 concurrent keep-alive clients, 20,000 requests in total, all correct.

mod common;

use std::time::{Duration, Instant};

use common::{Client, api_key, build_request};
use qonto_mock::{MockConfig, MockServer};

const CLIENTS: usize = 50;
const PER_CLIENT: usize = 400;

#[test]
fn fifty_keep_alive_clients_twenty_thousand_requests() {
    let server = MockServer::start(MockConfig::default()).expect("start");
    let addr = server.addr();
    let started = Instant::now();
    let workers: Vec<_> = (0..CLIENTS)
        .map(|i| {
            std::thread::spawn(move || {
                let key = api_key();
                let mut client = Client::connect(addr);
                let org = build_request("GET", "/v2/organization", &[("Authorization", &key)], b"");
                let page = build_request(
                    "GET",
                    "/v2/bank_accounts?per_page=1&page=2",
                    &[("Authorization", &key)],
                    b"",
                );
                let bad =
                    build_request("GET", "/v2/organization", &[("Authorization", "x:y")], b"");
                for n in 0..PER_CLIENT {
                    match (i + n) % 3 {
                        0 => {
                            let resp = client.send_raw(&org).expect("org");
                            assert_eq!(resp.status, 200);
                            assert_eq!(resp.json()["organization"]["slug"], "demo-org-1234");
                        }
                        1 => {
                            let resp = client.send_raw(&page).expect("page");
                            assert_eq!(resp.status, 200);
                            assert_eq!(resp.json()["meta"]["current_page"], 2);
                        }
                        _ => {
                            let resp = client.send_raw(&bad).expect("bad");
                            assert_eq!(resp.status, 401);
                            assert_eq!(resp.json()["trace_id"], resp.trace_id());
                        }
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.join().expect("client thread");
    }
    let elapsed = started.elapsed();
    let total = (CLIENTS * PER_CLIENT) as u64;
    assert_eq!(server.stats().total_requests(), total);
    assert!(elapsed < Duration::from_secs(60), "took {elapsed:?}");
}
