//! The vocabulary of earshot: posts, brands, scores, tasks.
//!
//! Invariant: this module does no IO and has no async code. Constructors validate, so a value
//! of these types is always well formed (an id is a slug, a criticality is within 0-100, post
//! text carries no NUL or control characters).

mod business_hours;
mod embedding;
mod engagement;
mod http_url;
mod ids;
mod post;
mod score;
mod search;
pub mod silence;
mod task;
pub mod template;
mod time;

pub use business_hours::{BusinessCalendar, BusinessHoursSettings, CalendarProblem};
pub use embedding::{Embedding, EmbeddingError, cosine};
pub use engagement::{EngagementSample, Growth};
pub use http_url::{HttpUrl, NotHttpUrl};
pub use ids::{AlertId, BrandId, DeliveryId, IdError, MentionId, PostId, ReplyId, SourceId, TaskId};
pub use post::{Batch, Cursor, Engagement, Platform, Post, PostDraft, PostError, Quarantined, UNKNOWN_AUTHOR};
pub use score::{ComplaintScores, Criticality, Factor, SentimentLabel, SentimentOutcome, SentimentScores, Severity};
pub use search::{MAX_SEARCH_CHARS, SEARCH_SEPARATOR, SearchTerm, SearchTermError, search_text};
pub use task::{Priority, TaskStatus, UnknownName};
pub use time::{Millis, duration_millis, now_millis, secs_to_millis};
