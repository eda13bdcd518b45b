//! Settings: one TOML file, secrets from the environment, every problem reported at once.
//!
//! Invariant: this module is the only reader of environment variables (with `secret`, whose
//! `{ env = "NAME" }` is read while config is parsed). Components receive
//! their own section by value; nothing here builds a component.
//!
//! Loading goes item by item (each brand, each source, each section) so that one mistake does
//! not hide the next: `check-config` lists every problem with its field path.

mod load;

use std::net::SocketAddr;
use std::path::PathBuf;

pub use load::{ConfigError, ConfigProblem, from_toml, load, redact_url};

use crate::alerts::ChannelSettings;
use crate::domain::{BrandId, BusinessCalendar, BusinessHoursSettings, Priority, SourceId};
use crate::secret::Secret;
use crate::sources::SourceKind;

/// The password for `earshot user add`, from `EARSHOT_NEW_USER_PASSWORD` if set.
pub fn new_user_password_from_env() -> Option<String> {
    #[allow(clippy::disallowed_methods, reason = "config is the one reader of the environment")]
    std::env::var("EARSHOT_NEW_USER_PASSWORD").ok()
}

/// The whole effective configuration.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Settings {
    pub database: DatabaseSettings,
    pub http: HttpSettings,
    pub scoring: ScoringSettings,
    pub tasks: TaskSettings,
    pub brands: Vec<BrandSettings>,
    pub sources: Vec<SourceSettings>,
    pub alerts: AlertSettings,
    pub exports: ExportSettings,
    /// Reply templates for the queue (`[[templates]]`).
    pub templates: Vec<TemplateSettings>,
    /// How several instances on one PostgreSQL database share the work (`[instances]`).
    pub instances: InstanceSettings,
    /// How long personal data is kept (`[privacy]`).
    pub privacy: PrivacySettings,
    /// Re-reading the engagement of open tasks' posts (`[engagement]`).
    pub engagement: EngagementSettings,
    /// Grouping complaints into recurring problems (`[problems]`).
    pub problems: crate::problems::ProblemSettings,
}

/// The engagement refresh (viral escalation): the posts of active tasks have their likes,
/// reposts, replies and quotes re-read on a schedule through each platform's batch lookup.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngagementSettings {
    /// Whether the refresh runs.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// When it runs: cron with seconds, UTC. Default every 10 minutes.
    #[serde(default = "default_engagement_schedule")]
    pub schedule: String,
    /// Posts written longer ago than this are not re-read (their reach has settled).
    #[serde(default = "default_engagement_max_age_hours")]
    pub max_age_hours: u64,
    /// At most this many posts are re-read per run (the stalest first).
    #[serde(default = "default_engagement_max_posts")]
    pub max_posts_per_run: usize,
}

fn default_engagement_schedule() -> String {
    "15 */10 * * * *".into()
}
fn default_engagement_max_age_hours() -> u64 {
    72
}
fn default_engagement_max_posts() -> usize {
    2_000
}

impl Default for EngagementSettings {
    fn default() -> Self {
        EngagementSettings {
            enabled: true,
            schedule: default_engagement_schedule(),
            max_age_hours: default_engagement_max_age_hours(),
            max_posts_per_run: default_engagement_max_posts(),
        }
    }
}

/// When a brand's task counts as going viral (`[brands.viral]`): its post's engagement
/// (likes + reposts + replies + quotes) grew `growth_factor` times within `window_mins`
/// (from at least `min_engagement`), or reached `threshold`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ViralSettings {
    /// How many times over the engagement must grow within the window (default 5).
    #[serde(default = "default_growth_factor")]
    pub growth_factor: f64,
    /// The window of that growth, in minutes (default 60).
    #[serde(default = "default_window_mins")]
    pub window_mins: u64,
    /// Growth counts only once the engagement has reached this (default 50), so 1 → 5 is not viral.
    #[serde(default = "default_min_engagement")]
    pub min_engagement: u64,
    /// Engagement at or past which a post is viral whatever its growth (default 1000; 0: no such rule).
    #[serde(default = "default_viral_threshold")]
    pub threshold: u64,
}

fn default_growth_factor() -> f64 {
    5.0
}
fn default_window_mins() -> u64 {
    60
}
fn default_min_engagement() -> u64 {
    50
}
fn default_viral_threshold() -> u64 {
    1_000
}

