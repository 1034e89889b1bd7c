-- sql/updates/0.1--0.2.sql: the changes to run-once objects (tables, types)
-- from 0.1 to 0.2.  sql/assemble.sh puts this in place of the tables in
-- billing--0.1--0.2.sql; functions, triggers, views, comments and grants are
-- re-created from sql/billing/ after it.

-- billing.preview_drafts is SQL since 0.2 and returns more columns (the
-- group, carried_over, total, due date): the C function of 0.1 goes first.
DROP FUNCTION IF EXISTS billing.preview_drafts(bigint, bigint, date, date, timestamptz, date, date);
