//! The precision switch (`[scoring] precision`): the shipped model's int8 file on ONNX Runtime
//! and its bfloat16 compute on libtorch agree with float32 on most posts, the default is int8
//! where the manifest carries it, and a precision a model cannot give is refused by name.

use std::path::{Path, PathBuf};

use earshot::config::{Precision, ScoringSettings};
use earshot::domain::SentimentOutcome;
use earshot::scoring::model::{LoadOptions, TransformerScorer};
use earshot::scoring::{ScoreInput, Scorer};

fn complaint_model_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("models/complaint-minilm-l6")
}

fn options(precision: Option<Precision>) -> LoadOptions {
    LoadOptions {
        precision,
        threads: 2,
        onnxruntime: None,
    }
}

/// Posts of every kind the bench generates, plus hand-written ones of different lengths.
fn posts() -> Vec<ScoreInput> {
    let mut texts: Vec<String> = earshot::tools::bench::generate_posts(240, 11)
        .into_iter()
        .map(|p| p.text)
        .collect();
    texts.extend(
        [
            "@NorthwindAir my bag has been missing for 5 days and nobody answers the phone",
            "@OrbitBank you charged me twice and refused a refund, this is theft",
            "Northwind Traders shares up 4% after the quarterly report.",
            "Thank you @NorthwindAir, the crew was wonderful and we landed early!",
            "ok",
        ]
        .map(str::to_owned),
    );
    texts
        .into_iter()
        .map(|text| ScoreInput { text, lang_hint: None })
        .collect()
}

/// (p(negative), p(complaint)) of each outcome.
fn probabilities(outcomes: &[SentimentOutcome]) -> Vec<(f32, f32, earshot::domain::SentimentLabel)> {
    outcomes
        .iter()
        .map(|o| match o {
            SentimentOutcome::Scored {
                scores,
                complaint: Some(c),
                ..
            } => (scores.negative, c.probability, scores.label()),
            other => panic!("not scored with the complaint heads: {other:?}"),
        })
        .collect()
}

/// How a variant compares with float32 on `posts()`: share of equal complaint decisions
/// (p ≥ 0.5), share of equal sentiment labels, mean |Δp(complaint)|.
fn agreement(variant: &mut TransformerScorer, reference: &mut TransformerScorer) -> (f64, f64, f64) {
    let inputs = posts();
    let got = probabilities(&variant.score_batch(&inputs).unwrap());
    let want = probabilities(&reference.score_batch(&inputs).unwrap());
    let n = inputs.len() as f64;
    let same_decision = got
        .iter()
        .zip(&want)
        .filter(|(a, b)| (a.1 >= 0.5) == (b.1 >= 0.5))
        .count() as f64
        / n;
    let same_label = got.iter().zip(&want).filter(|(a, b)| a.2 == b.2).count() as f64 / n;
    let mean_gap = got
        .iter()
        .zip(&want)
        .map(|(a, b)| f64::from((a.1 - b.1).abs()))
        .sum::<f64>()
        / n;
    (same_decision, same_label, mean_gap)
}

#[test]
fn int8_is_the_default_and_agrees_with_float32_on_most_posts() {
    let dir = complaint_model_dir();
    let mut reference = TransformerScorer::load(&dir).unwrap();
    let mut int8 = TransformerScorer::load_with(&dir, &options(None)).unwrap();
    assert_eq!(reference.precision(), Precision::Fp32);
    assert_eq!(
        int8.precision(),
        Precision::Int8,
        "the manifest's int8 file is the default"
    );
    assert!(
        int8.name().ends_with("+int8"),
        "scores record the variant: {}",
        int8.name()
    );
    assert!(!reference.name().contains('+'), "{}", reference.name());

    let (same_decision, same_label, mean_gap) = agreement(&mut int8, &mut reference);

    assert!(same_decision >= 0.97, "complaint decisions agree on {same_decision:.3}");
    assert!(same_label >= 0.90, "sentiment labels agree on {same_label:.3}");
    assert!(mean_gap < 0.03, "mean |Δp(complaint)| {mean_gap:.4}");
}

#[test]
fn bfloat16_agrees_with_float32_on_most_posts() {
    let dir = complaint_model_dir();
    let mut reference = TransformerScorer::load(&dir).unwrap();
    let mut bf16 = TransformerScorer::load_with(&dir, &options(Some(Precision::Bf16))).unwrap();
    assert!(bf16.name().ends_with("+bf16"), "{}", bf16.name());

    let (same_decision, same_label, mean_gap) = agreement(&mut bf16, &mut reference);

    assert!(same_decision >= 0.97, "complaint decisions agree on {same_decision:.3}");
    assert!(same_label >= 0.90, "sentiment labels agree on {same_label:.3}");
    assert!(mean_gap < 0.03, "mean |Δp(complaint)| {mean_gap:.4}");
}

