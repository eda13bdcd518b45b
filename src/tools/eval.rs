//! Evaluation of a scorer on labelled posts: dataset readers (CSV, JSONL, the TweetEval
//! text/labels pair) and the metrics, as pure functions.
//!
//! Datasets: CSV with a header naming `text` and `label` (and optionally `complaint`, 0/1),
//! JSONL with objects `{"text":…,"label":…,"complaint":0|1}`, or two files where line n of
//! the labels file labels line n of the text file. Labels are `negative|neutral|positive` or
//! `0|1|2`. A row that cannot be read is reported with its line number and skipped.

use std::fmt::Write as _;

use crate::domain::{Platform, Post, PostDraft, SentimentLabel, SentimentOutcome};
use crate::scoring::criticality::{self, CriticalityInput};
use crate::scoring::{ScoreInput, ScoringError, ScoringService};
use crate::store::AuthorHistory;

/// One labelled post.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    /// 1-based line where the row starts.
    pub line: usize,
    pub text: String,
    pub label: SentimentLabel,
    /// Whether a reviewer marked the post as a complaint needing an answer, if known.
    pub complaint: Option<bool>,
}

/// A row that was skipped, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRow {
    pub line: usize,
    pub reason: String,
}

/// What a dataset file held.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Dataset {
    pub examples: Vec<Example>,
    pub bad_rows: Vec<BadRow>,
}

/// Why a dataset could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("the CSV header has no {0:?} column (it needs \"text\" and \"label\")")]
    MissingColumn(&'static str),
    #[error("the file is empty")]
    Empty,
    #[error("the text file has {texts} lines but the labels file has {labels}")]
    LengthMismatch { texts: usize, labels: usize },
}

/// Reads a dataset, choosing JSONL when the first non-blank character is `{`, else CSV.
pub fn parse_dataset(content: &str) -> Result<Dataset, EvalError> {
    match content.trim_start().chars().next() {
        None => Err(EvalError::Empty),
        Some('{') => Ok(parse_jsonl(content)),
        Some(_) => parse_csv(content),
    }
}

fn parse_label(value: &str) -> Result<SentimentLabel, String> {
    SentimentLabel::parse(value).ok_or_else(|| format!("label {value:?} is not negative, neutral, positive, 0, 1 or 2"))
}

fn parse_complaint(value: &str) -> Result<Option<bool>, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "" => Ok(None),
        "0" | "false" | "no" => Ok(Some(false)),
        "1" | "true" | "yes" => Ok(Some(true)),
        other => Err(format!("complaint {other:?} is not 0 or 1")),
    }
}

fn check_text(text: &str) -> Result<String, String> {
    if text.trim().is_empty() {
        Err("text is empty".into())
    } else {
        Ok(text.to_owned())
    }
}

/// Reads JSON Lines; blank lines are ignored.
pub fn parse_jsonl(content: &str) -> Dataset {
    let mut dataset = Dataset::default();
    for (index, raw) in content.lines().enumerate() {
        let line = index + 1;
        if raw.trim().is_empty() {
            continue;
        }
        match jsonl_row(raw) {
            Ok((text, label, complaint)) => dataset.examples.push(Example {
                line,
                text,
                label,
                complaint,
            }),
            Err(reason) => dataset.bad_rows.push(BadRow { line, reason }),
        }
    }
    dataset
}

fn jsonl_row(raw: &str) -> Result<(String, SentimentLabel, Option<bool>), String> {
    let value: serde_json::Value = serde_json::from_str(raw).map_err(|e| format!("not JSON: {e}"))?;
    let object = value.as_object().ok_or("not a JSON object")?;
    let text = object
        .get("text")
        .and_then(|v| v.as_str())
        .ok_or("no \"text\" string")?;
    let label = match object.get("label") {
        Some(serde_json::Value::String(s)) => parse_label(s)?,
        Some(serde_json::Value::Number(n)) => parse_label(&n.to_string())?,
        _ => return Err("no \"label\"".into()),
    };
    let complaint = match object.get("complaint") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::Bool(b)) => Some(*b),
        Some(serde_json::Value::Number(n)) => parse_complaint(&n.to_string())?,
        Some(serde_json::Value::String(s)) => parse_complaint(s)?,
        Some(other) => return Err(format!("complaint {other} is not 0 or 1")),
    };
    Ok((check_text(text)?, label, complaint))
}

