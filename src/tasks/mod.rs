//! Task rules: when a flagged mention opens a task (or a reviewer opens one from a mention
//! the pipeline let through), its priority, its SLA (`sla`: from the customer's post, around
//! the clock or in the brand's business hours), and which conversation it belongs to. The store
//! applies the decision atomically.
//!
//! Invariant: no IO here; these are pure functions of settings, post and score.

pub mod actions;
pub mod feedback;
pub mod sla;
pub mod viral;

use crate::config::{BrandSettings, PriorityCutoffs, TaskSettings};
use crate::domain::{Criticality, Millis, Post, Priority, secs_to_millis};
use crate::scoring::criticality::ESCALATION_FACTORS;
use crate::store::{TaskAlert, TaskPlan};

/// The priority a criticality earns.
pub fn priority_for(criticality: f32, cutoffs: &PriorityCutoffs) -> Priority {
    if criticality >= cutoffs.critical {
        Priority::Critical
    } else if criticality >= cutoffs.high {
        Priority::High
    } else if criticality >= cutoffs.medium {
        Priority::Medium
    } else {
        Priority::Low
    }
}

/// An escalated mention (VIP author, or at least the brand's `high_reach_followers`) needs
/// only this share of the brand's threshold.
pub const ESCALATED_THRESHOLD_SHARE: f32 = 0.5;

/// Whether criticality carries a `vip` or `high_reach` factor.
pub fn is_escalated(criticality: &Criticality) -> bool {
    criticality
        .factors()
        .iter()
        .any(|f| ESCALATION_FACTORS.contains(&f.name.as_str()))
}

/// The threshold this mention must reach: the brand's, or half of it when escalated.
pub fn threshold_for(brand: &BrandSettings, criticality: &Criticality) -> f32 {
    if is_escalated(criticality) {
        brand.threshold * ESCALATED_THRESHOLD_SHARE
    } else {
        brand.threshold
    }
}

/// The task decision for a mention: `None` below its threshold (`threshold_for`). An
/// escalated mention's task is at least high priority. `first_seen_at` is when earshot first
/// stored the post: the SLA clock starts at the post's `created_at`, never later than that.
pub fn plan(
    brand: &BrandSettings,
    post: &Post,
    first_seen_at: Millis,
    criticality: &Criticality,
    settings: &TaskSettings,
    now: Millis,
) -> Option<TaskPlan> {
    if criticality.score() < threshold_for(brand, criticality) {
        return None;
    }
    let mut priority = priority_for(criticality.score(), &settings.priority);
    if is_escalated(criticality) {
        // `Priority` sorts most urgent first.
        priority = priority.min(Priority::High);
    }
    Some(task_plan(
        brand,
        post,
        first_seen_at,
        criticality,
        settings,
        now,
        priority,
    ))
}

/// The task decision when a reviewer says a mention the pipeline did not flag needed an
/// answer: the same conversation, SLA and alert rules as `plan`, whatever the threshold,
/// with at least medium priority (the queue's normal), and the alert says who opened it.
pub fn plan_from_review(
    brand: &BrandSettings,
    post: &Post,
    first_seen_at: Millis,
    criticality: &Criticality,
    settings: &TaskSettings,
    now: Millis,
    reviewer: &str,
) -> TaskPlan {
    // `Priority` sorts most urgent first, so the smaller of the two is the more urgent.
    let priority = priority_for(criticality.score(), &settings.priority).min(Priority::Medium);
    let mut plan = task_plan(brand, post, first_seen_at, criticality, settings, now, priority);
    if let Some(alert) = &mut plan.alert {
        alert
            .reasons
            .insert(0, format!("opened by {reviewer} from the mentions: it was not flagged"));
    }
    plan
}

