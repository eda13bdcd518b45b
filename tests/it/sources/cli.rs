//! `earshot sources test --source ID`: one poll against the configured API, printed, with
//! nothing written.

use serde_json::json;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::ConfigBuilder;
use crate::support::config::{brand, source};

#[tokio::test]
async fn sources_test_prints_what_would_be_ingested_and_writes_nothing() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/search_by_date"))
        .and(header("user-agent", concat!("earshot/", env!("CARGO_PKG_VERSION"), " (social care monitor)")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "hits": [
                {"objectID": "2", "comment_text": "Acme Air lost my bag", "author": "jo", "created_at_i": 1_795_000_200, "story_id": 1, "parent_id": 1},
                {"objectID": "3", "comment_text": "Nothing to do with it", "author": "kim", "created_at_i": 1_795_000_100},
                {"objectID": "4", "author": "broken"}
            ],
            "nbPages": 1, "page": 0
        })))
        .expect(1)
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("earshot.db");
    let config = dir.path().join("earshot.toml");
    ConfigBuilder::new()
        .database(&format!("sqlite://{}", db.display()))
        .scorer("lexicon")
        .brand(brand("acme", "Acme Air").set("keywords", vec!["acme air"]))
        .source(
            source("hn", "acme", "hackernews")
                .set("schedule", "0 */5 * * * *")
                .set("query", "acme air")
                .set("base_url", server.uri()),
        )
        .write(&config);

    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_earshot"))
        .env_remove("EARSHOT_DATABASE_URL")
        .env("RUST_LOG", "warn")
        .arg("--config")
        .arg(&config)
        .args(["sources", "test", "--source", "hn"])
        .output()
        .await
        .unwrap();

    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let lines: Vec<serde_json::Value> = stdout.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    assert_eq!(lines[0]["from"], "start");
    assert_eq!(
        (lines[0]["fetched"].as_u64(), lines[0]["mentions"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(
        (lines[0]["unrelated"].as_u64(), lines[0]["quarantined"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(lines[1]["post"]["external_id"], "2");
    assert_eq!(lines[2]["quarantined"], "hit 4");
    assert!(stdout.contains("Nothing was written."));
    assert!(!db.exists(), "no database was created");
}
