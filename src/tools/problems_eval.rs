//! `earshot problems eval`: how well the live grouping recovers reference categories. Reads
//! posts with a category (JSONL `{"text":…,"category":…}` or CSV with `text` and `category`
//! columns), embeds them with the problems' sentence-embedding model, groups them in file order exactly as the
//! problems jobs do (`problems::grouping::replay`), and scores the groups against the
//! categories: normalised mutual information, purity and the adjusted Rand index.
//! Offline tooling; never used by the running service.

use std::collections::HashMap;

use crate::problems::grouping::replay;
use crate::scoring::ScoringError;
use crate::scoring::embedding::EmbeddingService;

/// A post and its reference category.
#[derive(Debug, Clone, PartialEq)]
pub struct CategorisedPost {
    pub text: String,
    pub category: String,
}

/// A row that could not be read, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct BadRow {
    pub line: usize,
    pub reason: String,
}

/// Why a dataset cannot be read at all.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    #[error("CSV has no `{0}` column (it needs `text` and `category`)")]
    MissingColumn(&'static str),
    #[error("CSV: {0}")]
    Csv(#[from] csv::Error),
}

/// Reads JSONL (when the first non-blank character is `{`) or CSV.
pub fn parse(content: &str) -> Result<(Vec<CategorisedPost>, Vec<BadRow>), DatasetError> {
    let content = content.strip_prefix('\u{feff}').unwrap_or(content);
    if content.trim_start().starts_with('{') {
        Ok(parse_jsonl(content))
    } else {
        parse_csv(content)
    }
}

fn parse_jsonl(content: &str) -> (Vec<CategorisedPost>, Vec<BadRow>) {
    #[derive(serde::Deserialize)]
    struct Row {
        text: String,
        category: serde_json::Value,
    }
    let mut posts = Vec::new();
    let mut bad = Vec::new();
    for (i, line) in content.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Row>(line) {
            Ok(row) => match category_text(&row.category) {
                Some(category) if !row.text.trim().is_empty() => posts.push(CategorisedPost {
                    text: row.text,
                    category,
                }),
                _ => bad.push(BadRow {
                    line: i + 1,
                    reason: "empty text or category".into(),
                }),
            },
            Err(error) => bad.push(BadRow {
                line: i + 1,
                reason: error.to_string(),
            }),
        }
    }
    (posts, bad)
}

fn category_text(value: &serde_json::Value) -> Option<String> {
    let text = match value {
        serde_json::Value::String(s) => s.trim().to_owned(),
        serde_json::Value::Number(n) => n.to_string(),
        _ => return None,
    };
    (!text.is_empty()).then_some(text)
}

fn parse_csv(content: &str) -> Result<(Vec<CategorisedPost>, Vec<BadRow>), DatasetError> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(content.as_bytes());
    let headers = reader.headers()?.clone();
    let column = |name: &'static str| {
        headers
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(name))
            .ok_or(DatasetError::MissingColumn(name))
    };
    let (text_at, category_at) = (column("text")?, column("category")?);
    let mut posts = Vec::new();
    let mut bad = Vec::new();
    for (i, record) in reader.records().enumerate() {
        // Line numbers count the header as line 1 (records may span lines; this is the record).
        let line = i + 2;
        match record {
            Ok(record) => {
                let text = record.get(text_at).unwrap_or("").trim();
                let category = record.get(category_at).unwrap_or("").trim();
                if text.is_empty() || category.is_empty() {
                    bad.push(BadRow {
                        line,
                        reason: "empty text or category".into(),
                    });
                } else {
                    posts.push(CategorisedPost {
                        text: text.to_owned(),
                        category: category.to_owned(),
                    });
                }
            }
            Err(error) => bad.push(BadRow {
                line,
                reason: error.to_string(),
            }),
        }
    }
    Ok((posts, bad))
}

/// How well groups recover categories.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Agreement {
    pub nmi: f64,
    pub purity: f64,
    pub ari: f64,
    pub groups: usize,
    /// Groups of one post.
    pub singletons: usize,
}

/// NMI (arithmetic normalisation), purity and ARI of `groups` against `categories`.
pub fn agreement<C: std::hash::Hash + Eq, G: std::hash::Hash + Eq>(categories: &[C], groups: &[G]) -> Agreement {
    let n = categories.len().min(groups.len());
    let mut class_ids: HashMap<&C, usize> = HashMap::new();
    let mut group_ids: HashMap<&G, usize> = HashMap::new();
    let mut cells: HashMap<(usize, usize), f64> = HashMap::new();
    for (c, g) in categories.iter().zip(groups).take(n) {
        let next = class_ids.len();
        let ci = *class_ids.entry(c).or_insert(next);
        let next = group_ids.len();
        let gi = *group_ids.entry(g).or_insert(next);
        *cells.entry((ci, gi)).or_insert(0.0) += 1.0;
    }
    let mut a = vec![0.0f64; class_ids.len()];
    let mut b = vec![0.0f64; group_ids.len()];
    for (&(ci, gi), &v) in &cells {
        a[ci] += v;
        b[gi] += v;
    }
    let total = n as f64;
    let entropy = |sizes: &[f64]| -> f64 {
        sizes
            .iter()
            .filter(|s| **s > 0.0)
            .map(|s| {
                let p = s / total;
                -p * p.ln()
            })
            .sum()
    };
    let mutual: f64 = cells
        .iter()
        .map(|(&(ci, gi), &v)| v / total * (total * v / (a[ci] * b[gi])).ln())
        .sum();
    let (h_c, h_g) = (entropy(&a), entropy(&b));
    let nmi = if h_c + h_g <= 0.0 {
        1.0
    } else {
        (2.0 * mutual / (h_c + h_g)).clamp(0.0, 1.0)
    };
    let mut best = vec![0.0f64; b.len()];
    for (&(_, gi), &v) in &cells {
        best[gi] = best[gi].max(v);
    }
    let purity = if n == 0 { 0.0 } else { best.iter().sum::<f64>() / total };
    let pairs = |x: f64| x * (x - 1.0) / 2.0;
    let index: f64 = cells.values().map(|v| pairs(*v)).sum();
    let (sum_a, sum_b) = (
        a.iter().map(|v| pairs(*v)).sum::<f64>(),
        b.iter().map(|v| pairs(*v)).sum::<f64>(),
    );
    let expected = if n < 2 { 0.0 } else { sum_a * sum_b / pairs(total) };
    let max_index = (sum_a + sum_b) / 2.0;
    let ari = if (max_index - expected).abs() < f64::EPSILON {
        1.0
    } else {
        (index - expected) / (max_index - expected)
    };
    Agreement {
        nmi,
        purity,
        ari,
        groups: b.len(),
        singletons: b.iter().filter(|s| **s == 1.0).count(),
    }
}