impl Default for ViralSettings {
    fn default() -> Self {
        ViralSettings {
            growth_factor: default_growth_factor(),
            window_mins: default_window_mins(),
            min_engagement: default_min_engagement(),
            threshold: default_viral_threshold(),
        }
    }
}

/// Personal data: posts are their authors' personal data, kept only as long as needed.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrivacySettings {
    /// Posts first seen more than this many days ago are deleted (with their scores,
    /// assessments and quarantined input) unless a task holds them. Unset: kept. At least
    /// 35, so every weekly export still has its whole week when it runs.
    #[serde(default)]
    pub retain_days: Option<u32>,
}

/// The least `[privacy] retain_days` may be.
pub const MIN_RETAIN_DAYS: u32 = 35;

/// Coordination between instances sharing one PostgreSQL database. On SQLite (one instance
/// per file) the leases and claims are recorded but not enforced.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstanceSettings {
    /// This instance's name in leases and claims; default `<hostname>-<pid>-<random>`, new
    /// at every start. `EARSHOT_INSTANCE_ID` overrides it. A stable id (unique among running
    /// instances) lets a restarted instance resume its own claims at once.
    #[serde(default)]
    pub id: Option<String>,
    /// How long a source's poll lease lasts without renewal; a running poll renews it every
    /// third of this, so it only lapses when its holder died.
    #[serde(default = "default_poll_lease_secs")]
    pub poll_lease_secs: u64,
    /// How long a claim on mentions being scored lasts; a killed instance's claims are taken
    /// over after this.
    #[serde(default = "default_claim_secs")]
    pub claim_secs: u64,
    /// How long a claimed alert delivery is kept from other instances; a killed instance's
    /// deliveries are sent by another after this.
    #[serde(default = "default_delivery_lease_secs")]
    pub delivery_lease_secs: u64,
    /// How often an idle scoring worker looks for mentions committed by other instances.
    #[serde(default = "default_scoring_sweep_ms")]
    pub scoring_sweep_ms: u64,
}

fn default_poll_lease_secs() -> u64 {
    300
}
fn default_claim_secs() -> u64 {
    300
}
fn default_delivery_lease_secs() -> u64 {
    600
}
fn default_scoring_sweep_ms() -> u64 {
    5_000
}

impl Default for InstanceSettings {
    fn default() -> Self {
        InstanceSettings {
            id: None,
            poll_lease_secs: default_poll_lease_secs(),
            claim_secs: default_claim_secs(),
            delivery_lease_secs: default_delivery_lease_secs(),
            scoring_sweep_ms: default_scoring_sweep_ms(),
        }
    }
}

/// A reply template: `{author}`, `{brand}`, `{agent}` and `{platform}` are filled in.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateSettings {
    pub name: String,
    pub text: String,
}

/// Where the data lives. `sqlite://` (the single-instance default) or `postgres://`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    #[serde(default = "default_database_url")]
    pub url: String,
    #[serde(default = "default_max_connections")]
    pub max_connections: u32,
    /// How long SQLite waits on a lock held by another process before giving up.
    #[serde(default = "default_busy_timeout_ms")]
    pub busy_timeout_ms: u64,
}

fn default_database_url() -> String {
    "sqlite://data/earshot.db".into()
}
fn default_max_connections() -> u32 {
    8
}
fn default_busy_timeout_ms() -> u64 {
    5_000
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        DatabaseSettings {
            url: default_database_url(),
            max_connections: default_max_connections(),
            busy_timeout_ms: default_busy_timeout_ms(),
        }
    }
}

/// The web queue and API.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSettings {
    #[serde(default = "default_bind")]
    pub bind: SocketAddr,
    /// Set when people reach the UI over HTTPS (directly or through a TLS proxy): the
    /// session cookie is then marked `Secure`, so a browser never sends it over plain HTTP.
    #[serde(default)]
    pub secure_cookies: bool,
    /// A connection that has not sent a whole request head within this many seconds is
    /// closed; the same limit applies while a keep-alive connection sits idle.
    #[serde(default = "default_header_timeout_secs")]
    pub header_timeout_secs: u64,
    /// Most connections served at once; past it new clients wait in the kernel's backlog.
    /// Keep it below the process's open-file limit (`ulimit -n`).
    #[serde(default = "default_http_max_connections")]
    pub max_connections: usize,
    /// On shutdown, how long open requests may take to finish before they are dropped.
    #[serde(default = "default_shutdown_grace_secs")]
    pub shutdown_grace_secs: u64,
    /// The bearer token a Prometheus scraper sends to `GET /metrics` (admin API tokens are
    /// accepted too). Without it, only admin tokens may scrape.
    #[serde(default)]
    pub metrics_token: Option<Secret>,
}

