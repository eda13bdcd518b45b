//! The shipped model through rust-bert: same probabilities as the Python reference, checked
//! files, and the demo running end to end as a process.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use earshot::scoring::model::TransformerScorer;
use earshot::scoring::normalise::normalise;

fn model_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("models/sentiment-minilm-l6-tweeteval")
}

#[derive(serde::Deserialize)]
struct Parity {
    cases: Vec<ParityCase>,
}

#[derive(serde::Deserialize)]
struct ParityCase {
    text: String,
    negative: f32,
    neutral: f32,
    positive: f32,
}

#[test]
fn rust_bert_gives_the_same_probabilities_as_the_python_reference() {
    let fixture: Parity = serde_json::from_str(include_str!("fixtures/parity-python.json")).unwrap();
    let scorer = TransformerScorer::load(&model_dir()).unwrap();
    let texts: Vec<String> = fixture.cases.iter().map(|c| normalise(&c.text)).collect();

    let scores = scorer.probabilities(&texts).unwrap();

    assert_eq!(scores.len(), fixture.cases.len());
    let mut worst = 0f32;
    for (case, got) in fixture.cases.iter().zip(&scores) {
        for (expected, actual) in [
            (case.negative, got.negative),
            (case.neutral, got.neutral),
            (case.positive, got.positive),
        ] {
            worst = worst.max((expected - actual).abs());
        }
        assert_eq!(
            got.label(),
            earshot::domain::SentimentScores {
                negative: case.negative,
                neutral: case.neutral,
                positive: case.positive
            }
            .label(),
            "label differs for {:?}",
            case.text
        );
    }
    assert!(worst < 2e-3, "largest probability difference {worst}");
}

#[test]
fn batching_and_padding_do_not_change_a_posts_score() {
    let scorer = TransformerScorer::load(&model_dir()).unwrap();
    let short = normalise("This is the worst service ever, cancelled my flight again");
    let long = normalise(&"Long rambling post about travel and food and weather and more. ".repeat(8));

    let alone = scorer.probabilities(std::slice::from_ref(&short)).unwrap();
    let padded = scorer.probabilities(&[long, short]).unwrap();

    assert!((alone[0].negative - padded[1].negative).abs() < 1e-4);
    assert!(alone[0].negative > 0.8, "a clear complaint: {:?}", alone[0]);
}

#[test]
fn a_tampered_model_file_is_refused_with_the_file_named() {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(model_dir()).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
    }
    let vocab = dir.path().join("vocab.txt");
    let mut text = std::fs::read_to_string(&vocab).unwrap();
    text.push_str("sneaky\n");
    std::fs::write(&vocab, text).unwrap();

    let error = TransformerScorer::load(dir.path())
        .err()
        .expect("tampered model must not load")
        .to_string();

    assert!(error.contains("vocab.txt has sha256"), "{error}");
}

#[tokio::test]
async fn the_demo_ingests_scores_and_serves_the_queue_then_stops_cleanly() {
    let data = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_earshot"))
        .args(["demo", "--bind", "127.0.0.1:0", "--data-dir"])
        .arg(data.path())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (lines, url) = tokio::task::spawn_blocking(move || {
        let mut lines = Vec::new();
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            let done = line.starts_with("Open the queue:");
            lines.push(line);
            if done {
                break;
            }
        }
        let url = lines
            .last()
            .and_then(|l| l.split_whitespace().nth(3))
            .unwrap_or_default()
            .to_owned();
        (lines, url)
    })
    .await
    .unwrap();
    assert!(url.starts_with("http://127.0.0.1:"), "{lines:#?}");

    // Log in as the demo prints it, as a person would, and use the session cookie.
    let password = lines
        .iter()
        .find_map(|l| l.strip_prefix("Log in as demo / "))
        .and_then(|rest| rest.split_whitespace().next())
        .expect("the demo prints its login")
        .to_owned();
    let http = earshot::app::http_client().unwrap();
    let login = http
        .post(format!("{url}login"))
        .json(&serde_json::json!({ "username": "demo", "password": password }))
        .send()
        .await
        .unwrap();
    assert!(login.status().is_success(), "login: {}", login.status());
    let cookie = login.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let get = |path: &str| http.get(format!("{url}{path}")).header("cookie", &cookie).send();
    let unauthenticated = reqwest::get(format!("{url}api/tasks")).await.unwrap().status();
    let page: serde_json::Value = get("api/tasks").await.unwrap().json().await.unwrap();
    let tasks = page["items"].as_array().cloned().unwrap_or_default();
    let templates: Vec<serde_json::Value> = get("api/templates").await.unwrap().json().await.unwrap();
    let stats: serde_json::Value = get("api/stats").await.unwrap().json().await.unwrap();
    Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();

    assert_eq!(unauthenticated, reqwest::StatusCode::UNAUTHORIZED);
    let authors: Vec<&str> = tasks.iter().filter_map(|t| t["author_handle"].as_str()).collect();
    for complainer in ["@maya_travels", "@frugal_fin", "@lena_b", "u/budget_bea"] {
        assert!(
            authors.contains(&complainer),
            "{complainer} should have a task: {authors:?}"
        );
    }
    for happy in ["@benjiflies", "@grace_h", "@ravi_p"] {
        assert!(!authors.contains(&happy), "{happy} praised the brand: {authors:?}");
    }
    let maya = tasks.iter().find(|t| t["author_handle"] == "@maya_travels").unwrap();
    assert_eq!(maya["n_posts"], 2, "the follow-up joined the first complaint's task");
    assert_eq!(stats["quarantined"], 2, "the cut-off line and the unknown platform");
    assert_eq!(page["total"].as_i64(), Some(tasks.len() as i64), "{page}");
    assert!(templates.len() >= 2, "the demo ships reply templates: {templates:?}");
    assert!(
        stats["unscored"].as_i64().unwrap() >= 2,
        "Spanish and French posts are not scored by the English model"
    );
    assert!(status.success(), "exit status {status:?}");
}