fn task_plan(
    brand: &BrandSettings,
    post: &Post,
    first_seen_at: Millis,
    criticality: &Criticality,
    settings: &TaskSettings,
    now: Millis,
    priority: Priority,
) -> TaskPlan {
    let sla_ms = secs_to_millis(settings.sla_secs.for_priority(priority));
    let window_ms = secs_to_millis(settings.conversation_window_secs);
    let reasons = criticality
        .factors()
        .iter()
        .filter(|f| f.points >= 1.0 || ESCALATION_FACTORS.contains(&f.name.as_str()))
        .map(|f| format!("{} (+{:.0}): {}", f.name, f.points, f.detail))
        .collect();
    let sla_started_at = sla::clock_start(post.created_at, first_seen_at);
    TaskPlan {
        platform: post.platform,
        author_handle: post.author_handle.clone(),
        conversation_key: post.conversation_id.clone().or_else(|| post.in_reply_to.clone()),
        // An unknown author (`UNKNOWN_AUTHOR`) is nobody's conversation: only the same thread
        // joins, never the window.
        window_start: if post.author_is_known() {
            now.saturating_sub(window_ms)
        } else {
            Millis::MAX
        },
        priority,
        sla_started_at,
        due_at: sla::due(sla_started_at, sla_ms, brand.calendar.as_ref()),
        alert: Some(TaskAlert {
            brand: brand.name.clone(),
            platform: post.platform,
            author: post.author_handle.clone(),
            text: post.text.clone(),
            url: post.url.clone(),
            reasons,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{BrandId, Factor, Platform, PostDraft};

    fn brand(threshold: f32) -> BrandSettings {
        BrandSettings {
            threshold,
            ..BrandSettings::new(BrandId::parse("acme").unwrap(), "Acme", vec!["acme".into()])
        }
    }

    fn criticality(points: f32) -> Criticality {
        Criticality::from_factors(vec![Factor {
            name: "negative_sentiment".into(),
            points,
            detail: "p".into(),
        }])
    }

    /// A post written at 1 000 ms.
    fn post() -> Post {
        let draft = PostDraft {
            external_id: "1".into(),
            text: "acme lost my bag".into(),
            author_handle: "@jo".into(),
            created_at: 1_000,
            conversation_id: Some("thread-1".into()),
            ..PostDraft::default()
        };
        Post::new(Platform::X, draft).unwrap()
    }

    #[test]
    fn an_escalated_mention_needs_half_the_threshold_and_is_at_least_high() {
        let mut factors = vec![Factor {
            name: "complaint".into(),
            points: 30.0,
            detail: "p(complaint) = 0.50".into(),
        }];
        let plain = Criticality::from_factors(factors.clone());
        factors.push(Factor {
            name: "high_reach".into(),
            points: 0.0,
            detail: "480k followers, at least the brand's 50k: escalated".into(),
        });
        let escalated = Criticality::from_factors(factors);
        let post = post();

        assert!(plan(&brand(55.0), &post, 1_000, &plain, &TaskSettings::default(), 0).is_none());
        let task = plan(&brand(55.0), &post, 1_000, &escalated, &TaskSettings::default(), 0).expect("escalated");
        assert_eq!(task.priority, Priority::High);
        let reasons = task.alert.expect("alert").reasons;
        assert!(reasons.iter().any(|r| r.starts_with("high_reach")), "{reasons:?}");
        assert!(
            plan(&brand(61.0), &post, 1_000, &escalated, &TaskSettings::default(), 0).is_none(),
            "30 < 61 / 2"
        );
    }

    #[test]
    fn below_threshold_opens_nothing_and_at_threshold_opens_a_task() {
        let settings = TaskSettings::default();
        assert!(plan(&brand(60.0), &post(), 1_000, &criticality(59.9), &settings, 1_000).is_none());
        let plan = plan(&brand(60.0), &post(), 1_000, &criticality(60.0), &settings, 1_000).unwrap();
        assert_eq!(plan.priority, Priority::Medium);
        assert_eq!(plan.due_at, 1_000 + 24 * 3600 * 1000);
        assert_eq!(plan.conversation_key.as_deref(), Some("thread-1"));
    }

    #[test]
    fn an_unknown_author_joins_only_its_own_thread_never_the_window() {
        let settings = TaskSettings::default();
        let mut deleted = post();
        deleted.author_handle = crate::domain::UNKNOWN_AUTHOR.into();
        let known = plan(&brand(60.0), &post(), 1_000, &criticality(70.0), &settings, 10_000_000).unwrap();
        let unknown = plan(&brand(60.0), &deleted, 1_000, &criticality(70.0), &settings, 10_000_000).unwrap();
        assert!(known.window_start < 10_000_000);
        assert_eq!(
            unknown.window_start,
            Millis::MAX,
            "no task is active after the end of time"
        );
        assert_eq!(unknown.conversation_key.as_deref(), Some("thread-1"));
    }

    #[test]
    fn a_reviewer_opened_mention_is_planned_below_the_threshold_at_least_medium() {
        let settings = TaskSettings::default();
        let low = plan_from_review(
            &brand(60.0),
            &post(),
            1_000,
            &criticality(12.0),
            &settings,
            1_000,
            "lee",
        );
        assert_eq!(
            low.priority,
            Priority::Medium,
            "low criticality still gets the normal priority"
        );
        assert_eq!(low.due_at, 1_000 + 24 * 3600 * 1000, "medium's SLA");
        assert_eq!(low.conversation_key.as_deref(), Some("thread-1"));
        let alert = low.alert.unwrap();
        assert_eq!(alert.reasons[0], "opened by lee from the mentions: it was not flagged");
        let high = plan_from_review(
            &brand(90.0),
            &post(),
            1_000,
            &criticality(75.0),
            &settings,
            1_000,
            "lee",
        );
        assert_eq!(high.priority, Priority::High, "a higher criticality keeps its priority");
    }

    #[test]
    fn a_brand_with_business_hours_is_due_within_them() {
        use chrono::TimeZone;
        let mut brand = brand(60.0);
        let hours = crate::domain::BusinessHoursSettings {
            timezone: "UTC".into(),
            days: ["mon", "tue", "wed", "thu", "fri"].map(String::from).to_vec(),
            open: "09:00".into(),
            close: "17:00".into(),
            holidays: vec![],
        };
        brand.calendar = Some(crate::domain::BusinessCalendar::from_settings(&hours).unwrap());
        brand.business_hours = Some(hours);
        let at = |d, h| {
            chrono::Utc
                .with_ymd_and_hms(2026, 11, d, h, 0, 0)
                .unwrap()
                .timestamp_millis()
        };
        // Posted Saturday noon, medium priority (24 hours): Monday, Tuesday and Wednesday.
        let mut saturday = post();
        saturday.created_at = at(21, 12);
        let plan = plan(
            &brand,
            &saturday,
            at(21, 12),
            &criticality(60.0),
            &TaskSettings::default(),
            at(21, 12),
        )
        .unwrap();
        assert_eq!(plan.due_at, at(25, 17));
    }

    #[test]
    fn the_sla_counts_from_the_customer_post_not_from_when_the_task_opened() {
        let hour = 3_600_000;
        let mut late = post();
        late.created_at = 100 * hour;
        // Seen and opened ten hours after it was written: a high task (4 hours) is overdue.
        let settings = TaskSettings::default();
        let found_late = plan(
            &brand(60.0),
            &late,
            110 * hour,
            &criticality(75.0),
            &settings,
            110 * hour,
        )
        .unwrap();
        assert_eq!(found_late.priority, Priority::High);
        assert_eq!(found_late.sla_started_at, 100 * hour);
        assert_eq!(found_late.due_at, 104 * hour);
        // A created_at in the future (a skewed clock) starts the clock when earshot saw it.
        late.created_at = 200 * hour;
        let skewed = plan(
            &brand(60.0),
            &late,
            110 * hour,
            &criticality(75.0),
            &settings,
            110 * hour,
        )
        .unwrap();
        assert_eq!((skewed.sla_started_at, skewed.due_at), (110 * hour, 114 * hour));
    }

    #[test]
    fn priority_follows_the_cutoffs() {
        let cutoffs = PriorityCutoffs::default();
        let cases = [
            (95.0, Priority::Critical),
            (85.0, Priority::Critical),
            (70.0, Priority::High),
            (60.0, Priority::Medium),
            (10.0, Priority::Low),
        ];
        for (score, expected) in cases {
            assert_eq!(priority_for(score, &cutoffs), expected, "criticality {score}");
        }
    }
}
