//! Evaluation of a scorer on labelled posts: dataset readers (CSV, JSONL, the TweetEval
//! text/labels pair) and the metrics, as pure functions.
//!
//! Datasets: CSV with a header naming `text` and at least one of `label` (sentiment),
//! `complaint` (0/1; also read from `complaint_label`) and optionally `severity` (the five
//! names or 0-4); JSONL with the same keys; or two files where line n of the labels file
//! labels line n of the text file. Sentiment labels are `negative|neutral|positive` or
//! `0|1|2`. A row that cannot be read is reported with its line number and skipped.
//!
//! Complaint metrics treat "criticality ≥ threshold" as the prediction: at the configured
//! threshold, at the threshold that maximises F1, and threshold-free (PR-AUC).

use std::fmt::Write as _;

use crate::domain::{ComplaintScores, Platform, Post, PostDraft, SentimentLabel, SentimentOutcome, Severity};
use crate::scoring::criticality::{self, CriticalityInput, Escalation};
use crate::scoring::{ScoreInput, ScoringError, ScoringService};
use crate::store::AuthorHistory;

/// One labelled post.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    /// 1-based line where the row starts.
    pub line: usize,
    pub text: String,
    /// The sentiment label, if the dataset has one.
    pub label: Option<SentimentLabel>,
    /// Whether a reviewer marked the post as a complaint needing an answer, if known.
    pub complaint: Option<bool>,
    /// The complaint's severity, if known (`None` severity means "not a complaint").
    pub severity: Option<Severity>,
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
    #[error("the CSV header has no {0:?} column (it needs \"text\" and \"label\" or \"complaint\")")]
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

fn parse_severity(value: &str) -> Result<Option<Severity>, String> {
    if value.trim().is_empty() {
        return Ok(None);
    }
    Severity::parse(value).map(Some).ok_or_else(|| {
        format!("severity {value:?} is not none, no explicit reproach, disapproval, accusation, blame or 0-4")
    })
}

/// Sentiment, complaint and severity labels of one row.
type Labels = (Option<SentimentLabel>, Option<bool>, Option<Severity>);

/// The labels of one row; at least one of sentiment and complaint must be present. A
/// severity without a complaint label implies it (`none` = not a complaint).
fn labels_of(
    label: Option<SentimentLabel>,
    complaint: Option<bool>,
    severity: Option<Severity>,
) -> Result<Labels, String> {
    let complaint = complaint.or(severity.map(|s| s != Severity::None));
    if let (Some(complaint), Some(severity)) = (complaint, severity)
        && complaint != (severity != Severity::None)
    {
        return Err(format!(
            "complaint {} disagrees with severity {:?}",
            u8::from(complaint),
            severity.as_str()
        ));
    }
    if label.is_none() && complaint.is_none() {
        return Err("no label and no complaint".into());
    }
    Ok((label, complaint, severity))
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
            Ok((text, (label, complaint, severity))) => dataset.examples.push(Example {
                line,
                text,
                label,
                complaint,
                severity,
            }),
            Err(reason) => dataset.bad_rows.push(BadRow { line, reason }),
        }
    }
    dataset
}

fn jsonl_row(raw: &str) -> Result<(String, Labels), String> {
    let value: serde_json::Value = serde_json::from_str(raw).map_err(|e| format!("not JSON: {e}"))?;
    let object = value.as_object().ok_or("not a JSON object")?;
    let text = object
        .get("text")
        .and_then(|v| v.as_str())
        .ok_or("no \"text\" string")?;
    let label = match object.get("label").or_else(|| object.get("sentiment")) {
        Some(serde_json::Value::String(s)) => Some(parse_label(s)?),
        Some(serde_json::Value::Number(n)) => Some(parse_label(&n.to_string())?),
        None | Some(serde_json::Value::Null) => None,
        Some(other) => return Err(format!("label {other} is not a name or 0-2")),
    };
    let severity = match object.get("severity") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) => parse_severity(s)?,
        Some(serde_json::Value::Number(n)) => parse_severity(&n.to_string())?,
        Some(other) => return Err(format!("severity {other} is not a name or 0-4")),
    };
    let complaint = match object.get("complaint").or_else(|| object.get("complaint_label")) {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::Bool(b)) => Some(*b),
        Some(serde_json::Value::Number(n)) => parse_complaint(&n.to_string())?,
        Some(serde_json::Value::String(s)) => parse_complaint(s)?,
        Some(other) => return Err(format!("complaint {other} is not 0 or 1")),
    };
    Ok((check_text(text)?, labels_of(label, complaint, severity)?))
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

