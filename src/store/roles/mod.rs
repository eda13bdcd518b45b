//! The store's roles: one trait per side of earshot that keeps or reads something (ingest,
//! scoring, the queue, alerts, exports, admin, …). A role's methods are what that side needs
//! and no more; `Store` is all of them. Callers holding `dyn Store` see every role's methods;
//! a component that needs only one role can take `&dyn` that role.

mod admin;
mod alert;
mod delivery;
mod engagement;
mod export;
mod health;
mod ingest;
mod lease;
mod mention;
mod privacy;
mod problem;
mod queue;
mod reply;
mod review;
mod scoring;
mod spike;
mod template;
mod user;

pub use admin::AdminStore;
pub use alert::AlertStore;
pub use delivery::DeliveryStore;
pub use engagement::EngagementStore;
pub use export::ExportStore;
pub use health::HealthStore;
pub use ingest::IngestStore;
pub use lease::LeaseStore;
pub use mention::MentionStore;
pub use privacy::PrivacyStore;
pub use problem::ProblemStore;
pub use queue::QueueStore;
pub use reply::ReplyStore;
pub use review::ReviewStore;
pub use scoring::ScoringStore;
pub use spike::SpikeStore;
pub use template::TemplateStore;
pub use user::UserStore;
