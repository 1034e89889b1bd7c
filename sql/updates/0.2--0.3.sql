-- sql/updates/0.2--0.3.sql: the changes to run-once objects (tables, types)
-- from 0.2 to 0.3.  sql/assemble.sh puts this in place of the tables in
-- billing--0.2--0.3.sql; functions, triggers, views, comments and grants are
-- re-created from sql/billing/ after it.

-- Issue 11, tenant locks: the guessable advisory keys are gone (runs lock
-- the schedule's row, bulk actions the buyers' rows, and a background
-- run's worker is known by its activity), so are the functions that gave
-- them out
DROP FUNCTION billing.schedule_lock_key(bigint);
DROP FUNCTION billing.try_lock_run(bigint);
