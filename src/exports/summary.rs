//! Weekly and daily numbers per brand, built while the rows stream past.
//!
//! The builder keeps counters, not rows: memory grows with brands × days and the (pruned)
//! term counts, never with the number of posts. Task numbers come from the tasks that had
//! something happen in the week (`ExportStore::export_tasks`), which are few.
//!
//! Definitions:
//! - `negative_share`: negative posts / scored posts (unscored posts have no label).
//! - tasks opened / resolved / dismissed: counted on the day it happened.
//! - first response time: for tasks first answered that day, from the customer's post to the
//!   first answer (`tasks::sla::response_ms`).
//! - SLA breach rate: of the tasks whose SLA was decided that day (answered, or due and not
//!   answered, by the time of the export), the share that were late.
//! - top complaint terms: words of negative posts, lower-cased, stop-words, links, handles,
//!   numbers and the brand's own id dropped.
//! - recovered customers: tasks resolved that day whose author's next post to the brand
//!   after the resolution was not negative (the review queue's follow-up, `tasks.recovered`).
//!   A task whose author has not posted again is not counted (yet).

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use chrono_tz::Tz;

use super::week::{IsoWeek, local_midnight};
use crate::domain::Millis;
use crate::store::{ExportRow, ExportTask};

/// How many terms a period lists.
const TOP_TERMS_WEEK: usize = 10;
const TOP_TERMS_DAY: usize = 5;
/// Above this many distinct terms a counter drops the ones seen once, so memory stays bounded
/// on a million posts; the top terms are, by definition, not the ones seen once.
const MAX_TERMS: usize = 50_000;

/// The numbers for one brand over one period.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct PeriodStats {
    pub mentions: u64,
    pub negative: u64,
    pub neutral: u64,
    pub positive: u64,
    pub unscored: u64,
    pub negative_share: Option<f64>,
    pub mean_criticality: Option<f64>,
    pub tasks_opened: u64,
    pub tasks_resolved: u64,
    pub tasks_dismissed: u64,
    pub median_first_response_ms: Option<i64>,
    pub p90_first_response_ms: Option<i64>,
    pub sla_breach_rate: Option<f64>,
    /// Resolved tasks whose author's next post was not negative: see the module docs.
    pub recovered_customers: Option<u64>,
    pub top_terms: Vec<TermCount>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TermCount {
    pub term: String,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DaySummary {
    pub date: NaiveDate,
    #[serde(flatten)]
    pub stats: PeriodStats,
}

/// This week against the one before.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct WeekChange {
    pub previous_mentions: u64,
    /// Percentage change in mentions; `None` when last week had none.
    pub mentions_pct: Option<f64>,
    pub previous_negative_share: Option<f64>,
    /// Change in negative share, in percentage points.
    pub negative_share_pts: Option<f64>,
    pub previous_mean_criticality: Option<f64>,
    pub mean_criticality_diff: Option<f64>,
    pub previous_tasks_opened: u64,
    pub previous_sla_breach_rate: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct BrandSummary {
    pub brand: String,
    pub week: PeriodStats,
    pub days: Vec<DaySummary>,
    pub change: WeekChange,
}

/// The summary document of one export.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Summary {
    pub week: IsoWeek,
    pub timezone: String,
    pub start_ms: Millis,
    pub end_ms: Millis,
    /// `all` or a brand id.
    pub scope: String,
    pub generated_at_ms: Millis,
    pub n_rows: u64,
    pub brands: Vec<BrandSummary>,
    /// The week's recurring problems, most complaints first (filled in by the export).
    pub problems: Vec<super::problems::WeekProblem>,
    pub notes: Vec<String>,
}

pub const RECOVERED_NOTE: &str = "recovered_customers: tasks resolved in the period whose author's next post \
     to the brand after the resolution was not negative; authors who have not posted again are not counted yet";