fn default_header_timeout_secs() -> u64 {
    10
}

fn default_http_max_connections() -> usize {
    512
}

fn default_shutdown_grace_secs() -> u64 {
    10
}

fn default_bind() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            bind: default_bind(),
            secure_cookies: false,
            header_timeout_secs: default_header_timeout_secs(),
            max_connections: default_http_max_connections(),
            shutdown_grace_secs: default_shutdown_grace_secs(),
            metrics_token: None,
        }
    }
}

/// Which scorer runs and how inference is batched.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScoringSettings {
    #[serde(default)]
    pub scorer: ScorerKind,
    /// Folder with `manifest.toml` and the model files.
    #[serde(default = "default_model_dir")]
    pub model: PathBuf,
    /// Optional model for languages the main model does not cover. Without one, such posts
    /// are stored unscored with the reason, never scored by the wrong model.
    #[serde(default)]
    pub multilingual_model: Option<PathBuf>,
    /// Posts per model batch; 0: chosen for the engine (`scoring::worker_plan`: 4 for
    /// one-thread int8 workers, 32 for libtorch).
    #[serde(default)]
    pub batch_size: usize,
    /// Batches waiting for the inference thread before callers wait (back-pressure).
    #[serde(default = "default_queue_batches")]
    pub queue_batches: usize,
    /// Threads the model may use; 0 means all cores.
    #[serde(default)]
    pub threads: usize,
    /// Scorers working in parallel, sharing `threads`; 0: one single-threaded scorer per
    /// thread for int8 models, one scorer with every thread otherwise (`scoring::worker_plan`).
    #[serde(default)]
    pub workers: usize,
    /// Numeric precision of inference. Unset: the model's fastest variant that its manifest
    /// records as accurate (`[precisions.int8]` for the shipped model), else float32.
    #[serde(default)]
    pub precision: Option<Precision>,
    /// `libonnxruntime.so` for `int8` models; unset: `ORT_DYLIB_PATH`, else the library
    /// `scripts/setup-onnxruntime.sh` linked into the clone when earshot was built.
    #[serde(default)]
    pub onnxruntime: Option<PathBuf>,
}

/// How a model computes: libtorch in float32 or bfloat16, or ONNX Runtime on the int8 file
/// its folder ships (see `scoring::model`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    Fp32,
    Bf16,
    Int8,
}

impl Precision {
    pub fn as_str(self) -> &'static str {
        match self {
            Precision::Fp32 => "fp32",
            Precision::Bf16 => "bf16",
            Precision::Int8 => "int8",
        }
    }
}

/// The transformer is the default; the lexicon is a transparent baseline for comparison.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum ScorerKind {
    #[default]
    Model,
    Lexicon,
}

fn default_model_dir() -> PathBuf {
    PathBuf::from("models/complaint-minilm-l6")
}
fn default_queue_batches() -> usize {
    8
}

impl Default for ScoringSettings {
    fn default() -> Self {
        ScoringSettings {
            scorer: ScorerKind::default(),
            model: default_model_dir(),
            multilingual_model: None,
            batch_size: 0,
            queue_batches: default_queue_batches(),
            threads: 0,
            workers: 0,
            precision: None,
            onnxruntime: None,
        }
    }
}

/// How flagged posts become tasks: priority cut-offs, SLAs, conversation grouping.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskSettings {
    /// Posts by the same author to the same brand within this window join the open task.
    #[serde(default = "default_conversation_window_secs")]
    pub conversation_window_secs: u64,
    #[serde(default)]
    pub priority: PriorityCutoffs,
    #[serde(default)]
    pub sla_secs: SlaSecs,
    /// After resolving, when to ask whether the customer is happy now.
    #[serde(default = "default_follow_up_secs")]
    pub follow_up_secs: u64,
    /// The least role that may send replies as the brand from the queue (`agent`: everyone
    /// working tasks; `lead`: leads and admins only). Others can still record a reply.
    #[serde(default = "default_send_role")]
    pub send_role: crate::auth::Role,
}

fn default_send_role() -> crate::auth::Role {
    crate::auth::Role::Agent
}

fn default_follow_up_secs() -> u64 {
    48 * 3600
}

fn default_conversation_window_secs() -> u64 {
    48 * 3600
}

