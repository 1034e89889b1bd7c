-- sql/updates/0.2--0.3.sql: the changes to run-once objects (tables, types)
-- from 0.2 to 0.3.  sql/assemble.sh puts this in place of the tables in
-- billing--0.2--0.3.sql; functions, triggers, views, comments and grants are
-- re-created from sql/billing/ after it.

------------------------------------------------------------------------------
-- Issue 11, one brand cannot stop another (item 6): limits on input, so no
-- row of one brand can make the nightly issue_drafts fail (sql/billing/
-- checks.sql, guards.sql, src/document.c).  Document dates from 2000-01-01
-- to 2199-12-31, amounts and balances below 10^15 in magnitude, tax rates of
-- at most 4 decimals, and schedule_applied_at from a year before its
-- schedule was created up to now.  As in 0.1 to 0.2, a 0.2 database holding
-- rows that break them is not upgraded: the upgrade stops before changing
-- anything and lists them.
------------------------------------------------------------------------------
DO $poison$
DECLARE
	bad text[];
BEGIN
	SELECT array_agg(what ORDER BY what) INTO bad FROM (
		SELECT format('buyer %s: schedule applied at %s, %s', b.code, b.schedule_applied_at,
		              CASE WHEN NOT isfinite(b.schedule_applied_at) THEN 'not a finite time'
		                   WHEN b.schedule_applied_at > clock_timestamp() + interval '5 minutes' THEN 'in the future'
		                   ELSE format('more than a year before schedule %s was created (%s)', s.code, s.created_at)
		              END) AS what
		FROM billing.buyer b JOIN billing.schedule s ON s.id = b.schedule_id
		WHERE NOT isfinite(b.schedule_applied_at)
		   OR b.schedule_applied_at > clock_timestamp() + interval '5 minutes'
		   OR b.schedule_applied_at < s.created_at - interval '1 year'
		UNION ALL
		SELECT format('buyer %s: billing balance %s is not below 10^15 in magnitude', b.code,
		              ltrim(to_char(b.billing_balance, '9.999999EEEE')))
		FROM billing.buyer b WHERE abs(b.billing_balance) >= 1e15
		UNION ALL
		SELECT format('document %s (%s %s): dated %s, not from 2000-01-01 to 2199-12-31', d.id, d.kind,
		              left(d.reference, 64), d.document_date)
		FROM billing.document d WHERE NOT (d.document_date BETWEEN '2000-01-01' AND '2199-12-31')
		UNION ALL
		SELECT format('document %s (%s %s): amount %s is not below 10^15 in magnitude', d.id, d.kind,
		              left(d.reference, 64), ltrim(to_char(d.amount, '9.999999EEEE')))
		FROM billing.document d WHERE abs(d.amount) >= 1e15
		UNION ALL
		SELECT format('document %s (%s %s): tax rate %s has more than 4 decimal places', d.id, d.kind,
		              left(d.reference, 64), left(d.tax_rate::text, 40))
		FROM billing.document d WHERE d.tax_rate <> round(d.tax_rate, 4)
	) AS rows_0_3_refuses;
	IF bad IS NOT NULL THEN
		RAISE EXCEPTION 'cannot upgrade billing to 0.3: % rows hold values that 0.3 refuses', cardinality(bad)
			USING ERRCODE = 'check_violation',
			      DETAIL = array_to_string(bad[1:50], E'\n'),
			      HINT = 'Nothing was changed.  Correct these rows on 0.2 (a linked document: delete its draft first; an application back-dated on purpose: set its schedule''s created_at back first), then run ALTER EXTENSION billing UPDATE again.  The limits are in the README.';
	END IF;
END
$poison$;

ALTER TABLE billing.buyer
	ADD CONSTRAINT buyer_billing_balance_limit CHECK (billing.check_amount_limit(billing_balance, 'billing balance of buyer', code));
ALTER TABLE billing.document
	ADD CONSTRAINT document_within_limits CHECK (billing.check_document_limits(reference, document_date, amount, tax_rate));