/// Reads CSV with a header row naming `text` and `label` and/or `complaint` (or
/// `complaint_label`), optionally `severity`.
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
    let label_col = column("label").or_else(|| column("sentiment"));
    let complaint_col = column("complaint").or_else(|| column("complaint_label"));
    let severity_col = column("severity");
    if label_col.is_none() && complaint_col.is_none() && severity_col.is_none() {
        return Err(EvalError::MissingColumn("label"));
    }
    let mut dataset = Dataset::default();
    for (line, fields) in rows {
        let row = (|| {
            if fields.len() != header.len() {
                return Err(format!("{} fields, the header has {}", fields.len(), header.len()));
            }
            let text = check_text(&fields[text_col])?;
            let label = match label_col {
                Some(c) if !fields[c].trim().is_empty() => Some(parse_label(&fields[c])?),
                _ => None,
            };
            let complaint = match complaint_col {
                Some(c) => parse_complaint(&fields[c])?,
                None => None,
            };
            let severity = match severity_col {
                Some(c) => parse_severity(&fields[c])?,
                None => None,
            };
            Ok((text, labels_of(label, complaint, severity)?))
        })();
        match row {
            Ok((text, (label, complaint, severity))) => dataset.examples.push(Example {
                line,
                text,
                label,
                complaint,
                severity,
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
                label: Some(label),
                complaint: None,
                severity: None,
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

/// One scored row, as `--per-row` writes it.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredRow {
    pub line: usize,
    pub label: Option<SentimentLabel>,
    pub complaint: Option<bool>,
    pub severity: Option<Severity>,
    /// `None` when the scorer left the post unscored.
    pub sentiment: Option<crate::domain::SentimentScores>,
    pub scores: Option<ComplaintScores>,
    pub criticality: f32,
}

/// Complaint detection at one threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct AtThreshold {
    pub threshold: f32,
    pub counts: Binary,
    /// Recall of the complaints of each severity (`Severity::ALL[1..]`), with their count;
    /// `None` where the dataset has no severities.
    pub recall_by_severity: Vec<(Severity, u64, f64)>,
}

impl AtThreshold {
    fn new(rows: &[&ScoredRow], threshold: f32) -> AtThreshold {
        let counts = Binary::from_pairs(
            rows.iter()
                .filter_map(|r| r.complaint.map(|t| (t, r.criticality >= threshold))),
        );
        let recall_by_severity = Severity::ALL[1..]
            .iter()
            .filter_map(|level| {
                let of_level: Vec<&&ScoredRow> = rows.iter().filter(|r| r.severity == Some(*level)).collect();
                let n = of_level.len() as u64;
                let caught = of_level.iter().filter(|r| r.criticality >= threshold).count() as u64;
                (n > 0).then(|| (*level, n, ratio(caught, n)))
            })
            .collect();
        AtThreshold {
            threshold,
            counts,
            recall_by_severity,
        }
    }

    /// Mean F1 of the complaint and the not-complaint class.
    pub fn macro_f1(&self) -> f64 {
        let b = &self.counts;
        let negative_class = Binary {
            true_positive: b.true_negative,
            false_positive: b.false_negative,
            false_negative: b.false_positive,
            true_negative: b.true_positive,
        };
        (b.f1() + negative_class.f1()) / 2.0
    }

    /// `complaint detection (criticality >= T): precision … (tp, fp, fn, tn)`, then macro F1
    /// and the recall per severity.
    pub fn report(&self, what: &str) -> String {
        let b = &self.counts;
        let mut out = format!(
            "complaint detection (criticality >= {}{what}): precision {:.2}  recall {:.2}  F1 {:.2}  macro F1 {:.2}  (tp {}, fp {}, fn {}, tn {})",
            self.threshold,
            100.0 * b.precision(),
            100.0 * b.recall(),
            100.0 * b.f1(),
            100.0 * self.macro_f1(),
            b.true_positive,
            b.false_positive,
            b.false_negative,
            b.true_negative
        );
        if !self.recall_by_severity.is_empty() {
            let levels: Vec<String> = self
                .recall_by_severity
                .iter()
                .map(|(level, n, recall)| format!("{} {:.2} (n {n})", level.as_str(), 100.0 * recall))
                .collect();
            let _ = write!(out, "\n  recall by severity: {}", levels.join(", "));
        }
        out
    }
}

/// Complaint metrics over the rows with a complaint label.
#[derive(Debug, Clone, PartialEq)]
pub struct ComplaintReport {
    pub at_threshold: AtThreshold,
    /// The threshold (a criticality that occurs in the data) with the highest F1.
    pub best: AtThreshold,
    /// Average precision of ranking by criticality (area under the precision-recall curve).
    pub pr_auc: f64,
    /// The highest threshold that still flags at least 90% of the complaints.
    pub threshold_for_90_recall: Option<f32>,
}

impl ComplaintReport {
    fn new(rows: &[ScoredRow], threshold: f32) -> Option<ComplaintReport> {
        let labelled: Vec<&ScoredRow> = rows.iter().filter(|r| r.complaint.is_some()).collect();
        if labelled.is_empty() {
            return None;
        }
        let mut candidates: Vec<f32> = labelled.iter().map(|r| r.criticality).collect();
        candidates.sort_by(|a, b| b.total_cmp(a));
        candidates.dedup();
        let mut best: Option<AtThreshold> = None;
        for t in &candidates {
            let at = AtThreshold::new(&labelled, *t);
            if best.as_ref().is_none_or(|b| at.counts.f1() > b.counts.f1()) {
                best = Some(at);
            }
        }
        let scored: Vec<(f32, bool)> = labelled
            .iter()
            .filter_map(|r| r.complaint.map(|t| (r.criticality, t)))
            .collect();
        let positives = scored.iter().filter(|(_, t)| *t).count();
        let threshold_for_90_recall = candidates.iter().copied().find(|t| {
            let caught = scored.iter().filter(|(c, truth)| *truth && c >= t).count();
            positives > 0 && caught as f64 >= 0.9 * positives as f64
        });
        Some(ComplaintReport {
            at_threshold: AtThreshold::new(&labelled, threshold),
            best: best?,
            pr_auc: average_precision(&scored),
            threshold_for_90_recall,
        })
    }
}

/// Average precision of ranking by score, ties broken pessimistically (negatives first).
pub fn average_precision(scored: &[(f32, bool)]) -> f64 {
    let positives = scored.iter().filter(|(_, t)| *t).count();
    if positives == 0 {
        return 0.0;
    }
    let mut order: Vec<&(f32, bool)> = scored.iter().collect();
    order.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut caught = 0usize;
    let mut sum = 0.0;
    for (rank, (_, truth)) in order.iter().enumerate() {
        if *truth {
            caught += 1;
            sum += caught as f64 / (rank + 1) as f64;
        }
    }
    sum / positives as f64
}

/// The result of scoring a dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// Over the rows with a sentiment label; `None` when there are none.
    pub sentiment: Option<Confusion>,
    /// Posts the scorer deliberately left unscored (a language no model covers).
    pub n_unscored: usize,
    /// "criticality ≥ threshold" against the `complaint` column, over the rows that have one.
    pub complaint: Option<ComplaintReport>,
    pub rows: Vec<ScoredRow>,
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
    let mut rows = Vec::with_capacity(examples.len());
    let mut n_unscored = 0;
    for (example, outcome) in examples.iter().zip(&outcomes) {
        let (sentiment, scores) = match outcome {
            SentimentOutcome::Scored { scores, complaint, .. } => {
                if let Some(label) = example.label {
                    pairs.push((label, scores.label()));
                }
                (Some(*scores), *complaint)
            }
            SentimentOutcome::Unscored { .. } => {
                n_unscored += 1;
                (None, None)
            }
        };
        rows.push(ScoredRow {
            line: example.line,
            label: example.label,
            complaint: example.complaint,
            severity: example.severity,
            sentiment,
            scores,
            criticality: text_criticality(&example.text, example.line, outcome),
        });
    }
    Ok(Evaluation {
        sentiment: (!pairs.is_empty()).then(|| Confusion::from_pairs(pairs)),
        n_unscored,
        complaint: ComplaintReport::new(&rows, threshold),
        rows,
    })
}

/// Writes one CSV line per row: line, labels, the model's scores and the criticality.
pub fn write_rows(rows: &[ScoredRow], out: impl std::io::Write) -> Result<(), csv::Error> {
    let mut writer = csv::Writer::from_writer(out);
    let mut header = vec![
        "line",
        "label",
        "complaint",
        "severity",
        "p_negative",
        "p_neutral",
        "p_positive",
        "p_complaint",
    ];
    let severity_columns: Vec<String> = Severity::ALL
        .iter()
        .map(|s| format!("p_{}", s.as_str().replace(' ', "_")))
        .collect();
    header.extend(severity_columns.iter().map(String::as_str));
    header.push("criticality");
    writer.write_record(&header)?;
    let number = |v: Option<f32>| v.map(|v| format!("{v:.6}")).unwrap_or_default();
    for row in rows {
        let mut record = vec![
            row.line.to_string(),
            row.label.map(|l| l.as_str().to_owned()).unwrap_or_default(),
            row.complaint.map(|c| u8::from(c).to_string()).unwrap_or_default(),
            row.severity.map(|s| s.as_str().to_owned()).unwrap_or_default(),
            number(row.sentiment.map(|s| s.negative)),
            number(row.sentiment.map(|s| s.neutral)),
            number(row.sentiment.map(|s| s.positive)),
            number(row.scores.map(|c| c.probability)),
        ];
        for level in Severity::ALL {
            record.push(number(row.scores.map(|c| c.severity[level.index()])));
        }
        record.push(format!("{:.4}", row.criticality));
        writer.write_record(&record)?;
    }
    writer.flush()?;
    Ok(())
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
            escalation: Escalation::default(),
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
        assert_eq!(d.examples[0].label, Some(Neg));
        assert_eq!(d.examples[0].complaint, Some(true));
        assert_eq!(d.examples[1].text, "She said \"hi\"\nand left");
        assert_eq!(d.examples[1].label, Some(Neu));
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
    fn complaint_only_csv_reads_complaint_label_and_severity() {
        let csv = "text,complaint_label,severity\n\
                   lost my bag,1,Blame\n\
                   lovely flight,0,Non-Complaint\n\
                   hold music again,,disapproval\n\
                   late,0,accusation\n\
                   meh,,\n";
        let d = parse_csv(csv).unwrap();

        assert_eq!(d.examples.len(), 3);
        assert_eq!(d.examples[0].complaint, Some(true));
        assert_eq!(d.examples[0].severity, Some(Severity::Blame));
        assert_eq!(d.examples[0].label, None);
        assert_eq!(d.examples[1].severity, Some(Severity::None));
        assert_eq!(d.examples[2].complaint, Some(true), "a severity implies a complaint");
        let reasons: Vec<&str> = d.bad_rows.iter().map(|b| b.reason.as_str()).collect();
        assert!(reasons[0].contains("disagrees"), "{reasons:?}");
        assert!(reasons[1].contains("no label"), "{reasons:?}");
    }

    fn row(line: usize, complaint: bool, severity: Severity, criticality: f32) -> ScoredRow {
        ScoredRow {
            line,
            label: None,
            complaint: Some(complaint),
            severity: Some(severity),
            sentiment: None,
            scores: None,
            criticality,
        }
    }

    #[test]
    fn complaint_report_at_threshold_best_f1_pr_auc_and_severity_recall() {
        use Severity::{Blame, Disapproval, None as NotComplaint};
        let rows = vec![
            row(1, true, Blame, 90.0),
            row(2, true, Disapproval, 60.0),
            row(3, false, NotComplaint, 50.0),
            row(4, true, Disapproval, 40.0),
            row(5, false, NotComplaint, 10.0),
        ];
        let report = ComplaintReport::new(&rows, 55.0).unwrap();

        let at = &report.at_threshold;
        assert_eq!(
            at.counts,
            Binary {
                true_positive: 2,
                false_positive: 0,
                false_negative: 1,
                true_negative: 2
            }
        );
        assert_eq!(at.recall_by_severity, vec![(Disapproval, 2, 0.5), (Blame, 1, 1.0)]);
        // complaint F1 0.8, not-complaint F1 2*(2/3*1)/(5/3) = 0.8
        close(at.macro_f1(), 0.8);
        assert_eq!(
            report.best.threshold, 40.0,
            "catching all three costs one false positive: F1 0.857"
        );
        // ranks: 1 (tp), 2 (tp), 3 (fp), 4 (tp) -> (1 + 1 + 3/4) / 3
        close(report.pr_auc, (1.0 + 1.0 + 0.75) / 3.0);
        assert_eq!(report.threshold_for_90_recall, Some(40.0));
        let text = at.report("");
        assert!(
            text.starts_with("complaint detection (criticality >= 55): precision 100.00  recall 66.67"),
            "{text}"
        );
        assert!(
            text.contains("(tp 2, fp 0, fn 1, tn 2)") && text.contains("disapproval 50.00 (n 2)"),
            "{text}"
        );
    }

    #[test]
    fn per_row_csv_has_one_line_per_row_with_its_scores() {
        let mut r = row(7, true, Severity::Accusation, 61.5);
        r.scores = ComplaintScores::new(0.75, [0.1, 0.1, 0.2, 0.5, 0.1]);
        let mut out = Vec::new();
        write_rows(&[r], &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(
            lines[0].starts_with("line,label,complaint,severity,p_negative"),
            "{}",
            lines[0]
        );
        assert!(lines[0].ends_with("p_accusation,p_blame,criticality"), "{}", lines[0]);
        assert_eq!(
            lines[1],
            "7,,1,accusation,,,,0.750000,0.100000,0.100000,0.200000,0.500000,0.100000,61.5000"
        );
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
        assert_eq!(d.examples[1].label, Some(Pos));
        assert_eq!(d.examples[1].line, 3);
        let lines: Vec<usize> = d.bad_rows.iter().map(|b| b.line).collect();
        assert_eq!(lines, vec![4, 5]);
    }

    #[test]
    fn pair_format_lines_up_text_and_labels() {
        let d = parse_pair("a\nb\nc\n", "0\n7\n2\n").unwrap();
        assert_eq!(d.examples.len(), 2);
        assert_eq!(d.examples[1].label, Some(Pos));
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