impl Default for TaskSettings {
    fn default() -> Self {
        TaskSettings {
            conversation_window_secs: default_conversation_window_secs(),
            priority: PriorityCutoffs::default(),
            sla_secs: SlaSecs::default(),
            follow_up_secs: default_follow_up_secs(),
            send_role: default_send_role(),
        }
    }
}

/// Minimum criticality for each priority; below `medium` a task is `low`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PriorityCutoffs {
    pub critical: f32,
    pub high: f32,
    pub medium: f32,
}

impl Default for PriorityCutoffs {
    fn default() -> Self {
        PriorityCutoffs {
            critical: 85.0,
            high: 70.0,
            medium: 55.0,
        }
    }
}

/// Time to first response per priority, in seconds.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SlaSecs {
    pub critical: u64,
    pub high: u64,
    pub medium: u64,
    pub low: u64,
}

impl Default for SlaSecs {
    fn default() -> Self {
        SlaSecs {
            critical: 3600,
            high: 4 * 3600,
            medium: 24 * 3600,
            low: 72 * 3600,
        }
    }
}

impl SlaSecs {
    pub fn for_priority(&self, priority: Priority) -> u64 {
        match priority {
            Priority::Critical => self.critical,
            Priority::High => self.high,
            Priority::Medium => self.medium,
            Priority::Low => self.low,
        }
    }
}

/// A brand we listen for.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BrandSettings {
    pub id: BrandId,
    pub name: String,
    /// Words and phrases that make a post a mention (case-insensitive, whole words).
    pub keywords: Vec<String>,
    /// The brand's own accounts: mentioning them counts, posts written by them are skipped.
    #[serde(default)]
    pub handles: Vec<String>,
    /// Phrases that make a match a false positive ("acme anvils" for Acme Air).
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Criticality (0-100) at or above which a post becomes a response task. The default,
    /// [`DEFAULT_THRESHOLD`], was chosen on the complaint model's val split (README, "Model").
    #[serde(default = "default_threshold")]
    pub threshold: f32,
    /// Authors who must never wait (press, partners, regulators): handles as earshot stores
    /// them (`@jo`, `u/jo`, `jo@mastodon.social`), case-insensitive, leading `@` optional,
    /// optionally limited to one platform as `reddit:u/jo`. Their mentions need only half the
    /// threshold and get at least high priority.
    #[serde(default)]
    pub vip_handles: Vec<String>,
    /// Authors with at least this many followers are escalated like VIPs (0: never).
    #[serde(default = "default_high_reach_followers")]
    pub high_reach_followers: u64,
    /// The team's opening hours; SLA clocks count only these. Absent: around the clock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business_hours: Option<BusinessHoursSettings>,
    /// `business_hours` as parsed by config load, which rejects hours that do not parse: what
    /// SLA clocks count with. `None`: around the clock.
    #[serde(skip)]
    pub calendar: Option<BusinessCalendar>,
    /// The accounts earshot answers from, at most one per platform
    /// (`[[brands.reply_accounts]]`, tagged by `platform`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reply_accounts: Vec<crate::replies::ReplyAccountSettings>,
    /// When this brand's tasks count as going viral (`[brands.viral]`).
    #[serde(default)]
    pub viral: ViralSettings,
}

/// The default `threshold`: with the shipped model, the criticality with the best complaint F1
/// on the complaint val split (29.9, rounded), which flags 96.4% of its complaints (at least
/// 90% in every source and severity level) at 94.2% precision (`earshot eval`, README
/// "Model").
pub const DEFAULT_THRESHOLD: f32 = 30.0;

fn default_threshold() -> f32 {
    DEFAULT_THRESHOLD
}

fn default_high_reach_followers() -> u64 {
    50_000
}

impl BrandSettings {
    /// A brand with these keywords and every other setting at its config default, as a
    /// `[[brands]]` table with only `id`, `name` and `keywords` loads (generated brands, tests).
    pub fn new(id: BrandId, name: impl Into<String>, keywords: Vec<String>) -> BrandSettings {
        BrandSettings {
            id,
            name: name.into(),
            keywords,
            handles: Vec::new(),
            exclude: Vec::new(),
            threshold: default_threshold(),
            vip_handles: Vec::new(),
            high_reach_followers: default_high_reach_followers(),
            business_hours: None,
            calendar: None,
            reply_accounts: Vec::new(),
            viral: ViralSettings::default(),
        }
    }

    /// The brand's reply account on `platform`, if it has one.
    pub fn reply_account(&self, platform: crate::domain::Platform) -> Option<&crate::replies::ReplyAccountSettings> {
        self.reply_accounts
            .iter()
            .find(|account| account.platform() == platform)
    }

