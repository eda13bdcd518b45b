//! Recurring problems: a brand's complaints (and negative mentions) grouped by what they are
//! about, so "43 people cannot log in to the app" is one thing to fix at the source, answered
//! with one known-issue message.
//!
//! What lives here is pure: the settings (`[problems]`), a problem's status, the grouping
//! (`grouping`: incremental assignment and periodic re-clustering of sentence embeddings),
//! the label (`label`: class-based TF-IDF terms) and the growth rule (`growth`). The vectors
//! come from a sentence-embedding model (`scoring::embedding`), the jobs that apply all this
//! run in `pipeline::problems`, and the store keeps problems and their members. Nothing here
//! does IO.

pub mod grouping;
pub mod growth;
pub mod label;

/// The shipped sentence-embedding model, relative to the project folder.
pub const SHIPPED_MODEL: &str = "models/minilm-l6-embedding";

/// p(complaint) from which a scored post is grouped (the complaint head's decision point);
/// negative posts are grouped whatever their p(complaint).
pub const COMPLAINT_CUT: f64 = 0.5;

/// `[problems]`: how complaints are grouped and when a growing problem is alerted.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProblemSettings {
    /// Whether complaints are grouped.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// The sentence-embedding model folder (`task = "embedding"`); default the shipped
    /// all-MiniLM-L6-v2.
    #[serde(default = "default_model")]
    pub model: std::path::PathBuf,
    /// When new complaints are assigned to problems: cron with seconds, UTC. Default every
    /// minute.
    #[serde(default = "default_assign_schedule")]
    pub assign_schedule: String,
    /// When the recent window is re-clustered: cron with seconds, UTC. Default hourly.
    #[serde(default = "default_recluster_schedule")]
    pub recluster_schedule: String,
    /// A new complaint joins the most similar problem whose centroid is at least this
    /// similar (cosine); otherwise it starts a problem of its own.
    #[serde(default = "default_join_similarity")]
    pub join_similarity: f32,
    /// Re-clustering merges groups while their members' mean cosine distance is at most this.
    #[serde(default = "default_recluster_distance")]
    pub recluster_distance: f32,
    /// The window re-clustered, and the problems new complaints may join: complaints
    /// written in the last this many days.
    #[serde(default = "default_window_days")]
    pub window_days: u32,
    /// At most this many of the window's most recent complaints per brand are re-clustered
    /// (the cost grows with the square of the number).
    #[serde(default = "default_max_window_posts")]
    pub max_window_posts: usize,
    /// A problem is listed once it holds at least this many complaints.
    #[serde(default = "default_min_members")]
    pub min_members: u32,
    /// When a problem counts as growing.
    #[serde(default)]
    pub growth: growth::GrowthSettings,
}

fn default_true() -> bool {
    true
}
fn default_model() -> std::path::PathBuf {
    std::path::PathBuf::from(SHIPPED_MODEL)
}
fn default_assign_schedule() -> String {
    "40 * * * * *".into()
}
fn default_recluster_schedule() -> String {
    "50 12 * * * *".into()
}
fn default_join_similarity() -> f32 {
    0.5
}
fn default_recluster_distance() -> f32 {
    0.6
}
fn default_window_days() -> u32 {
    14
}
fn default_max_window_posts() -> usize {
    3_000
}
fn default_min_members() -> u32 {
    3
}

impl Default for ProblemSettings {
    fn default() -> Self {
        ProblemSettings {
            enabled: true,
            model: default_model(),
            assign_schedule: default_assign_schedule(),
            recluster_schedule: default_recluster_schedule(),
            join_similarity: default_join_similarity(),
            recluster_distance: default_recluster_distance(),
            window_days: default_window_days(),
            max_window_posts: default_max_window_posts(),
            min_members: default_min_members(),
            growth: growth::GrowthSettings::default(),
        }
    }
}

impl ProblemSettings {
    /// What is wrong with these settings, as (key, message) pairs.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if !(0.0..=1.0).contains(&self.join_similarity) {
            out.push(("problems.join_similarity", "must be between 0 and 1".to_owned()));
        }
        if !(0.0..=2.0).contains(&self.recluster_distance) {
            out.push(("problems.recluster_distance", "must be between 0 and 2".to_owned()));
        }
        if !(1..=90).contains(&self.window_days) {
            out.push(("problems.window_days", "must be between 1 and 90 days".to_owned()));
        }
        if !(10..=20_000).contains(&self.max_window_posts) {
            out.push(("problems.max_window_posts", "must be between 10 and 20000".to_owned()));
        }
        if !(1..=1000).contains(&self.min_members) {
            out.push(("problems.min_members", "must be between 1 and 1000".to_owned()));
        }
        out.extend(self.growth.problems());
        out
    }

    pub fn window_ms(&self) -> i64 {
        i64::from(self.window_days) * 24 * 3_600_000
    }
}

/// Where a problem stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemStatus {
    /// Found by earshot; nobody has looked at it yet.
    New,
    /// A lead knows about it (and may have written the known-issue message).
    Acknowledged,
    /// Fixed at the source; new complaints that match it reopen it as acknowledged.
    Fixed,
}

impl ProblemStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ProblemStatus::New => "new",
            ProblemStatus::Acknowledged => "acknowledged",
            ProblemStatus::Fixed => "fixed",
        }
    }

    pub fn parse(value: &str) -> Option<ProblemStatus> {
        match value {
            "new" => Some(ProblemStatus::New),
            "acknowledged" => Some(ProblemStatus::Acknowledged),
            "fixed" => Some(ProblemStatus::Fixed),
            _ => None,
        }
    }
}