/// Splits CSV (RFC 4180: quoted fields may hold commas, quotes doubled, and newlines) into
/// records with the line each starts on. An unterminated quote is reported as a bad row.
fn csv_records(content: &str) -> (Vec<(usize, Vec<String>)>, Option<BadRow>) {
    let mut records = Vec::new();
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut in_quotes = false;
    let mut line = 1;
    let mut start_line = 1;
    let mut chars = content.chars().peekable();
    let mut record_has_content = false;
    while let Some(c) = chars.next() {
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => in_quotes = false,
                '\n' => {
                    line += 1;
                    field.push('\n');
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' => {
                in_quotes = true;
                record_has_content = true;
            }
            ',' => {
                fields.push(std::mem::take(&mut field));
                record_has_content = true;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                if record_has_content || !field.is_empty() {
                    fields.push(std::mem::take(&mut field));
                    records.push((start_line, std::mem::take(&mut fields)));
                }
                record_has_content = false;
                line += 1;
                start_line = line;
            }
            _ => {
                field.push(c);
                record_has_content = true;
            }
        }
    }
    if in_quotes {
        return (
            records,
            Some(BadRow {
                line: start_line,
                reason: "a quoted field is never closed; the rest of the file is skipped".into(),
            }),
        );
    }
    if record_has_content || !field.is_empty() {
        fields.push(field);
        records.push((start_line, fields));
    }
    (records, None)
}

/// Reads CSV with a header row naming `text`, `label` and optionally `complaint`.
pub fn parse_csv(content: &str) -> Result<Dataset, EvalError> {
    let (records, unterminated) = csv_records(content);
    let mut rows = records.into_iter();
    let (_, header) = rows.next().ok_or(EvalError::Empty)?;
    let column = |name: &str| {
        header
            .iter()
            .position(|h| h.trim().trim_start_matches('\u{feff}').eq_ignore_ascii_case(name))
    };
    let text_col = column("text").ok_or(EvalError::MissingColumn("text"))?;
    let label_col = column("label").ok_or(EvalError::MissingColumn("label"))?;
    let complaint_col = column("complaint");
    let mut dataset = Dataset::default();
    for (line, fields) in rows {
        let row = (|| {
            if fields.len() != header.len() {
                return Err(format!("{} fields, the header has {}", fields.len(), header.len()));
            }
            let text = check_text(&fields[text_col])?;
            let label = parse_label(&fields[label_col])?;
            let complaint = match complaint_col {
                Some(c) => parse_complaint(&fields[c])?,
                None => None,
            };
            Ok((text, label, complaint))
        })();
        match row {
            Ok((text, label, complaint)) => dataset.examples.push(Example {
                line,
                text,
                label,
                complaint,
            }),
            Err(reason) => dataset.bad_rows.push(BadRow { line, reason }),
        }
    }
    dataset.bad_rows.extend(unterminated);
    Ok(dataset)
}

/// Reads the TweetEval pair format: line n of `labels` labels line n of `texts`.
pub fn parse_pair(texts: &str, labels: &str) -> Result<Dataset, EvalError> {
    let texts: Vec<&str> = texts.lines().collect();
    let labels: Vec<&str> = labels.lines().collect();
    if texts.len() != labels.len() {
        return Err(EvalError::LengthMismatch {
            texts: texts.len(),
            labels: labels.len(),
        });
    }
    let mut dataset = Dataset::default();
    for (index, (text, label)) in texts.iter().zip(&labels).enumerate() {
        let line = index + 1;
        match check_text(text).and_then(|t| parse_label(label).map(|l| (t, l))) {
            Ok((text, label)) => dataset.examples.push(Example {
                line,
                text,
                label,
                complaint: None,
            }),
            Err(reason) => dataset.bad_rows.push(BadRow { line, reason }),
        }
    }
    Ok(dataset)
}