#[derive(Debug, Default)]
struct Counter {
    mentions: u64,
    negative: u64,
    neutral: u64,
    positive: u64,
    unscored: u64,
    criticality_sum: f64,
    n_criticality: u64,
    tasks_opened: u64,
    tasks_resolved: u64,
    tasks_dismissed: u64,
    response_ms: Vec<i64>,
    sla_decided: u64,
    sla_breached: u64,
    recovered: u64,
    terms: HashMap<String, u64>,
}

impl Counter {
    fn add_row(&mut self, row: &ExportRow, terms: &[String]) {
        self.mentions += 1;
        match row.sentiment.as_deref() {
            Some("negative") => self.negative += 1,
            Some("neutral") => self.neutral += 1,
            Some("positive") => self.positive += 1,
            _ => self.unscored += 1,
        }
        if let Some(criticality) = row.criticality {
            self.criticality_sum += f64::from(criticality);
            self.n_criticality += 1;
        }
        for term in terms {
            *self.terms.entry(term.clone()).or_default() += 1;
        }
        if self.terms.len() > MAX_TERMS {
            self.terms.retain(|_, count| *count > 1);
        }
    }

    fn stats(mut self, n_terms: usize) -> PeriodStats {
        let scored = self.negative + self.neutral + self.positive;
        self.response_ms.sort_unstable();
        let mut terms: Vec<TermCount> = self
            .terms
            .into_iter()
            .map(|(term, count)| TermCount { term, count })
            .collect();
        terms.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.term.cmp(&b.term)));
        terms.truncate(n_terms);
        PeriodStats {
            mentions: self.mentions,
            negative: self.negative,
            neutral: self.neutral,
            positive: self.positive,
            unscored: self.unscored,
            negative_share: ratio(self.negative, scored),
            mean_criticality: (self.n_criticality > 0).then(|| self.criticality_sum / self.n_criticality as f64),
            tasks_opened: self.tasks_opened,
            tasks_resolved: self.tasks_resolved,
            tasks_dismissed: self.tasks_dismissed,
            median_first_response_ms: percentile(&self.response_ms, 50),
            p90_first_response_ms: percentile(&self.response_ms, 90),
            sla_breach_rate: ratio(self.sla_breached, self.sla_decided),
            recovered_customers: Some(self.recovered),
            top_terms: terms,
        }
    }
}