    /// Whether the author `handle` on `platform` is one of the brand's VIPs.
    pub fn is_vip(&self, platform: crate::domain::Platform, handle: &str) -> bool {
        let bare = |h: &str| h.trim().trim_start_matches('@').to_lowercase();
        let handle = bare(handle);
        !handle.is_empty()
            && self.vip_handles.iter().any(|vip| match vip.split_once(':') {
                Some((prefix, rest)) if prefix.parse::<crate::domain::Platform>().is_ok() => {
                    prefix.parse::<crate::domain::Platform>().ok() == Some(platform) && bare(rest) == handle
                }
                _ => bare(vip) == handle,
            })
    }
}

/// A source of mentions for one brand: the common part plus the platform's own settings.
#[derive(Debug, Clone)]
pub struct SourceSettings {
    pub id: SourceId,
    pub brand: BrandId,
    /// Cron expression with seconds (`sec min hour day month weekday`), in UTC; empty for
    /// push sources.
    pub schedule: String,
    pub enabled: bool,
    pub kind: SourceKind,
}

/// The keys every source has, whatever its type.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SourceCommon {
    pub(crate) id: SourceId,
    pub(crate) brand: BrandId,
    /// Empty for push sources, which are not polled.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub(crate) schedule: String,
    #[serde(default = "default_true")]
    pub(crate) enabled: bool,
}

fn default_true() -> bool {
    true
}

impl serde::Serialize for SourceSettings {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(serde::Serialize)]
        struct Flat<'a> {
            #[serde(flatten)]
            common: SourceCommon,
            #[serde(flatten)]
            kind: &'a SourceKind,
        }
        let common = SourceCommon {
            id: self.id.clone(),
            brand: self.brand.clone(),
            schedule: self.schedule.clone(),
            enabled: self.enabled,
        };
        Flat {
            common,
            kind: &self.kind,
        }
        .serialize(serializer)
    }
}

/// Chat channels that receive alerts.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertSettings {
    /// `[[alerts.channels]]`, parsed one by one in `load` (common keys, then the platform's).
    #[serde(default, skip_deserializing)]
    pub channels: Vec<ChannelSettings>,
    /// Routing rules; a channel no rule names gets alerts by its own `brands`/`min_priority`.
    #[serde(default)]
    pub rules: Vec<crate::alerts::routing::AlertRule>,
    /// Spike detection on negative mentions (`[alerts.spikes]`).
    #[serde(default)]
    pub spikes: crate::alerts::spike::SpikeSettings,
}

/// The weekly sentiment export.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportSettings {
    /// Cron expression with seconds, evaluated in `timezone`.
    #[serde(default = "default_export_schedule")]
    pub schedule: String,
    /// IANA time zone that defines the business week, e.g. `Europe/London`.
    #[serde(default = "default_timezone")]
    pub timezone: String,
    #[serde(default = "default_export_dir")]
    pub dir: PathBuf,
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Chat channels (`[[alerts.channels]]` names) that get the weekly summary after each
    /// scheduled export; empty means none.
    #[serde(default)]
    pub summary_channels: Vec<String>,
    /// The web UI's address as people reach it (e.g. `https://earshot.example.com`); when
    /// set, the weekly summary links the chart's download there.
    #[serde(default)]
    pub public_url: Option<String>,
}

fn default_export_schedule() -> String {
    "0 0 6 * * Mon".into()
}
fn default_timezone() -> String {
    "UTC".into()
}
fn default_export_dir() -> PathBuf {
    PathBuf::from("exports")
}

impl Default for ExportSettings {
    fn default() -> Self {
        ExportSettings {
            schedule: default_export_schedule(),
            timezone: default_timezone(),
            dir: default_export_dir(),
            enabled: true,
            summary_channels: Vec::new(),
            public_url: None,
        }
    }
}

impl Settings {
    /// The brand with this id.
    pub fn brand(&self, id: &BrandId) -> Option<&BrandSettings> {
        self.brands.iter().find(|b| &b.id == id)
    }

    /// The source with this id.
    pub fn source(&self, id: &SourceId) -> Option<&SourceSettings> {
        self.sources.iter().find(|s| &s.id == id)
    }

    /// The effective config as TOML, secrets redacted.
    pub fn to_redacted_toml(&self) -> Result<String, toml::ser::Error> {
        toml::to_string_pretty(self)
    }
}