/// Counts of (true class, predicted class), indexed by `SentimentLabel::index`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Confusion {
    /// `counts[true][predicted]`.
    pub counts: [[u64; 3]; 3],
}

fn ratio(numerator: u64, denominator: u64) -> f64 {
    if denominator == 0 {
        0.0
    } else {
        numerator as f64 / denominator as f64
    }
}

fn f1(precision: f64, recall: f64) -> f64 {
    if precision + recall == 0.0 {
        0.0
    } else {
        2.0 * precision * recall / (precision + recall)
    }
}

impl Confusion {
    pub fn from_pairs(pairs: impl IntoIterator<Item = (SentimentLabel, SentimentLabel)>) -> Confusion {
        let mut confusion = Confusion::default();
        for (truth, predicted) in pairs {
            confusion.counts[truth.index()][predicted.index()] += 1;
        }
        confusion
    }

    pub fn total(&self) -> u64 {
        self.counts.iter().flatten().sum()
    }

    pub fn precision(&self, class: usize) -> f64 {
        let predicted: u64 = (0..3).map(|t| self.counts[t][class]).sum();
        ratio(self.counts[class][class], predicted)
    }

    pub fn recall(&self, class: usize) -> f64 {
        ratio(self.counts[class][class], self.counts[class].iter().sum())
    }

    pub fn f1(&self, class: usize) -> f64 {
        f1(self.precision(class), self.recall(class))
    }

    pub fn accuracy(&self) -> f64 {
        ratio((0..3).map(|c| self.counts[c][c]).sum(), self.total())
    }

    /// Mean recall over the three classes (TweetEval's sentiment metric).
    pub fn macro_recall(&self) -> f64 {
        (0..3).map(|c| self.recall(c)).sum::<f64>() / 3.0
    }

    pub fn macro_f1(&self) -> f64 {
        (0..3).map(|c| self.f1(c)).sum::<f64>() / 3.0
    }

    /// A readable table: summary metrics, per-class precision/recall/F1, and the matrix
    /// (rows true, columns predicted).
    pub fn report(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "macro recall {:.2}  macro F1 {:.2}  accuracy {:.2}  ({} posts)",
            100.0 * self.macro_recall(),
            100.0 * self.macro_f1(),
            100.0 * self.accuracy(),
            self.total()
        );
        let _ = writeln!(
            out,
            "{:<10} {:>9} {:>7} {:>7} {:>7}",
            "class", "precision", "recall", "F1", "support"
        );
        for label in SentimentLabel::ALL {
            let c = label.index();
            let _ = writeln!(
                out,
                "{:<10} {:>9.2} {:>7.2} {:>7.2} {:>7}",
                label.as_str(),
                100.0 * self.precision(c),
                100.0 * self.recall(c),
                100.0 * self.f1(c),
                self.counts[c].iter().sum::<u64>()
            );
        }
        let _ = writeln!(out, "confusion (rows true, columns predicted):");
        let _ = writeln!(out, "{:<10} {:>9} {:>9} {:>9}", "", "negative", "neutral", "positive");
        for label in SentimentLabel::ALL {
            let row = self.counts[label.index()];
            let _ = writeln!(out, "{:<10} {:>9} {:>9} {:>9}", label.as_str(), row[0], row[1], row[2]);
        }
        out
    }
}

/// Counts for a yes/no decision ("criticality ≥ threshold" against "is a complaint").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Binary {
    pub true_positive: u64,
    pub false_positive: u64,
    pub false_negative: u64,
    pub true_negative: u64,
}

impl Binary {
    /// From (truth, predicted) pairs.
    pub fn from_pairs(pairs: impl IntoIterator<Item = (bool, bool)>) -> Binary {
        let mut b = Binary::default();
        for pair in pairs {
            match pair {
                (true, true) => b.true_positive += 1,
                (false, true) => b.false_positive += 1,
                (true, false) => b.false_negative += 1,
                (false, false) => b.true_negative += 1,
            }
        }
        b
    }

    pub fn precision(&self) -> f64 {
        ratio(self.true_positive, self.true_positive + self.false_positive)
    }

