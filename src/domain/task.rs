//! Task status and priority: the words of the response queue.

use std::fmt;
use std::str::FromStr;

/// Where a response task stands. `Resolved` and `Dismissed` are final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TaskStatus {
    Open,
    Assigned,
    Responded,
    Resolved,
    Dismissed,
}

impl TaskStatus {
    pub const ALL: [TaskStatus; 5] = [
        TaskStatus::Open,
        TaskStatus::Assigned,
        TaskStatus::Responded,
        TaskStatus::Resolved,
        TaskStatus::Dismissed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Open => "open",
            TaskStatus::Assigned => "assigned",
            TaskStatus::Responded => "responded",
            TaskStatus::Resolved => "resolved",
            TaskStatus::Dismissed => "dismissed",
        }
    }

    /// Whether new posts of the conversation can still attach to the task.
    pub fn is_active(self) -> bool {
        !matches!(self, TaskStatus::Resolved | TaskStatus::Dismissed)
    }
}

impl fmt::Display for TaskStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown status or priority name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} {value:?}")]
pub struct UnknownName {
    kind: &'static str,
    value: String,
}

impl FromStr for TaskStatus {
    type Err = UnknownName;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        TaskStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == value)
            .ok_or_else(|| UnknownName {
                kind: "status",
                value: value.to_owned(),
            })
    }
}

/// How urgently a task needs an answer; derived from criticality.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    // Declared from most to least urgent so that `Ord` sorts the queue.
    Critical,
    High,
    Medium,
    Low,
}

impl Priority {
    pub const ALL: [Priority; 4] = [Priority::Critical, Priority::High, Priority::Medium, Priority::Low];

    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Critical => "critical",
            Priority::High => "high",
            Priority::Medium => "medium",
            Priority::Low => "low",
        }
    }

    /// 1 for critical .. 4 for low, the order stored in the database.
    pub fn rank(self) -> i64 {
        match self {
            Priority::Critical => 1,
            Priority::High => 2,
            Priority::Medium => 3,
            Priority::Low => 4,
        }
    }

    pub fn from_rank(rank: i64) -> Option<Priority> {
        Priority::ALL.into_iter().find(|p| p.rank() == rank)
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Priority {
    type Err = UnknownName;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Priority::ALL
            .into_iter()
            .find(|p| p.as_str() == value)
            .ok_or_else(|| UnknownName {
                kind: "priority",
                value: value.to_owned(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priorities_sort_most_urgent_first_and_round_trip_through_rank() {
        let mut all = vec![Priority::Low, Priority::Critical, Priority::Medium, Priority::High];
        all.sort();
        assert_eq!(all, Priority::ALL.to_vec());
        for p in Priority::ALL {
            assert_eq!(Priority::from_rank(p.rank()), Some(p));
            assert_eq!(p.as_str().parse::<Priority>(), Ok(p));
        }
    }

    #[test]
    fn only_resolved_and_dismissed_are_final() {
        let active: Vec<_> = TaskStatus::ALL.into_iter().filter(|s| s.is_active()).collect();
        assert_eq!(
            active,
            vec![TaskStatus::Open, TaskStatus::Assigned, TaskStatus::Responded]
        );
    }
}
