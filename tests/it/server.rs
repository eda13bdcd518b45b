//! The server loop over real sockets: a client trickling its headers (slowloris) or sitting
//! idle is disconnected, past the connection limit new clients wait, and a shutdown ends open
//! event streams and half-sent requests instead of waiting for them.

use std::sync::Arc;
use std::time::Duration;

use earshot::web::AppState;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::{TestApp, TestEnv, api_bearer, pipeline_for, poll_feed};

/// An upper bound for things that should happen within a second or two; reaching it fails.
const BOUND: Duration = Duration::from_secs(30);

/// The app served on a loopback port with the test's limits, and an agent's bearer token
/// (`Authorization` header value) for it.
struct Server {
    served: TestApp,
    authorization: String,
    _env: TestEnv,
}

/// The app on the standard config with the test's `[http]` limits: the header (and idle)
/// timeout, the connection limit, and a shutdown grace long enough that a test reaching it
/// fails.
async fn start(header_timeout_secs: i64, max_connections: i64) -> Server {
    let env = TestEnv::new();
    let config = env
        .config()
        .set("http", "header_timeout_secs", header_timeout_secs)
        .set("http", "max_connections", max_connections)
        .set("http", "shutdown_grace_secs", 120);
    let served = TestApp::start(config.settings()).await;
    let authorization = api_bearer(&served.store, earshot::auth::Role::Agent).await;
    Server {
        served,
        authorization,
        _env: env,
    }
}

/// Everything the server sends until it closes the connection (a reset is a close too).
async fn until_closed(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    let read = tokio::time::timeout(BOUND, stream.read_to_end(&mut received))
        .await
        .expect("the server closes the connection");
    if let Err(error) = read {
        assert_eq!(error.kind(), std::io::ErrorKind::ConnectionReset, "{error}");
    }
    String::from_utf8_lossy(&received).into_owned()
}

/// Reads until the answer's head (and, for a short body, the body) has arrived.
async fn read_answer(stream: &mut TcpStream, wait: Duration) -> Option<String> {
    let mut buffer = vec![0u8; 4096];
    let n = tokio::time::timeout(wait, stream.read(&mut buffer))
        .await
        .ok()?
        .unwrap();
    Some(String::from_utf8_lossy(&buffer[..n]).into_owned())
}

#[tokio::test]
async fn a_client_trickling_its_headers_or_sitting_idle_is_disconnected() {
    let server = start(1, 64).await;
    let mut slow = TcpStream::connect(server.served.addr).await.unwrap();
    let mut idle = TcpStream::connect(server.served.addr).await.unwrap();
    let mut kept_alive = TcpStream::connect(server.served.addr).await.unwrap();

    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: ")
        .await
        .unwrap();
    kept_alive
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let answered = read_answer(&mut kept_alive, BOUND).await.unwrap();
    // One more header byte: still not a whole head.
    slow.write_all(b"a").await.unwrap();

    let slow_got = until_closed(&mut slow).await;
    assert!(
        slow_got.is_empty() || slow_got.starts_with("HTTP/1.1 408"),
        "{slow_got:?}"
    );
    assert_eq!(until_closed(&mut idle).await, "", "an idle socket is closed");
    assert!(answered.starts_with("HTTP/1.1 200"), "{answered}");
    assert_eq!(
        until_closed(&mut kept_alive).await,
        "",
        "a keep-alive connection is closed once idle"
    );
}

#[tokio::test]
async fn past_the_connection_limit_new_clients_wait_for_a_free_slot() {
    let server = start(120, 2).await;
    let first = TcpStream::connect(server.served.addr).await.unwrap();
    let mut second = TcpStream::connect(server.served.addr).await.unwrap();
    // The second is certainly being served: it gets an answer on its connection.
    second
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    assert!(
        read_answer(&mut second, BOUND)
            .await
            .unwrap()
            .starts_with("HTTP/1.1 200")
    );
    let mut third = TcpStream::connect(server.served.addr).await.unwrap();
    third
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();

    let while_full = read_answer(&mut third, Duration::from_millis(500)).await;
    drop(first);
    let after_a_slot_frees = read_answer(&mut third, BOUND).await;

    assert_eq!(while_full, None, "two connections are open: the third waits");
    assert!(after_a_slot_frees.unwrap().starts_with("HTTP/1.1 200"));
}

