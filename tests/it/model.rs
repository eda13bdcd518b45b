//! The models through rust-bert: the shipped complaint model and the older sentiment-only
//! model (kept loadable for comparison) give the same probabilities as the Python reference,
//! input normalisation agrees with training's, files are checked, and the demo runs end to
//! end as a process.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use earshot::domain::Severity;
use earshot::scoring::model::TransformerScorer;
use earshot::scoring::normalise::{Normaliser, normalise};
use earshot::scoring::{ScoreInput, Scorer};

/// The sentiment-only model of earlier releases.
fn model_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("models/sentiment-minilm-l6-tweeteval")
}

/// The shipped complaint model.
fn complaint_model_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("models/complaint-minilm-l6")
}

#[derive(serde::Deserialize)]
struct NormaliseCase {
    text: String,
    expected: String,
}

#[test]
fn normalisation_v2_agrees_with_training_on_every_emoji_and_symbol() {
    let vocab = std::fs::read_to_string(complaint_model_dir().join("vocab.txt")).unwrap();
    let normaliser = Normaliser::new(2, vocab.lines()).unwrap();
    let cases: Vec<NormaliseCase> = include_str!("fixtures/normalise-v2.jsonl")
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert!(cases.len() > 600, "the fixture covers every symbol: {}", cases.len());

    let disagreements: Vec<String> = cases
        .iter()
        .filter_map(|case| {
            let got = normaliser.normalise(&case.text);
            (got != case.expected).then(|| format!("{:?}\n  rust   {got:?}\n  python {:?}", case.text, case.expected))
        })
        .take(5)
        .collect();

    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
    assert_eq!(cases[0].expected, "@user pouting face where is my refund");
}

#[derive(serde::Deserialize)]
struct HeadsParity {
    cases: Vec<HeadsCase>,
}

#[derive(serde::Deserialize)]
struct HeadsCase {
    text: String,
    normalised: String,
    sentiment: [f32; 3],
    complaint: [f32; 2],
    severity: [f32; 5],
}

#[test]
fn the_complaint_model_gives_the_same_heads_as_the_python_reference() {
    let fixture: HeadsParity = serde_json::from_str(include_str!("fixtures/parity-complaint.json")).unwrap();
    let mut scorer = TransformerScorer::load(&complaint_model_dir()).unwrap();
    for case in &fixture.cases {
        assert_eq!(
            scorer.normaliser().normalise(&case.text),
            case.normalised,
            "normalising {:?}",
            case.text
        );
    }
    let inputs: Vec<ScoreInput> = fixture
        .cases
        .iter()
        .map(|c| ScoreInput {
            text: c.text.clone(),
            lang_hint: None,
        })
        .collect();

    // One batch for all cases: padding must not change any post's scores.
    let outcomes = scorer.score_batch(&inputs).unwrap();

    let mut worst = 0f32;
    for (case, outcome) in fixture.cases.iter().zip(&outcomes) {
        let earshot::domain::SentimentOutcome::Scored { scores, complaint, .. } = outcome else {
            panic!("{:?} was not scored", case.text);
        };
        let complaint = complaint.expect("a complaint model fills the complaint heads");
        let pairs = [
            (case.sentiment[0], scores.negative),
            (case.sentiment[1], scores.neutral),
            (case.sentiment[2], scores.positive),
            (case.complaint[1], complaint.probability),
        ]
        .into_iter()
        .chain(case.severity.iter().copied().zip(complaint.severity));
        for (expected, actual) in pairs {
            worst = worst.max((expected - actual).abs());
        }
    }
    assert!(worst < 2e-3, "largest probability difference {worst}");
    assert!(fixture.cases.len() >= 20, "{} cases", fixture.cases.len());
}

#[test]
fn the_complaint_model_separates_complaints_from_news_and_praise() {
    let mut scorer = TransformerScorer::load(&complaint_model_dir()).unwrap();
    let texts = [
        "@NorthwindAir my bag has been missing for 5 days and nobody answers the phone",
        "@OrbitBank you charged me twice and refused a refund, this is theft",
        "Northwind Traders shares up 4% after the quarterly report.",
        "Thank you @NorthwindAir, the crew was wonderful and we landed early!",
    ];
    let inputs: Vec<ScoreInput> = texts
        .iter()
        .map(|t| ScoreInput {
            text: (*t).to_owned(),
            lang_hint: None,
        })
        .collect();

    let outcomes = scorer.score_batch(&inputs).unwrap();

    let p: Vec<f32> = outcomes
        .iter()
        .map(|o| match o {
            earshot::domain::SentimentOutcome::Scored { complaint: Some(c), .. } => c.probability,
            other => panic!("no complaint scores: {other:?}"),
        })
        .collect();
    assert!(p[0] > 0.5 && p[1] > 0.5, "complaints: {p:?}");
    assert!(p[2] < 0.5 && p[3] < 0.5, "not complaints: {p:?}");
    let earshot::domain::SentimentOutcome::Scored {
        complaint: Some(theft), ..
    } = &outcomes[1]
    else {
        unreachable!()
    };
    assert!(
        theft.severity_if_complaint() >= Severity::Disapproval,
        "{:?}",
        theft.severity
    );
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
    let mut scorer = TransformerScorer::load(&model_dir()).unwrap();
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
    let mut scorer = TransformerScorer::load(&model_dir()).unwrap();
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
    // Every English complaint opens a task at the shipped default threshold (the demo's
    // brands set none); praise, news, spam and small talk do not.
    for complainer in [
        "@maya_travels",
        "@carlos.bsky.social",
        "u/throwaway_delayed",
        "dlowe",
        "@l33t_h4x",
        "@frugal_fin",
        "u/budget_bea",
        "@june.bsky.social",
        "@hana_k",
        "u/latteartlover",
        "Coffee Nerd Reviews",
        "@tomasz_w",
        "@lena_b",
    ] {
        assert!(
            authors.contains(&complainer),
            "{complainer} should have a task: {authors:?}"
        );
    }
    for not_a_complaint in [
        "@benjiflies",
        "@grace_h",
        "@ravi_p",
        "@jess_travels",
        "@rui.bsky.social",
        "Travel With Tom",
        "@deal_hunter_99",
        "@win_big_now",
        "@tom",
    ] {
        assert!(
            !authors.contains(&not_a_complaint),
            "{not_a_complaint} did not complain: {authors:?}"
        );
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
