//! What people may do to a task, and what it becomes: the status flow
//! open → assigned → responded → resolved (or dismissed with a reason), role rules, and
//! optimistic concurrency. Pure: the result is a `TaskChange` the store applies atomically.

use crate::auth::Role;
use crate::domain::{Millis, ReplyId, TaskStatus};
use crate::store::{NewLabel, TaskChange, TaskRow};

/// Who is acting: a user (by username) or a machine token (by name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub name: String,
    pub role: Role,
}

/// Why a task was dismissed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DismissReason {
    FalsePositive,
    Spam,
    NotOurs,
    Other,
}

impl DismissReason {
    pub fn as_str(self) -> &'static str {
        match self {
            DismissReason::FalsePositive => "false_positive",
            DismissReason::Spam => "spam",
            DismissReason::NotOurs => "not_ours",
            DismissReason::Other => "other",
        }
    }
}

/// A sentiment label a reviewer can give a post.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReviewLabel {
    Negative,
    Neutral,
    Positive,
}

impl ReviewLabel {
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewLabel::Negative => "negative",
            ReviewLabel::Neutral => "neutral",
            ReviewLabel::Positive => "positive",
        }
    }
}

/// Something done to a task.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// Take the task for yourself.
    Claim,
    /// Give the task to someone (leads and admins).
    Assign {
        to: String,
    },
    Note {
        text: String,
    },
    /// Record the reply sent on the platform (earshot does not post it).
    Reply {
        text: String,
        #[serde(default)]
        template: Option<String>,
    },
    Resolve,
    Dismiss {
        reason: DismissReason,
        #[serde(default)]
        text: Option<String>,
        /// For a false positive: the sentiment the posts really had (default neutral).
        #[serde(default)]
        label: Option<ReviewLabel>,
    },
    /// Back to work after resolve or dismiss (leads and admins).
    Reopen,
}

impl Action {
    pub fn kind(&self) -> &'static str {
        match self {
            Action::Claim => "claimed",
            Action::Assign { .. } => "assigned",
            Action::Note { .. } => "note",
            Action::Reply { .. } => "replied",
            Action::Resolve => "resolved",
            Action::Dismiss { .. } => "dismissed",
            Action::Reopen => "reopened",
        }
    }
}

/// Why an action was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActionError {
    /// The role or the assignment does not allow it.
    #[error("{0}")]
    Forbidden(String),
    /// The task is not in a state this action applies to, or changed meanwhile.
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Invalid(String),
}

/// Longest note or reply text accepted.
pub const MAX_TEXT_CHARS: usize = 10_000;

fn text_ok(text: &str, what: &str) -> Result<(), ActionError> {
    if text.trim().is_empty() {
        return Err(ActionError::Invalid(format!("{what} is empty")));
    }
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(ActionError::Invalid(format!(
            "{what} is longer than {MAX_TEXT_CHARS} characters"
        )));
    }
    Ok(())
}

/// Agents may only work tasks that are unassigned or theirs; leads and admins any.
fn may_work(task: &TaskRow, actor: &Actor) -> Result<(), ActionError> {
    match &task.assignee {
        _ if actor.role.supervises() => Ok(()),
        Some(assignee) if assignee == &actor.name => Ok(()),
        Some(assignee) => Err(ActionError::Forbidden(format!(
            "task {} is assigned to {assignee}",
            task.id
        ))),
        None => Err(ActionError::Forbidden(format!("claim task {} first", task.id))),
    }
}

/// The state rule: only active (open, assigned, responded) tasks are worked on.
fn active(task: &TaskRow, action: &Action) -> Result<(), ActionError> {
    if task.status.is_active() {
        Ok(())
    } else {
        let past = match action {
            Action::Reply { .. } => "replied to",
            other => other.kind(),
        };
        Err(ActionError::Conflict(format!(
            "task {} is {}: only open, assigned or responded tasks can be {past}; a lead can reopen it",
            task.id, task.status
        )))
    }
}