/// The grouping's knobs, as in `[problems]`.
#[derive(Debug, Clone, Copy)]
pub struct ReplaySettings {
    pub join_similarity: f32,
    pub recluster_distance: f32,
    /// Posts between two re-clusterings (the hourly job, in posts).
    pub recluster_every: usize,
}

/// What an evaluation found.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalResult {
    pub agreement: Agreement,
    pub n_categories: usize,
    /// How many posts each group holds, largest first.
    pub group_sizes: Vec<usize>,
}

/// Embeds the posts with `embedder` and groups them as the live system would.
pub async fn evaluate(
    embedder: &EmbeddingService,
    posts: &[CategorisedPost],
    settings: ReplaySettings,
) -> Result<EvalResult, ScoringError> {
    let embeddings = embedder.embed(posts.iter().map(|p| p.text.clone()).collect()).await?;
    let categories: Vec<&str> = posts.iter().map(|p| p.category.as_str()).collect();
    let groups = replay(
        &embeddings,
        settings.join_similarity,
        settings.recluster_distance,
        settings.recluster_every,
    );
    let n_categories = categories.iter().collect::<std::collections::HashSet<_>>().len();
    let mut sizes: HashMap<i64, usize> = HashMap::new();
    for g in &groups {
        *sizes.entry(*g).or_insert(0) += 1;
    }
    let mut group_sizes: Vec<usize> = sizes.into_values().collect();
    group_sizes.sort_unstable_by(|a, b| b.cmp(a));
    Ok(EvalResult {
        agreement: agreement(&categories, &groups),
        n_categories,
        group_sizes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_groupings_score_one_and_a_single_group_scores_nothing() {
        let categories = ["a", "a", "b", "b", "c", "c"];
        let same = agreement(&categories, &[7, 7, 3, 3, 9, 9]);
        assert!((same.nmi - 1.0).abs() < 1e-9 && (same.ari - 1.0).abs() < 1e-9 && same.purity == 1.0);
        assert_eq!((same.groups, same.singletons), (3, 0));
        let one = agreement(&categories, &[1; 6]);
        assert!(one.nmi.abs() < 1e-9 && one.ari.abs() < 1e-9);
        assert!((one.purity - 2.0 / 6.0).abs() < 1e-9);
        let each = agreement(&categories, &[1, 2, 3, 4, 5, 6]);
        assert_eq!(each.purity, 1.0, "singletons are pure");
        assert!(each.ari <= 0.0, "but agree no better than chance on pairs");
        assert_eq!(each.singletons, 6);
    }

    #[test]
    fn known_values_match_the_textbook_example() {
        // Manning, Raghavan & Schütze, Introduction to IR, fig. 16.4: purity 0.71, NMI 0.36.
        let classes = [
            "x", "x", "x", "x", "x", "o", "x", "o", "o", "o", "o", "d", "x", "x", "d", "d", "d",
        ];
        let clusters = [1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3];
        let a = agreement(&classes, &clusters);
        assert!((a.purity - 12.0 / 17.0).abs() < 1e-9, "{a:?}");
        assert!((a.nmi - 0.36).abs() < 0.01, "{a:?}");
    }

    #[test]
    fn reads_jsonl_and_csv_and_reports_bad_rows() {
        let (posts, bad) = parse("{\"text\":\"app down\",\"category\":\"login\"}\nnot json\n{\"text\":\"\",\"category\":\"x\"}\n{\"text\":\"late\",\"category\":3}\n").unwrap();
        assert_eq!(posts.len(), 2);
        assert_eq!(posts[1].category, "3");
        assert_eq!(bad.iter().map(|b| b.line).collect::<Vec<_>>(), [2, 3]);
        let (posts, bad) = parse("id,Text,category\n1,\"card, blocked\",cards\n2,,cards\n").unwrap();
        assert_eq!(
            posts,
            [CategorisedPost {
                text: "card, blocked".into(),
                category: "cards".into()
            }]
        );
        assert_eq!(bad.len(), 1);
        assert!(matches!(
            parse("text,label\na,b\n"),
            Err(DatasetError::MissingColumn("category"))
        ));
    }
}
