-- sql/updates/0.1--0.2.sql: the changes to run-once objects (tables, types)
-- from 0.1 to 0.2.  sql/assemble.sh puts this in place of the tables in
-- billing--0.1--0.2.sql; functions, triggers, views, comments and grants are
-- re-created from sql/billing/ after it.

-- the runs not over yet: billing.fail_dead_runs reads only these
CREATE INDEX invoice_run_live_idx ON billing.invoice_run (id) WHERE status IN ('queued', 'running');