/// Decides what `action` by `actor` does to `task` at `now`. `expected_updated_at_ms` is the
/// version the actor saw; `None` means the version just read. `follow_up_ms` is the delay
/// after resolution for the "is the customer happy now?" follow-up.
pub fn decide(
    task: &TaskRow,
    actor: &Actor,
    action: &Action,
    expected_updated_at_ms: Option<Millis>,
    now: Millis,
    follow_up_ms: i64,
) -> Result<TaskChange, ActionError> {
    if let Some(expected) = expected_updated_at_ms
        && expected != task.updated_at_ms
    {
        return Err(ActionError::Conflict(format!(
            "task {} was changed by someone else; reload it",
            task.id
        )));
    }
    let mut change = TaskChange {
        task_id: task.id,
        expected_updated_at_ms: task.updated_at_ms,
        status: task.status,
        assignee: task.assignee.clone(),
        first_response_at_ms: task.first_response_at_ms,
        resolved_at_ms: task.resolved_at_ms,
        dismissed_reason: task.dismissed_reason.clone(),
        follow_up_at_ms: task.follow_up_at_ms,
        // Strictly increasing, so two changes in one millisecond still differ.
        updated_at_ms: now.max(task.updated_at_ms + 1),
        actor: actor.name.clone(),
        event_kind: action.kind().to_owned(),
        event_detail: serde_json::json!({ "from": task.status.as_str() }),
        label: None,
    };
    let promote = |status: TaskStatus| {
        if status == TaskStatus::Open {
            TaskStatus::Assigned
        } else {
            status
        }
    };
    match action {
        Action::Claim => {
            active(task, action)?;
            if !actor.role.supervises()
                && let Some(assignee) = &task.assignee
                && assignee != &actor.name
            {
                return Err(ActionError::Forbidden(format!(
                    "task {} is assigned to {assignee}; ask a lead to reassign it",
                    task.id
                )));
            }
            change.assignee = Some(actor.name.clone());
            change.status = promote(task.status);
        }
        Action::Assign { to } => {
            active(task, action)?;
            if !actor.role.supervises() {
                if to != &actor.name {
                    return Err(ActionError::Forbidden(
                        "agents can only claim tasks for themselves".into(),
                    ));
                }
                if let Some(assignee) = task.assignee.as_ref().filter(|a| *a != &actor.name) {
                    return Err(ActionError::Forbidden(format!(
                        "task {} is assigned to {assignee}; ask a lead to reassign it",
                        task.id
                    )));
                }
            }
            if to.trim().is_empty() {
                return Err(ActionError::Invalid("assignee is empty".into()));
            }
            change.assignee = Some(to.clone());
            change.status = promote(task.status);
            change.event_detail["to"] = serde_json::json!(to);
        }
        Action::Note { text } => {
            text_ok(text, "note")?;
            change.event_detail["text"] = serde_json::json!(text);
        }
        Action::Reply { text, template } => {
            active(task, action)?;
            may_work(task, actor)?;
            text_ok(text, "reply")?;
            if task.assignee.is_none() {
                change.assignee = Some(actor.name.clone());
            }
            change.status = TaskStatus::Responded;
            change.first_response_at_ms = Some(task.first_response_at_ms.unwrap_or(now));
            change.event_detail["text"] = serde_json::json!(text);
            change.event_detail["template"] = serde_json::json!(template);
        }
        Action::Resolve => {
            if !matches!(task.status, TaskStatus::Assigned | TaskStatus::Responded) {
                return Err(ActionError::Conflict(format!(
                    "only assigned or responded tasks can be resolved; task {} is {}",
                    task.id, task.status
                )));
            }
            may_work(task, actor)?;
            change.status = TaskStatus::Resolved;
            change.resolved_at_ms = Some(now);
            change.follow_up_at_ms = Some(now.saturating_add(follow_up_ms));
        }
        Action::Dismiss { reason, text, label } => {
            active(task, action)?;
            if task.assignee.is_some() {
                may_work(task, actor)?;
            }
            if *reason == DismissReason::Other && text.as_deref().is_none_or(|t| t.trim().is_empty()) {
                return Err(ActionError::Invalid(
                    "a dismissal for another reason needs a text".into(),
                ));
            }
            if let Some(text) = text {
                text_ok(text, "dismissal text")?;
            }
            change.status = TaskStatus::Dismissed;
            change.dismissed_reason = Some(match text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
                Some(text) => format!("{}: {text}", reason.as_str()),
                None => reason.as_str().to_owned(),
            });
            change.event_detail["reason"] = serde_json::json!(reason.as_str());
            change.event_detail["text"] = serde_json::json!(text);
            if *reason == DismissReason::FalsePositive {
                let label = label.unwrap_or(ReviewLabel::Neutral);
                change.label = Some(NewLabel {
                    post_id: None,
                    label: label.as_str().to_owned(),
                    complaint: Some(false),
                });
                change.event_detail["label"] = serde_json::json!(label.as_str());
            }
        }
        Action::Reopen => {
            if task.status.is_active() {
                return Err(ActionError::Conflict(format!(
                    "task {} is already {}",
                    task.id, task.status
                )));
            }
            if !actor.role.supervises() {
                return Err(ActionError::Forbidden("only leads and admins reopen tasks".into()));
            }
            change.status = if task.assignee.is_some() {
                TaskStatus::Assigned
            } else {
                TaskStatus::Open
            };
            change.resolved_at_ms = None;
            change.dismissed_reason = None;
            change.follow_up_at_ms = None;
        }
    }
    change.event_detail["to_status"] = serde_json::json!(change.status.as_str());
    Ok(change)
}

