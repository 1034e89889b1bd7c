-- sql/updates/0.2--0.3.sql: the changes to run-once objects (tables, types)
-- from 0.2 to 0.3.  sql/assemble.sh puts this in place of the tables in
-- billing--0.2--0.3.sql; functions, triggers, views, comments and grants are
-- re-created from sql/billing/ after it.

------------------------------------------------------------------------------
-- Issue 11, verify: the opening balance billing.verify() checks each
-- balance against.  0.2 kept no opening balance; it is what the balance was
-- before the buyer's confirmed invoices (the only writes 0.2 let move it).
------------------------------------------------------------------------------
ALTER TABLE billing.buyer ADD COLUMN opening_balance numeric;
UPDATE billing.buyer b SET opening_balance = b.billing_balance - coalesce(
	(SELECT sum(i.purchases + i.tax - i.deposit) FROM billing.invoice i
	 WHERE i.buyer_id = b.id AND i.status = 'confirmed'), 0);
ALTER TABLE billing.buyer ALTER COLUMN opening_balance SET NOT NULL;

------------------------------------------------------------------------------
-- Issue 12, mailer: the delivery columns of the outbox (src/mailer.c) and
-- one mail per member per run.  0.2 had no mailer, so its unsent rows are
-- reports of old runs: they are kept unsent and not due (a DBA sends them on
-- purpose with billing.retry_notifications), rather than mailed in a burst
-- right after the upgrade.
------------------------------------------------------------------------------
DO $poison$
DECLARE
	bad text[];
BEGIN
	SELECT array_agg(format('notification %s: run %s, member %s (%s rows)', n.first_id, n.run_id, n.member_id, n.copies)
	                 ORDER BY n.first_id) INTO bad
	FROM (SELECT min(id) AS first_id, run_id, member_id, count(*) AS copies
	      FROM billing.notification GROUP BY run_id, member_id HAVING count(*) > 1) AS n;
	IF bad IS NOT NULL THEN
		RAISE EXCEPTION 'cannot update billing to 0.3: % runs notify a member more than once', cardinality(bad)
			USING ERRCODE = 'unique_violation',
			      DETAIL = array_to_string(bad[1:50], E'\n'),
			      HINT = 'Nothing was changed.  0.3 sends one mail per member per run: delete the extra rows of each pair on 0.2 (as the extension''s owner), then run ALTER EXTENSION billing UPDATE again.';
	END IF;
END
$poison$;
ALTER TABLE billing.notification
	ADD COLUMN attempts integer NOT NULL DEFAULT 0 CONSTRAINT notification_attempts CHECK (attempts >= 0),
	ADD COLUMN next_attempt_at timestamptz DEFAULT clock_timestamp(),
	ADD COLUMN last_attempt_at timestamptz,
	ADD COLUMN last_error text;
UPDATE billing.notification SET next_attempt_at = NULL,
	last_error = CASE WHEN sent_at IS NULL
	                  THEN 'written by billing 0.2, which had no mailer: not sent (billing.retry_notifications sends it)' END;
ALTER TABLE billing.notification
	ADD CONSTRAINT notification_sent_is_final CHECK (sent_at IS NULL OR next_attempt_at IS NULL),
	ADD CONSTRAINT notification_run_member_key UNIQUE (run_id, member_id);
COMMENT ON COLUMN billing.notification.sent_at IS 'when the SMTP server accepted it; NULL: not sent (yet)';
COMMENT ON COLUMN billing.notification.attempts IS 'attempts to send it begun so far, including one cut short by a crash';
COMMENT ON COLUMN billing.notification.next_attempt_at IS 'when the mailer tries (again); NULL: sent, or given up (see last_error; billing.retry_notifications sends it again)';
COMMENT ON COLUMN billing.notification.last_attempt_at IS 'when the last attempt began';
COMMENT ON COLUMN billing.notification.last_error IS 'why the last attempt failed, or NULL';
