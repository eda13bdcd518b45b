//! The lead dashboard's numbers for a week, from the same functions as the weekly export:
//! the summary `Exporter::summarise` builds (and the week before, for the change and last
//! week's complaint terms), and time to first response and SLA attainment per agent from
//! the same `SummaryBuilder::add_task` (one SLA rule), keyed by the task's assignee.
//!
//! Invariant: reads only. The export records task follow-ups before it summarises; the
//! dashboard shows what is recorded.

use super::summary::{Summary, SummaryBuilder};
use super::week::IsoWeek;
use super::{ExportError, Exporter};
use crate::domain::{BrandId, Millis};

/// What tasks without an assignee are counted under.
pub const UNASSIGNED: &str = "(unassigned)";

/// One agent's week: what the export's summary says of a brand, for the tasks assigned to
/// them.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AgentStats {
    pub agent: String,
    pub tasks_opened: u64,
    pub tasks_resolved: u64,
    pub median_first_response_ms: Option<i64>,
    pub p90_first_response_ms: Option<i64>,
    /// Of the tasks whose SLA was decided in the week, the share answered in time.
    pub sla_attainment: Option<f64>,
}

/// A week as the dashboard shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Dashboard {
    /// This week, with the change against `previous`.
    pub summary: Summary,
    pub previous: Summary,
    pub agents: Vec<AgentStats>,
}

impl Exporter {
    /// The dashboard of `week` (one brand or all) as of `now`.
    pub async fn dashboard(
        &self,
        week: IsoWeek,
        brand: Option<&BrandId>,
        now: Millis,
    ) -> Result<Dashboard, ExportError> {
        let scope = brand.map_or_else(|| "all".to_owned(), |b| b.to_string());
        let previous = self.summarise(week.previous(), brand, &scope, now, None).await?;
        let summary = self.summarise(week, brand, &scope, now, Some(&previous)).await?;
        let (start, end) = week.bounds(self.tz);
        let mut by_agent = SummaryBuilder::new(week, self.tz, &[]);
        for task in self.store.export_tasks(start, end, brand).await? {
            let agent = task.assignee.as_deref().unwrap_or(UNASSIGNED);
            by_agent.add_task_as(agent, &task, now);
        }
        let agents = by_agent
            .finish(&scope, now, None)
            .brands
            .into_iter()
            .map(|agent| AgentStats {
                agent: agent.brand,
                tasks_opened: agent.week.tasks_opened,
                tasks_resolved: agent.week.tasks_resolved,
                median_first_response_ms: agent.week.median_first_response_ms,
                p90_first_response_ms: agent.week.p90_first_response_ms,
                sla_attainment: agent.week.sla_breach_rate.map(|breached| 1.0 - breached),
            })
            .collect();
        Ok(Dashboard {
            summary,
            previous,
            agents,
        })
    }
}