/// Whether `actor` may send `text` as a reply to `task` from earshot: the same rules as
/// recording a reply (an active task the actor may work on), where sending claims a task
/// nobody has claimed. `Ok(Some(change))` is that claim, to be applied with the queued reply.
/// `min_role` is `[tasks] send_role`: who may publish as the brand at all.
pub fn decide_send(
    task: &TaskRow,
    actor: &Actor,
    text: &str,
    expected_updated_at_ms: Option<Millis>,
    now: Millis,
    min_role: Role,
) -> Result<Option<TaskChange>, ActionError> {
    if actor.role == Role::Ingest || actor.role < min_role {
        return Err(ActionError::Forbidden(format!(
            "sending replies as the brand needs the {min_role} role or higher ([tasks] send_role); record the reply instead"
        )));
    }
    let send = Action::Reply {
        text: text.to_owned(),
        template: None,
    };
    active(task, &send)?;
    text_ok(text, "reply")?;
    if task.assignee.is_none() {
        let claim = decide(task, actor, &Action::Claim, expected_updated_at_ms, now, 0)?;
        return Ok(Some(claim));
    }
    if let Some(expected) = expected_updated_at_ms
        && expected != task.updated_at_ms
    {
        return Err(ActionError::Conflict(format!(
            "task {} was changed by someone else; reload it",
            task.id
        )));
    }
    may_work(task, actor)?;
    Ok(None)
}

/// A reply the platform accepted.
#[derive(Debug, Clone, Copy)]
pub struct AcceptedReply<'a> {
    pub reply_id: ReplyId,
    /// Who asked earshot to send it.
    pub sent_by: &'a str,
    pub url: Option<&'a str>,
    /// "Send & resolve".
    pub resolve: bool,
    /// When the platform accepted it.
    pub accepted_at: Millis,
}

