-- A scheduled export of a week and scope is done (or in progress) at most once: the weekly
-- job and its catch-up insert a 'running' row with ON CONFLICT DO NOTHING, and this index is
-- what makes the second insert a no-op. Failed runs and manual runs are not constrained.
CREATE UNIQUE INDEX export_runs_scheduled_once ON export_runs (week, scope)
    WHERE trigger_kind = 'scheduled' AND status IN ('running', 'done');
