//! The server loop over real sockets: a client trickling its headers (slowloris) or sitting
//! idle is disconnected, past the connection limit new clients wait, and a shutdown ends open
//! event streams and half-sent requests instead of waiting for them.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use earshot::web::{AppState, ServerLimits, router, serve};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

use crate::support::TestEnv;

/// An upper bound for things that should happen within a second or two; reaching it fails.
const BOUND: Duration = Duration::from_secs(30);

struct Server {
    addr: SocketAddr,
    shutdown: CancellationToken,
    stopped: tokio::task::JoinHandle<std::io::Result<()>>,
    token: String,
    _env: TestEnv,
}

async fn start(limits: ServerLimits) -> Server {
    let env = TestEnv::new();
    let settings = Arc::new(env.settings());
    let store = earshot::app::open_store(&settings).await.unwrap();
    let token = earshot::auth::new_token();
    store
        .create_api_token(
            &earshot::auth::token_hash(&token),
            "server-tests",
            earshot::auth::Role::Agent,
            earshot::domain::now_millis(),
        )
        .await
        .unwrap();
    let shutdown = CancellationToken::new();
    let app = router(AppState::new(store, settings).with_shutdown(shutdown.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let stopped = tokio::spawn(serve(listener, app, shutdown.clone().cancelled_owned(), limits));
    Server {
        addr,
        shutdown,
        stopped,
        token,
        _env: env,
    }
}

fn limits(header_timeout_secs: u64, max_connections: usize) -> ServerLimits {
    ServerLimits {
        header_timeout: Duration::from_secs(header_timeout_secs),
        max_connections,
        shutdown_grace: Duration::from_secs(120),
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
    let server = start(limits(1, 64)).await;
    let mut slow = TcpStream::connect(server.addr).await.unwrap();
    let mut idle = TcpStream::connect(server.addr).await.unwrap();
    let mut kept_alive = TcpStream::connect(server.addr).await.unwrap();

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
    let server = start(limits(120, 2)).await;
    let first = TcpStream::connect(server.addr).await.unwrap();
    let mut second = TcpStream::connect(server.addr).await.unwrap();
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
    let mut third = TcpStream::connect(server.addr).await.unwrap();
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
    let server = start(limits(120, 64)).await;
    let mut events = TcpStream::connect(server.addr).await.unwrap();
    events
        .write_all(
            format!(
                "GET /api/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\r\n",
                server.token
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    let head = read_answer(&mut events, BOUND).await.unwrap();
    assert!(head.contains("text/event-stream"), "{head}");
    let mut half_sent = TcpStream::connect(server.addr).await.unwrap();
    half_sent
        .write_all(b"POST /login HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();

    server.shutdown.cancel();
    let stopped = tokio::time::timeout(BOUND, server.stopped)
        .await
        .expect("the server stops without waiting for its clients (grace is 120 s)");

    stopped.unwrap().unwrap();
    until_closed(&mut events).await;
    until_closed(&mut half_sent).await;
}

/// `GET /metrics` after a real poll and scoring pass: refused without the scrape token,
/// and with it the Prometheus text names what happened, with store-backed gauges.
#[tokio::test]
async fn metrics_are_scraped_with_the_token_and_count_what_the_pipeline_did() {
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use http_body_util::BodyExt;
    use tower::ServiceExt;

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
    let toml = format!("{}\n[http]\nmetrics_token = \"scrape-secret\"\n", env.config_toml());
    let settings = Arc::new(earshot::config::from_toml(&toml, "test").unwrap());
    let store = earshot::app::open_store(&settings).await.unwrap();
    let scoring = earshot::scoring::ScoringService::start(Box::new(earshot::scoring::lexicon::LexiconScorer), 2, 8);
    let pipeline = earshot::pipeline::Pipeline::new(store.clone(), scoring, settings.clone());
    let source = settings
        .source(&earshot::domain::SourceId::parse("acme-feed").unwrap())
        .unwrap();
    let earshot::sources::SourceKind::Jsonl(jsonl) = &source.kind else {
        panic!("acme-feed is a jsonl source");
    };
    pipeline
        .poll_source(&earshot::sources::jsonl::JsonlSource::new(
            source.id.clone(),
            jsonl.clone(),
        ))
        .await
        .unwrap();
    pipeline.score_pending().await.unwrap();
    let app = router(AppState::new(store, settings));
    let scrape = |bearer: Option<&str>| {
        let mut request = Request::get("/metrics");
        if let Some(bearer) = bearer {
            request = request.header("authorization", format!("Bearer {bearer}"));
        }
        app.clone().oneshot(request.body(Body::empty()).unwrap())
    };

    let anonymous = scrape(None).await.unwrap();
    let wrong = scrape(Some("guess")).await.unwrap();
    let scraped = scrape(Some("scrape-secret")).await.unwrap();

    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(scraped.status(), StatusCode::OK);
    let text = String::from_utf8(scraped.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
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
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    let env = TestEnv::new();
    let settings = Arc::new(env.settings());
    let store = earshot::app::open_store(&settings).await.unwrap();
    let running = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let probe = running.clone();
    let app = router(
        AppState::new(store, settings)
            .with_model_probe(Arc::new(move || probe.load(std::sync::atomic::Ordering::SeqCst))),
    );
    let ready = || async {
        let response = app
            .clone()
            .oneshot(Request::get("/readyz").body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let body: serde_json::Value =
            serde_json::from_slice(&response.into_body().collect().await.unwrap().to_bytes()).unwrap();
        (status, body)
    };

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