/// Scores `posts()` through the service configured with `precision` (two threads), and
/// compares each outcome with the post scored alone: (largest change, mean change, share of
/// equal complaint decisions).
async fn service_against_alone(precision: Precision) -> (f32, f32, f64) {
    let settings = ScoringSettings {
        model: complaint_model_dir(),
        threads: 2,
        precision: Some(precision),
        queue_batches: 2,
        batch_size: 8,
        ..ScoringSettings::default()
    };
    let service = earshot::scoring::start_service(&settings).unwrap();
    let expected_workers = if precision == Precision::Int8 { 2 } else { 1 };
    assert_eq!(service.workers(), expected_workers, "{precision:?}");
    assert!(service.name().ends_with(&format!("+{}", precision.as_str())) || precision == Precision::Fp32);
    let inputs = posts();
    let mut alone = TransformerScorer::load_with(&complaint_model_dir(), &options(Some(precision))).unwrap();

    let together = service.score(inputs.clone()).await.unwrap();

    let (mut worst, mut total, mut same) = (0f32, 0f32, 0usize);
    for (input, outcome) in inputs.iter().zip(&together) {
        let own = alone.score_batch(std::slice::from_ref(input)).unwrap();
        let (a, b) = (probabilities(&own)[0], probabilities(std::slice::from_ref(outcome))[0]);
        let change = (a.0 - b.0).abs().max((a.1 - b.1).abs());
        worst = worst.max(change);
        total += change;
        same += usize::from((a.1 >= 0.5) == (b.1 >= 0.5));
    }
    (worst, total / inputs.len() as f32, same as f64 / inputs.len() as f64)
}

#[tokio::test]
async fn the_service_scores_in_length_batches_on_parallel_workers_and_keeps_the_input_order() {
    // Float32: padding to a batch's longest post changes nothing, so each post must get
    // exactly its own score back, wherever its batch ran.
    let (worst, _, same) = service_against_alone(Precision::Fp32).await;
    assert!(worst < 1e-3, "float32, largest change {worst}");
    assert_eq!(same, 1.0);

    // Int8 scales activations per batch (dynamic quantisation): batch-mates move a post's
    // probabilities a little, never its place.
    let (worst, mean, same) = service_against_alone(Precision::Int8).await;
    eprintln!("int8: largest change from batch-mates {worst:.4}, mean {mean:.4}, same decision {same:.3}");
    assert!(mean < 0.03, "int8, mean change {mean}");
    assert!(worst < 0.3, "int8, largest change {worst}");
    assert!(same >= 0.95, "int8, same complaint decision for {same:.3}");
}

/// The service tokenizes each post once, on its dispatcher, and the worker runs the model on
/// those ids: for the same batch that must give exactly what scoring the texts gives, at
/// every precision, for long posts cut to the model's maximum as for short ones.
#[test]
fn a_batch_scored_on_its_prepared_tokens_equals_the_batch_scored_from_its_texts() {
    let mut inputs = posts();
    inputs.push(ScoreInput {
        text: "@NorthwindAir ".to_owned() + &"my refund is still missing after six weeks of calls, ".repeat(12),
        lang_hint: None,
    });
    inputs.push(ScoreInput {
        text: "✈️😡 https://example.com/a/very/long/link?with=query &amp; 🇬🇧 flag".to_owned(),
        lang_hint: Some("en".to_owned()),
    });
    for precision in [Precision::Int8, Precision::Fp32] {
        let mut scorer = TransformerScorer::load_with(&complaint_model_dir(), &options(Some(precision))).unwrap();
        let prepare = scorer.preparer().expect("a transformer prepares its tokens");
        let prepared: Vec<_> = inputs.iter().map(|input| prepare(input)).collect();
        let max_length = scorer.manifest().max_length;
        for p in &prepared {
            let ids = p.token_ids.as_ref().expect("the ids are kept");
            assert_eq!(p.length, ids.len());
            assert!((3..=max_length).contains(&p.length), "{} tokens", p.length);
        }
        assert_eq!(prepared[prepared.len() - 2].length, max_length, "the long post is cut");

        let n = inputs.len();
        for batch in [0..1, 0..9, n - 5..n] {
            let from_tokens = scorer
                .score_prepared(&inputs[batch.clone()], &prepared[batch.clone()])
                .unwrap();
            let from_texts = scorer.score_batch(&inputs[batch.clone()]).unwrap();
            assert_eq!(from_tokens, from_texts, "{precision:?}, posts {batch:?}");
        }
    }
}

#[test]
fn a_precision_the_model_cannot_give_is_refused_by_name() {
    let sentiment_only = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/sentiment-minilm-l6-tweeteval");

    let error = TransformerScorer::load_with(&sentiment_only, &options(Some(Precision::Int8)))
        .err()
        .expect("no int8 file")
        .to_string();
    assert!(error.contains("no int8 variant"), "{error}");
    assert!(error.contains("sentiment-minilm-l6-tweeteval"), "{error}");

    // Unset, a model without an int8 file runs in float32.
    let scorer = TransformerScorer::load_with(&sentiment_only, &options(None)).unwrap();
    assert_eq!(scorer.precision(), Precision::Fp32);
}

#[test]
fn a_missing_onnx_runtime_is_reported_with_what_to_do() {
    let missing = LoadOptions {
        onnxruntime: Some(PathBuf::from("/nonexistent/libonnxruntime.so")),
        ..options(Some(Precision::Int8))
    };

    let error = TransformerScorer::load_with(&complaint_model_dir(), &missing)
        .err()
        .expect("no runtime")
        .to_string();

    assert!(error.contains("/nonexistent/libonnxruntime.so"), "{error}");
    assert!(error.contains("setup-onnxruntime.sh"), "{error}");
}
