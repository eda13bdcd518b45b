//! `model pull` against a wiremock server that speaks the Hugging Face hub's file API,
//! serving the shipped model's own files; the pulled folder must load and score the same.

use std::path::{Path, PathBuf};

use earshot::scoring::model::TransformerScorer;
use earshot::scoring::normalise::normalise;
use earshot::tools::hub::{PullRequest, pull};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const ID: &str = "acme/tweet-sentiment";
const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

fn shipped() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("models/sentiment-minilm-l6-tweeteval")
}

const FILES: &[&str] = &[
    "config.json",
    "model.safetensors",
    "vocab.txt",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
];

/// Serves the listing (with `siblings`) and every file under `resolve/{SHA}/`.
async fn hub(siblings: &[&str], config: Option<String>, token: Option<&str>) -> MockServer {
    let server = MockServer::start().await;
    let listing = serde_json::json!({
        "id": ID,
        "modelId": ID,
        "sha": SHA,
        "siblings": siblings.iter().map(|f| serde_json::json!({ "rfilename": f })).collect::<Vec<_>>(),
    });
    let mut info = Mock::given(method("GET")).and(path(format!("/api/models/{ID}/revision/main")));
    if let Some(token) = token {
        info = info.and(header("authorization", format!("Bearer {token}")));
    }
    // With a token, only a request carrying it gets the listing (otherwise 404).
    info.respond_with(ResponseTemplate::new(200).set_body_json(listing))
        .mount(&server)
        .await;
    for file in FILES {
        let body = match (*file, &config) {
            ("config.json", Some(config)) => config.clone().into_bytes(),
            _ => std::fs::read(shipped().join(file)).unwrap(),
        };
        Mock::given(method("GET"))
            .and(path(format!("/{ID}/resolve/{SHA}/{file}")))
            .respond_with(ResponseTemplate::new(200).set_body_bytes(body))
            .mount(&server)
            .await;
    }
    server
}

fn request(server: &MockServer, dest: &Path, token: Option<&str>) -> PullRequest {
    PullRequest {
        id: ID.into(),
        revision: "main".into(),
        endpoint: server.uri(),
        token: token.map(str::to_owned),
        dest: dest.to_owned(),
        languages: None,
        max_length: 64,
        labels: None,
    }
}

fn client() -> reqwest::Client {
    earshot::app::http_client().unwrap()
}

#[tokio::test]
async fn a_pulled_model_loads_and_scores_like_the_original() {
    let server = hub(FILES, None, Some("hf_secret")).await;
    let dest = tempfile::tempdir().unwrap();

    let dir = pull(&client(), &request(&server, dest.path(), Some("hf_secret")))
        .await
        .unwrap();

    assert_eq!(dir, dest.path().join("acme--tweet-sentiment"));
    let manifest = std::fs::read_to_string(dir.join("manifest.toml")).unwrap();
    assert!(manifest.contains(SHA), "{manifest}");
    assert!(manifest.contains("architecture = \"bert\""), "{manifest}");
    assert!(manifest.contains("languages = [\"en\"]"), "{manifest}");
    // Nothing left over from the download.
    let entries: Vec<_> = std::fs::read_dir(dest.path()).unwrap().collect();
    assert_eq!(entries.len(), 1);

    let texts: Vec<String> = [
        "@NorthwindAir lost my bag again, I want a refund",
        "Boarding now, see you in Lisbon",
        "Best crew ever, thank you!",
    ]
    .iter()
    .map(|t| normalise(t))
    .collect();
    let original = TransformerScorer::load(&shipped())
        .unwrap()
        .probabilities(&texts)
        .unwrap();
    let pulled = TransformerScorer::load(&dir).unwrap().probabilities(&texts).unwrap();
    for (a, b) in original.iter().zip(&pulled) {
        assert!((a.negative - b.negative).abs() < 1e-5, "{a:?} vs {b:?}");
        assert!((a.positive - b.positive).abs() < 1e-5, "{a:?} vs {b:?}");
    }
}

#[tokio::test]
async fn an_unauthorised_pull_says_to_set_hf_token() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/api/models/{ID}/revision/main")))
        .respond_with(
            ResponseTemplate::new(401).set_body_json(serde_json::json!({"error": "Access to model is restricted"})),
        )
        .mount(&server)
        .await;
    let dest = tempfile::tempdir().unwrap();

    let error = pull(&client(), &request(&server, dest.path(), None)).await.unwrap_err();

    assert!(error.to_string().contains("HF_TOKEN"), "{error}");
    assert_eq!(std::fs::read_dir(dest.path()).unwrap().count(), 0);
}

#[tokio::test]
async fn a_model_without_safetensors_is_refused() {
    let server = hub(&["config.json", "pytorch_model.bin", "vocab.txt"], None, None).await;
    let dest = tempfile::tempdir().unwrap();

    let error = pull(&client(), &request(&server, dest.path(), None)).await.unwrap_err();

    let message = error.to_string();
    assert!(
        message.contains("model.safetensors") && message.contains("pytorch_model.bin"),
        "{message}"
    );
    assert_eq!(std::fs::read_dir(dest.path()).unwrap().count(), 0);
}

#[tokio::test]
async fn generic_label_names_ask_for_labels_and_leave_nothing_behind() {
    let mut config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(shipped().join("config.json")).unwrap()).unwrap();
    config["id2label"] = serde_json::json!({"0": "LABEL_0", "1": "LABEL_1", "2": "LABEL_2"});
    let server = hub(FILES, Some(config.to_string()), None).await;
    let dest = tempfile::tempdir().unwrap();

    let error = pull(&client(), &request(&server, dest.path(), None)).await.unwrap_err();
    assert!(
        error.to_string().contains("--labels negative,neutral,positive"),
        "{error}"
    );
    assert_eq!(std::fs::read_dir(dest.path()).unwrap().count(), 0);

    // With the labels given, the same model pulls.
    let mut with_labels = request(&server, dest.path(), None);
    with_labels.labels = Some(vec!["negative".into(), "neutral".into(), "positive".into()]);
    let dir = pull(&client(), &with_labels).await.unwrap();
    assert!(TransformerScorer::load(&dir).is_ok());
}