/// What a reply the platform accepted does to its task: its acceptance is the task's first
/// response (unless it had one), an active task becomes responded, and resolved too when the
/// agent chose "Send & resolve". A task closed meanwhile keeps its state.
pub fn reply_published(task: &TaskRow, reply: &AcceptedReply<'_>, now: Millis, follow_up_ms: i64) -> TaskChange {
    let AcceptedReply {
        reply_id,
        sent_by,
        url,
        resolve,
        accepted_at,
    } = *reply;
    let mut change = TaskChange {
        task_id: task.id,
        expected_updated_at_ms: task.updated_at_ms,
        status: task.status,
        assignee: task.assignee.clone(),
        first_response_at_ms: Some(task.first_response_at_ms.unwrap_or(accepted_at)),
        resolved_at_ms: task.resolved_at_ms,
        dismissed_reason: task.dismissed_reason.clone(),
        follow_up_at_ms: task.follow_up_at_ms,
        updated_at_ms: now.max(task.updated_at_ms + 1),
        actor: sent_by.to_owned(),
        event_kind: "reply_sent".to_owned(),
        event_detail: serde_json::json!({ "from": task.status.as_str(), "reply_id": reply_id, "url": url }),
        label: None,
    };
    if task.status.is_active() {
        change.status = TaskStatus::Responded;
        if resolve {
            change.status = TaskStatus::Resolved;
            change.resolved_at_ms = Some(now);
            change.follow_up_at_ms = Some(now.saturating_add(follow_up_ms));
        }
    }
    change.event_detail["to_status"] = serde_json::json!(change.status.as_str());
    change
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Priority, TaskId};

    #[test]
    fn sending_claims_an_unclaimed_task_and_follows_the_reply_rules() {
        let agent = Actor {
            name: "ann".into(),
            role: Role::Agent,
        };
        let claim = decide_send(
            &task(TaskStatus::Open, None),
            &agent,
            "Sorry!",
            None,
            2_000,
            Role::Agent,
        )
        .unwrap()
        .expect("a claim");
        assert_eq!(
            (claim.status, claim.assignee.as_deref()),
            (TaskStatus::Assigned, Some("ann"))
        );
        assert!(
            decide_send(
                &task(TaskStatus::Assigned, Some("ann")),
                &agent,
                "Sorry!",
                None,
                2_000,
                Role::Agent
            )
            .unwrap()
            .is_none(),
            "already the sender's: no claim"
        );
        assert!(matches!(
            decide_send(
                &task(TaskStatus::Assigned, Some("bob")),
                &agent,
                "Sorry!",
                None,
                2_000,
                Role::Agent
            ),
            Err(ActionError::Forbidden(_))
        ));
        assert!(matches!(
            decide_send(
                &task(TaskStatus::Resolved, Some("ann")),
                &agent,
                "Sorry!",
                None,
                2_000,
                Role::Agent
            ),
            Err(ActionError::Conflict(_))
        ));
        assert!(matches!(
            decide_send(
                &task(TaskStatus::Assigned, Some("ann")),
                &agent,
                "  ",
                None,
                2_000,
                Role::Agent
            ),
            Err(ActionError::Invalid(_))
        ));
        assert!(
            matches!(
                decide_send(&task(TaskStatus::Assigned, Some("ann")), &agent, "Sorry!", None, 2_000, Role::Lead),
                Err(ActionError::Forbidden(ref why)) if why.contains("send_role")
            ),
            "an agent without the right cannot send"
        );
    }

    #[test]
    fn a_published_reply_is_the_first_response_at_the_platform_time() {
        let t = task(TaskStatus::Assigned, Some("ann"));
        let accepted = AcceptedReply {
            reply_id: ReplyId::new(9),
            sent_by: "ann",
            url: Some("https://x.com/acme/status/1"),
            resolve: false,
            accepted_at: 3_000,
        };
        let c = reply_published(&t, &accepted, 3_500, 100);
        assert_eq!((c.status, c.first_response_at_ms), (TaskStatus::Responded, Some(3_000)));
        let and_resolve = AcceptedReply {
            resolve: true,
            ..accepted
        };
        let c = reply_published(&t, &and_resolve, 3_500, 100);
        assert_eq!(
            (c.status, c.resolved_at_ms, c.follow_up_at_ms),
            (TaskStatus::Resolved, Some(3_500), Some(3_600))
        );
        let mut answered = t.clone();
        answered.first_response_at_ms = Some(2_000);
        answered.status = TaskStatus::Resolved;
        let c = reply_published(&answered, &and_resolve, 3_500, 100);
        assert_eq!(
            (c.status, c.first_response_at_ms),
            (TaskStatus::Resolved, Some(2_000)),
            "an earlier response and a closed state stay"
        );
    }

    fn task(status: TaskStatus, assignee: Option<&str>) -> TaskRow {
        TaskRow {
            id: TaskId::new(7),
            brand: crate::domain::BrandId::parse("acme").unwrap(),
            platform: crate::domain::Platform::X,
            author_handle: "@jo".into(),
            status,
            priority: Priority::High,
            criticality: 75.0,
            assignee: assignee.map(str::to_owned),
            opened_at_ms: 1_000,
            sla_started_at_ms: 500,
            due_at_ms: 5_000,
            first_response_at_ms: None,
            resolved_at_ms: None,
            dismissed_reason: None,
            last_activity_at_ms: 1_000,
            n_posts: 1,
            latest_text: "bad".into(),
            latest_url: None,
            updated_at_ms: 1_000,
            follow_up_at_ms: None,
            recovered: None,
            next_post_sentiment: None,
        }
    }

    fn agent(name: &str) -> Actor {
        Actor {
            name: name.into(),
            role: Role::Agent,
        }
    }

    #[test]
    fn the_happy_path_walks_open_assigned_responded_resolved() {
        let ann = agent("ann");
        let mut t = task(TaskStatus::Open, None);
        let c = decide(&t, &ann, &Action::Claim, Some(1_000), 2_000, 60_000).unwrap();
        assert_eq!((c.status, c.assignee.as_deref()), (TaskStatus::Assigned, Some("ann")));
        t.status = c.status;
        t.assignee = c.assignee;
        t.updated_at_ms = c.updated_at_ms;
        let reply = Action::Reply {
            text: "Sorry".into(),
            template: None,
        };
        let c = decide(&t, &ann, &reply, None, 3_000, 60_000).unwrap();
        assert_eq!((c.status, c.first_response_at_ms), (TaskStatus::Responded, Some(3_000)));
        t.status = c.status;
        t.first_response_at_ms = c.first_response_at_ms;
        let c = decide(&t, &ann, &reply, None, 4_000, 60_000).unwrap();
        assert_eq!(c.first_response_at_ms, Some(3_000), "the first response time stays");
        let c = decide(&t, &ann, &Action::Resolve, None, 5_000, 60_000).unwrap();
        assert_eq!(c.status, TaskStatus::Resolved);
        assert_eq!(c.follow_up_at_ms, Some(65_000));
    }

    #[test]
    fn agents_cannot_take_or_work_someone_elses_task_but_leads_can() {
        let t = task(TaskStatus::Assigned, Some("bob"));
        assert!(matches!(
            decide(&t, &agent("ann"), &Action::Claim, None, 2_000, 0),
            Err(ActionError::Forbidden(_))
        ));
        assert!(matches!(
            decide(&t, &agent("ann"), &Action::Resolve, None, 2_000, 0),
            Err(ActionError::Forbidden(_))
        ));
        let lead = Actor {
            name: "lee".into(),
            role: Role::Lead,
        };
        let c = decide(&t, &lead, &Action::Assign { to: "ann".into() }, None, 2_000, 0).unwrap();
        assert_eq!(c.assignee.as_deref(), Some("ann"));
        assert!(matches!(
            decide(&t, &agent("ann"), &Action::Assign { to: "cy".into() }, None, 2_000, 0),
            Err(ActionError::Forbidden(_))
        ));
    }

    #[test]
    fn stale_versions_and_wrong_states_conflict() {
        let t = task(TaskStatus::Open, None);
        assert!(matches!(
            decide(&t, &agent("ann"), &Action::Claim, Some(999), 2_000, 0),
            Err(ActionError::Conflict(_))
        ));
        assert!(matches!(
            decide(&t, &agent("ann"), &Action::Resolve, None, 2_000, 0),
            Err(ActionError::Conflict(_))
        ));
        let done = task(TaskStatus::Resolved, Some("ann"));
        assert!(matches!(
            decide(&done, &agent("ann"), &Action::Claim, None, 2_000, 0),
            Err(ActionError::Conflict(_))
        ));
        assert!(matches!(
            decide(&done, &agent("ann"), &Action::Reopen, None, 2_000, 0),
            Err(ActionError::Forbidden(_))
        ));
    }

    #[test]
    fn a_false_positive_dismissal_labels_the_posts_and_other_needs_a_text() {
        let t = task(TaskStatus::Open, None);
        let dismiss = Action::Dismiss {
            reason: DismissReason::FalsePositive,
            text: None,
            label: None,
        };
        let c = decide(&t, &agent("ann"), &dismiss, None, 2_000, 0).unwrap();
        assert_eq!(c.status, TaskStatus::Dismissed);
        assert_eq!(c.dismissed_reason.as_deref(), Some("false_positive"));
        let label = c.label.unwrap();
        assert_eq!((label.label.as_str(), label.complaint), ("neutral", Some(false)));
        let other = Action::Dismiss {
            reason: DismissReason::Other,
            text: Some("  ".into()),
            label: None,
        };
        assert!(matches!(
            decide(&t, &agent("ann"), &other, None, 2_000, 0),
            Err(ActionError::Invalid(_))
        ));
    }

    #[test]
    fn a_refusal_by_a_state_rule_says_which_rule() {
        let done = task(TaskStatus::Resolved, Some("ann"));
        let Err(ActionError::Conflict(message)) = decide(&done, &agent("ann"), &Action::Claim, None, 2_000, 0) else {
            panic!("a conflict");
        };
        assert_eq!(
            message,
            "task 7 is resolved: only open, assigned or responded tasks can be claimed; a lead can reopen it"
        );
        let lead = Actor {
            name: "lee".into(),
            role: Role::Lead,
        };
        let open = task(TaskStatus::Open, None);
        let Err(ActionError::Conflict(message)) = decide(&open, &lead, &Action::Reopen, None, 2_000, 0) else {
            panic!("a conflict");
        };
        assert_eq!(message, "task 7 is already open");
    }

    #[test]
    fn changes_always_move_the_version_forward() {
        let t = task(TaskStatus::Open, None);
        let c = decide(&t, &agent("ann"), &Action::Note { text: "hi".into() }, None, 500, 0).unwrap();
        assert_eq!(c.updated_at_ms, 1_001);
        assert_eq!(c.status, TaskStatus::Open);
    }
}