    pub fn recall(&self) -> f64 {
        ratio(self.true_positive, self.true_positive + self.false_negative)
    }

    pub fn f1(&self) -> f64 {
        f1(self.precision(), self.recall())
    }
}

/// The result of scoring a dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    pub sentiment: Confusion,
    /// Posts the scorer deliberately left unscored (a language no model covers).
    pub n_unscored: usize,
    /// "criticality ≥ threshold" against the `complaint` column, over the rows that have one.
    pub complaint: Option<Binary>,
}

/// Scores every example through `service` and compares. Criticality is computed from the
/// post text alone (no author, reach or history).
pub async fn evaluate(
    service: &ScoringService,
    examples: &[Example],
    threshold: f32,
) -> Result<Evaluation, ScoringError> {
    let inputs = examples
        .iter()
        .map(|e| ScoreInput {
            text: e.text.clone(),
            lang_hint: None,
        })
        .collect();
    let outcomes = service.score(inputs).await?;
    let mut pairs = Vec::with_capacity(examples.len());
    let mut complaint_pairs = Vec::new();
    let mut n_unscored = 0;
    for (example, outcome) in examples.iter().zip(&outcomes) {
        match outcome {
            SentimentOutcome::Scored { scores, .. } => pairs.push((example.label, scores.label())),
            SentimentOutcome::Unscored { .. } => n_unscored += 1,
        }
        if let Some(truth) = example.complaint {
            let flagged = text_criticality(&example.text, example.line, outcome) >= threshold;
            complaint_pairs.push((truth, flagged));
        }
    }
    Ok(Evaluation {
        sentiment: Confusion::from_pairs(pairs),
        n_unscored,
        complaint: (!complaint_pairs.is_empty()).then(|| Binary::from_pairs(complaint_pairs)),
    })
}