#[tokio::test]
async fn shutdown_ends_event_streams_and_half_sent_requests() {
    let server = start(120, 64).await;
    let mut events = TcpStream::connect(server.served.addr).await.unwrap();
    events
        .write_all(
            format!(
                "GET /api/events HTTP/1.1\r\nHost: x\r\nAuthorization: {}\r\n\r\n",
                server.authorization
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    let head = read_answer(&mut events, BOUND).await.unwrap();
    assert!(head.contains("text/event-stream"), "{head}");
    let mut half_sent = TcpStream::connect(server.served.addr).await.unwrap();
    half_sent
        .write_all(b"POST /login HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();

    server.served.stop();
    let stopped = tokio::time::timeout(BOUND, server.served.stopped())
        .await
        .expect("the server stops without waiting for its clients (grace is 120 s)");

    stopped.unwrap();
    until_closed(&mut events).await;
    until_closed(&mut half_sent).await;
}

/// `GET /metrics` after a real poll and scoring pass: refused without the scrape token,
/// and with it the Prometheus text names what happened, with store-backed gauges.
#[tokio::test]
async fn metrics_are_scraped_with_the_token_and_count_what_the_pipeline_did() {
    use axum::http::StatusCode;

    earshot::metrics::install().expect("this test process installs the recorder");
    let env = TestEnv::new();
    env.append(
        "acme-feed",
        &[crate::support::line(
            "1",
            "@jo",
            "@AcmeAir lost my bag and the refund never came, worst airline, never again",
        )],
    );
    let pipeline = pipeline_for(env.config().set("http", "metrics_token", "scrape-secret").settings()).await;
    poll_feed(&pipeline, 1).await;
    let app = TestApp::new(pipeline.store(), pipeline.settings());
    let mut client = app.anonymous();
    let anonymous = client.get("/metrics").await;
    client.bearer = Some("guess".to_owned());
    let wrong = client.get("/metrics").await;
    client.bearer = Some("scrape-secret".to_owned());
    let scraped = client.get("/metrics").await;

    assert_eq!(anonymous.0, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.0, StatusCode::UNAUTHORIZED);
    assert_eq!(scraped.0, StatusCode::OK);
    let text = scraped.1.as_str().expect("the Prometheus text");
    for expected in [
        r#"earshot_polls_total{source="acme-feed",outcome="ok"} 1"#,
        r#"earshot_posts_ingested_total{source="acme-feed"} 1"#,
        "earshot_mentions_assessed_total 1",
        r#"earshot_tasks_opened_total{priority="#,
        "earshot_scoring_batch_seconds_count 1",
        "earshot_pending_mentions 0",
        "earshot_tasks_active 1",
        r#"earshot_http_requests_total{route="/metrics",method="GET",status="401"} 2"#,
        "# TYPE earshot_scoring_batch_seconds histogram",
    ] {
        assert!(text.contains(expected), "{expected} in:\n{text}");
    }
}

#[tokio::test]
async fn readiness_names_what_is_not_ready() {
    use axum::http::StatusCode;

    let env = TestEnv::new();
    let settings = Arc::new(env.settings());
    let store = earshot::app::open_store(&settings).await.unwrap();
    let running = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let probe = running.clone();
    let app = TestApp::with_state(
        AppState::new(store, settings)
            .with_model_probe(Arc::new(move || probe.load(std::sync::atomic::Ordering::SeqCst))),
    );
    let client = app.anonymous();
    let ready = || client.get("/readyz");
    let up = ready().await;
    running.store(false, std::sync::atomic::Ordering::SeqCst);
    let model_stopped = ready().await;

    assert_eq!(up.0, StatusCode::OK, "{}", up.1);
    assert_eq!(up.1["database"], "ok");
    assert_eq!(up.1["model"], "loaded");
    assert_eq!(model_stopped.0, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(model_stopped.1["model"], "stopped");
    assert_eq!(model_stopped.1["ready"], false);
}