fn ratio(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// Nearest-rank percentile of sorted values.
pub(crate) fn percentile<T: Copy>(sorted: &[T], pct: usize) -> Option<T> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (pct * sorted.len()).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

#[derive(Debug, Default)]
struct BrandCounters {
    week: Counter,
    days: [Counter; 7],
}

/// Accumulates one week's numbers per brand.
#[derive(Debug)]
pub struct SummaryBuilder {
    week: IsoWeek,
    tz: Tz,
    /// Local midnights: Monday … next Monday.
    day_starts: [Millis; 8],
    brands: BTreeMap<String, BrandCounters>,
    n_rows: u64,
}

impl SummaryBuilder {
    /// A builder for `week` in `tz`; `brands` are listed even if they have no posts.
    pub fn new(week: IsoWeek, tz: Tz, brands: &[String]) -> SummaryBuilder {
        let monday = week.monday();
        let day_starts = std::array::from_fn(|i| local_midnight(monday + chrono::Duration::days(i as i64), tz));
        SummaryBuilder {
            week,
            tz,
            day_starts,
            brands: brands.iter().map(|b| (b.clone(), BrandCounters::default())).collect(),
            n_rows: 0,
        }
    }

    /// The local day (0 = Monday) of an instant, if it is in the week.
    fn day_of(&self, at: Millis) -> Option<usize> {
        if at < self.day_starts[0] || at >= self.day_starts[7] {
            return None;
        }
        Some(self.day_starts.partition_point(|start| *start <= at) - 1)
    }

    fn brand(&mut self, brand: &str) -> &mut BrandCounters {
        if !self.brands.contains_key(brand) {
            self.brands.insert(brand.to_owned(), BrandCounters::default());
        }
        self.brands.entry(brand.to_owned()).or_default()
    }

    pub fn add_row(&mut self, row: &ExportRow) {
        let Some(day) = self.day_of(row.created_at_ms) else {
            return;
        };
        self.n_rows += 1;
        let terms = if row.sentiment.as_deref() == Some("negative") {
            complaint_terms(&row.text, row.brand.as_str())
        } else {
            Vec::new()
        };
        let counters = self.brand(row.brand.as_str());
        counters.week.add_row(row, &terms);
        counters.days[day].add_row(row, &terms);
    }

    /// Counts what happened to tasks in the week; `now` decides which SLAs are still open.
    pub fn add_task(&mut self, task: &ExportTask, now: Millis) {
        self.add_task_as(task.brand.as_str(), task, now);
    }

    /// `add_task`, counted under `key` instead of the task's brand (the dashboard's agents).
    pub fn add_task_as(&mut self, key: &str, task: &ExportTask, now: Millis) {
        let opened = self.day_of(task.opened_at_ms);
        let responded = task.first_response_at_ms.and_then(|at| self.day_of(at));
        let closed_at = match task.status.as_str() {
            "resolved" => task.resolved_at_ms,
            "dismissed" => task.dismissed_at_ms,
            _ => None,
        };
        let closed = closed_at.and_then(|at| self.day_of(at));
        let sla = crate::tasks::sla::outcome(
            &task.status,
            task.due_at_ms,
            task.first_response_at_ms,
            task.resolved_at_ms,
            now,
        );
        let breached = sla.is_some_and(|sla| sla.breached);
        let decided = sla.and_then(|sla| self.day_of(sla.decided_at_ms));
        let event = |day: Option<usize>| TaskEvent {
            opened: opened.is_some() && (day.is_none() || opened == day),
            responded: responded.is_some() && (day.is_none() || responded == day),
            closed: closed.is_some() && (day.is_none() || closed == day),
            decided: decided.is_some() && (day.is_none() || decided == day),
            dismissed: task.status == "dismissed",
            breached,
            recovered: task.recovered == Some(true),
            response_ms: task
                .first_response_at_ms
                .map(|at| crate::tasks::sla::response_ms(task.sla_started_at_ms, at)),
        };
        let counters = self.brand(key);
        event(None).apply(&mut counters.week);
        for (i, day) in counters.days.iter_mut().enumerate() {
            event(Some(i)).apply(day);
        }
    }

    /// The numbers, with `previous` (last week's, same scope) for the week-over-week change.
    pub fn finish(self, scope: &str, generated_at_ms: Millis, previous: Option<&Summary>) -> Summary {
        let (start_ms, end_ms) = (self.day_starts[0], self.day_starts[7]);
        let days = self.week.days();
        let brands = self
            .brands
            .into_iter()
            .map(|(brand, counters)| {
                let week = counters.week.stats(TOP_TERMS_WEEK);
                let last = previous
                    .and_then(|p| p.brands.iter().find(|b| b.brand == brand))
                    .map(|b| &b.week);
                let change = week_change(&week, last);
                let days = counters
                    .days
                    .into_iter()
                    .zip(days)
                    .map(|(counter, date)| DaySummary {
                        date,
                        stats: counter.stats(TOP_TERMS_DAY),
                    })
                    .collect();
                BrandSummary {
                    brand,
                    week,
                    days,
                    change,
                }
            })
            .collect();
        Summary {
            week: self.week,
            timezone: self.tz.name().to_owned(),
            start_ms,
            end_ms,
            scope: scope.to_owned(),
            generated_at_ms,
            n_rows: self.n_rows,
            brands,
            problems: Vec::new(),
            notes: vec![RECOVERED_NOTE.to_owned()],
        }
    }
}

/// What happened to one task inside one period (the week, or one day of it).
struct TaskEvent {
    opened: bool,
    responded: bool,
    closed: bool,
    decided: bool,
    dismissed: bool,
    breached: bool,
    /// The follow-up found the author's next post was not negative.
    recovered: bool,
    response_ms: Option<i64>,
}

impl TaskEvent {
    fn apply(&self, counter: &mut Counter) {
        counter.tasks_opened += u64::from(self.opened);
        if self.closed {
            if self.dismissed {
                counter.tasks_dismissed += 1;
            } else {
                counter.tasks_resolved += 1;
                counter.recovered += u64::from(self.recovered);
            }
        }
        if self.responded
            && let Some(ms) = self.response_ms
        {
            counter.response_ms.push(ms);
        }
        if self.decided {
            counter.sla_decided += 1;
            counter.sla_breached += u64::from(self.breached);
        }
    }
}

fn week_change(week: &PeriodStats, previous: Option<&PeriodStats>) -> WeekChange {
    let Some(previous) = previous else {
        return WeekChange::default();
    };
    let diff = |now: Option<f64>, then: Option<f64>| now.zip(then).map(|(a, b)| a - b);
    WeekChange {
        previous_mentions: previous.mentions,
        mentions_pct: (previous.mentions > 0)
            .then(|| (week.mentions as f64 - previous.mentions as f64) * 100.0 / previous.mentions as f64),
        previous_negative_share: previous.negative_share,
        negative_share_pts: diff(week.negative_share, previous.negative_share).map(|d| d * 100.0),
        previous_mean_criticality: previous.mean_criticality,
        mean_criticality_diff: diff(week.mean_criticality, previous.mean_criticality),
        previous_tasks_opened: previous.tasks_opened,
        previous_sla_breach_rate: previous.sla_breach_rate,
    }
}

const STOP_WORDS: &[&str] = &[
    "the", "and", "for", "you", "your", "are", "was", "were", "not", "but", "this", "that", "with", "have", "has",
    "had", "they", "them", "their", "our", "out", "just", "again", "from", "what", "why", "who", "how", "when", "all",
    "any", "can", "could", "would", "should", "will", "did", "does", "don", "didn", "doesn", "isn", "wasn", "aren",
    "won", "can't", "still", "been", "being", "about", "into", "over", "than", "then", "there", "here", "its", "it's",
    "i'm", "i've", "im", "ive", "get", "got", "one", "now", "too", "very", "really", "also", "more", "some", "only",
    "even", "ever", "never", "every", "after", "before", "because", "while", "where", "which", "her", "his", "she",
    "him", "hers", "mine", "yours", "ours", "let", "lets", "via", "amp", "http", "https", "www", "com",
];

/// The words of a negative post worth counting as complaint terms.
pub fn complaint_terms(text: &str, brand: &str) -> Vec<String> {
    let mut terms = Vec::new();
    for token in text.split_whitespace() {
        if token.starts_with('@') || token.starts_with('#') || token.contains("://") || token.starts_with("www.") {
            continue;
        }
        for word in token.split(|c: char| !(c.is_alphanumeric() || c == '\'')) {
            let word = word.trim_matches('\'').to_lowercase();
            if word.chars().count() < 3
                || word.chars().all(|c| c.is_numeric())
                || STOP_WORDS.contains(&word.as_str())
                || brand.split(['-', '_']).any(|part| part == word)
            {
                continue;
            }
            if !terms.contains(&word) {
                terms.push(word);
            }
        }
    }
    terms
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn complaint_terms_drop_links_handles_stop_words_and_the_brand() {
        let terms = complaint_terms(
            "@AcmeAir Your flight was CANCELLED again, lost luggage!! https://x.com/a #fail acme 2026",
            "acme",
        );
        assert_eq!(terms, ["flight", "cancelled", "lost", "luggage"]);
    }

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let values: Vec<i64> = (1..=10).collect();
        assert_eq!(percentile(&values, 50), Some(5));
        assert_eq!(percentile(&values, 90), Some(9));
        assert_eq!(percentile(&[7], 90), Some(7));
        assert_eq!(percentile::<i64>(&[], 50), None);
        // Latencies (the ingest benchmark): the same nearest rank over floats.
        let sorted: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&sorted, 50), Some(50.0));
        assert_eq!(percentile(&sorted, 99), Some(99.0));
    }
}