/// Criticality of a bare text: no author, reach, engagement or history.
fn text_criticality(text: &str, line: usize, outcome: &SentimentOutcome) -> f32 {
    let draft = PostDraft {
        external_id: format!("eval-{line}"),
        text: text.to_owned(),
        author_handle: "eval".into(),
        ..PostDraft::default()
    };
    match Post::new(Platform::Other, draft) {
        Ok(post) => criticality::assess(&CriticalityInput {
            post: &post,
            sentiment: outcome,
            brand_handles: &[],
            history: AuthorHistory::default(),
        })
        .score(),
        Err(_) => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use SentimentLabel::{Negative as Neg, Neutral as Neu, Positive as Pos};

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-9, "{a} != {b}");
    }

    #[test]
    fn metrics_match_a_hand_computed_matrix() {
        // true neg: 2 right, 1 as neutral; true neu: 1 as neg, 3 right; true pos: 1 as neu, 2 right.
        let pairs = [
            (Neg, Neg),
            (Neg, Neg),
            (Neg, Neu),
            (Neu, Neg),
            (Neu, Neu),
            (Neu, Neu),
            (Neu, Neu),
            (Pos, Neu),
            (Pos, Pos),
            (Pos, Pos),
        ];
        let c = Confusion::from_pairs(pairs);

        assert_eq!(c.counts, [[2, 1, 0], [1, 3, 0], [0, 1, 2]]);
        close(c.accuracy(), 0.7);
        close(c.recall(0), 2.0 / 3.0);
        close(c.recall(1), 0.75);
        close(c.recall(2), 2.0 / 3.0);
        close(c.precision(0), 2.0 / 3.0);
        close(c.precision(1), 0.6);
        close(c.precision(2), 1.0);
        close(c.macro_recall(), (2.0 / 3.0 + 0.75 + 2.0 / 3.0) / 3.0);
        let f1_neu = 2.0 * 0.6 * 0.75 / 1.35;
        let f1_pos = 2.0 * (2.0 / 3.0) / (1.0 + 2.0 / 3.0);
        close(c.macro_f1(), (2.0 / 3.0 + f1_neu + f1_pos) / 3.0);
    }

    #[test]
    fn the_shipped_manifest_matrix_gives_its_recorded_scores() {
        let c = Confusion {
            counts: [[247, 44, 21], [173, 526, 170], [32, 145, 642]],
        };
        assert_eq!(c.total(), 2000);
        assert!((c.macro_recall() - 0.7269).abs() < 5e-5);
        assert!((c.macro_f1() - 0.6960).abs() < 5e-5);
        assert!((c.accuracy() - 0.7075).abs() < 5e-5);
    }

    #[test]
    fn an_empty_class_scores_zero_instead_of_dividing_by_zero() {
        let c = Confusion::from_pairs([(Neg, Neg), (Neg, Neu)]);
        close(c.precision(2), 0.0);
        close(c.recall(2), 0.0);
        close(c.f1(2), 0.0);
        close(c.accuracy(), 0.5);
    }

    #[test]
    fn binary_counts_give_precision_recall_f1() {
        let b = Binary::from_pairs([(true, true), (true, true), (false, true), (true, false), (false, false)]);
        assert_eq!(
            b,
            Binary {
                true_positive: 2,
                false_positive: 1,
                false_negative: 1,
                true_negative: 1
            }
        );
        close(b.precision(), 2.0 / 3.0);
        close(b.recall(), 2.0 / 3.0);
        close(b.f1(), 2.0 / 3.0);
    }

    #[test]
    fn csv_with_quotes_newlines_and_bad_rows() {
        let csv = "id,text,label,complaint\n\
                   1,\"My order, again, is late\",negative,1\n\
                   2,\"She said \"\"hi\"\"\nand left\",1,0\n\
                   3,fine,happy,0\n\
                   4,,positive,0\n\
                   5,ok,2\n\
                   6,great,positive,\n";
        let d = parse_csv(csv).unwrap();

        assert_eq!(d.examples.len(), 3);
        assert_eq!(d.examples[0].text, "My order, again, is late");
        assert_eq!(d.examples[0].label, Neg);
        assert_eq!(d.examples[0].complaint, Some(true));
        assert_eq!(d.examples[1].text, "She said \"hi\"\nand left");
        assert_eq!(d.examples[1].label, Neu);
        assert_eq!(d.examples[1].line, 3);
        assert_eq!(d.examples[2].line, 8);
        assert_eq!(d.examples[2].complaint, None);
        let lines: Vec<usize> = d.bad_rows.iter().map(|b| b.line).collect();
        assert_eq!(lines, vec![5, 6, 7]);
        assert!(d.bad_rows[0].reason.contains("happy"));
    }

    #[test]
    fn csv_without_a_label_column_is_an_error() {
        assert!(matches!(
            parse_csv("text,score\nhi,1\n"),
            Err(EvalError::MissingColumn("label"))
        ));
    }

    #[test]
    fn jsonl_accepts_names_numbers_and_reports_bad_lines() {
        let jsonl = "{\"text\":\"late again\",\"label\":\"negative\",\"complaint\":1}\n\
                     \n\
                     {\"text\":\"ok\",\"label\":2}\n\
                     {broken\n\
                     {\"text\":\"x\",\"label\":\"meh\"}\n";
        let d = parse_dataset(jsonl).unwrap();

        assert_eq!(d.examples.len(), 2);
        assert_eq!(d.examples[0].complaint, Some(true));
        assert_eq!(d.examples[1].label, Pos);
        assert_eq!(d.examples[1].line, 3);
        let lines: Vec<usize> = d.bad_rows.iter().map(|b| b.line).collect();
        assert_eq!(lines, vec![4, 5]);
    }

    #[test]
    fn pair_format_lines_up_text_and_labels() {
        let d = parse_pair("a\nb\nc\n", "0\n7\n2\n").unwrap();
        assert_eq!(d.examples.len(), 2);
        assert_eq!(d.examples[1].label, Pos);
        assert_eq!(
            d.bad_rows,
            vec![BadRow {
                line: 2,
                reason: d.bad_rows[0].reason.clone()
            }]
        );
        assert!(matches!(
            parse_pair("a\n", "0\n1\n"),
            Err(EvalError::LengthMismatch { .. })
        ));
    }
}
