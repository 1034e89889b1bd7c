-- src/sql/health.sql: the health check (issue 12 item 3), in the
-- manner of pg_partman's check_default() and check_postgres: one row per
-- problem, each with the SQL call that fixes it.  The view is
-- security_invoker, so the row level security of the tables it reads keeps
-- the brand walls: a role sees only its brands' problems.

-- billing.dead_runs: the caller's brands' runs committed queued or
-- running that no live background worker names (dead_runs.sql); a definer
-- function, as live_run_workers shows every brand's workers.  The one
-- definition of a dead run: fail_dead_runs marks these failed, verify
-- reports them, and billing.health lists them.  Here, after security.sql,
-- as its SQL-standard body binds billing_internal.caller_brands at creation.
CREATE OR REPLACE FUNCTION billing.dead_runs(OUT run_id bigint, OUT status text, OUT since timestamptz)
RETURNS SETOF record
LANGUAGE sql VOLATILE PARALLEL RESTRICTED SECURITY DEFINER SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT r.id, r.status, coalesce(r.started_at, r.queued_at) FROM billing.invoice_run r
	WHERE r.status IN ('queued', 'running')
	  AND (billing_internal.caller_brands() IS NULL OR r.brand_id = ANY (billing_internal.caller_brands()))
	  AND r.id NOT IN (SELECT w.run_id FROM billing_internal.live_run_workers() w WHERE w.run_id IS NOT NULL)
	ORDER BY r.id;
END;
COMMENT ON FUNCTION billing.dead_runs() IS
	'the caller''s brands'' runs committed queued or running that no live background worker names (billing.health''s dead_run check); billing.fail_dead_runs marks them failed';
REVOKE ALL ON FUNCTION billing.dead_runs() FROM PUBLIC;

-- billing_internal.health_cron: whether a pg_cron job calls billing.issue_drafts()
-- for this database.  pg_cron's table is read only where pg_cron is
-- installed in this database; when cron.database_name names another
-- database, the job lives there and this check cannot see it (the README's
-- pg_cron section says how to check it there).  A definer function, as
-- cron.job shows each role only its own jobs; it reports no brand's data.
CREATE OR REPLACE FUNCTION billing_internal.health_cron(OUT severity text, OUT object text, OUT detail text, OUT fix text)
RETURNS SETOF record
LANGUAGE plpgsql STABLE PARALLEL RESTRICTED SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	here_job bigint;
	here_active boolean;
	elsewhere text;
BEGIN
	IF to_regclass('cron.job') IS NULL THEN
		IF coalesce(current_setting('cron.database_name', true), '') IN ('', current_database()) THEN
			severity := 'warning';
			object := format('database %s', current_database());
			detail := 'pg_cron is not installed here: nothing calls billing.issue_drafts() at night, unless another scheduler does';
			fix := 'CREATE EXTENSION pg_cron; SELECT billing.cron_setup()';
			RETURN NEXT;
		END IF;
		RETURN;	-- pg_cron lives in another database: its job is not visible from here
	END IF;
	EXECUTE $q$SELECT min(jobid) FILTER (WHERE database = current_database()),
	                  bool_or(active) FILTER (WHERE database = current_database()),
	                  string_agg(DISTINCT database, ', ') FILTER (WHERE database <> current_database())
	           FROM cron.job WHERE command LIKE '%billing.issue_drafts(%'$q$
		INTO here_job, here_active, elsewhere;
	IF here_job IS NULL THEN
		severity := 'critical';
		object := format('database %s', current_database());
		detail := CASE WHEN elsewhere IS NULL THEN 'no pg_cron job calls billing.issue_drafts()'
		               ELSE format('the pg_cron job that calls billing.issue_drafts() targets database %s, not this one', elsewhere) END;
		fix := 'SELECT billing.cron_setup()';
		RETURN NEXT;
	ELSIF NOT here_active THEN
		severity := 'critical';
		object := format('pg_cron job %s', here_job);
		detail := 'the pg_cron job that calls billing.issue_drafts() is disabled';
		fix := format('SELECT cron.alter_job(%s, active => true)', here_job);
		RETURN NEXT;
	END IF;
END
$$;
COMMENT ON FUNCTION billing_internal.health_cron() IS
	'internal: a missing, disabled or misdirected pg_cron job of billing.issue_drafts (when pg_cron lives in this database), for billing.health';
REVOKE ALL ON FUNCTION billing_internal.health_cron() FROM PUBLIC;

CREATE OR REPLACE VIEW billing.health WITH (security_invoker = true) AS
-- failed runs since the schedule's last completed run
SELECT 'critical'::text AS severity, br.code AS brand, 'failed_run'::text AS "check",
       format('schedule %s period %s run %s', s.code, r.cutoff_date, r.id) AS object,
       r.error AS detail,
       format('SELECT billing.rerun_invoice_run(%L, brand => %L, period => %L)', s.code, br.code, r.cutoff_date) AS fix
FROM billing.invoice_run r
JOIN billing.schedule s ON s.id = r.schedule_id
JOIN billing.brand br ON br.id = r.brand_id
WHERE r.status = 'failed'
  AND r.id > coalesce((SELECT max(ok.id) FROM billing.invoice_run ok
                       WHERE ok.schedule_id = r.schedule_id AND ok.status = 'completed'), 0)
  AND NOT EXISTS (SELECT 1 FROM billing.invoice_run later
                  WHERE later.schedule_id = r.schedule_id AND later.cutoff_date = r.cutoff_date
                    AND later.id > r.id AND later.status IN ('queued', 'running', 'completed'))
UNION ALL
-- stranded documents: nothing will bill them but a rerun of their period
SELECT 'critical', ds.brand, 'stranded_documents',
       format('schedule %s period %s', m[1], m[2]),
       format('%s uninvoiced documents no run will bill', count(*)),
       format('SELECT billing.rerun_invoice_run(%L, brand => %L, period => %L)',
              replace(m[1], '''''', ''''), ds.brand, m[2])
FROM billing.document_status ds
CROSS JOIN LATERAL regexp_match(ds.will_bill,
	'^nothing will: call billing\.rerun_invoice_run\(''(.*)'', period => ''([0-9-]+)''\)$') AS m
WHERE ds.status = 'uninvoiced' AND m IS NOT NULL
GROUP BY ds.brand, m[1], m[2]
UNION ALL
-- drafts older than billing.health_draft_age, per run
SELECT 'warning', br.code, 'old_drafts',
       format('run %s', i.run_id),
       format('%s drafts made before %s', count(*), min(i.created_at)),
       format('SELECT billing.process_run(%s)', i.run_id)
FROM billing.invoice i
JOIN billing.brand br ON br.id = i.brand_id
WHERE i.status = 'draft' AND i.run_id IS NOT NULL
  -- (the library defines the setting; in a session that has not loaded it
  -- yet, its default)
  AND i.created_at < now() - coalesce(current_setting('billing.health_draft_age', true), '7d')::interval
GROUP BY br.code, i.run_id
UNION ALL
-- closed periods whose issue moment passed (15 minutes ago: one pg_cron
-- tick) without a scheduled run: issue_drafts makes them
SELECT 'critical', br.code, 'missed_period',
       format('schedule %s period %s', s.code, c.cutoff),
       format('issue moment %s passed without a run', to_char(due.issue_at AT TIME ZONE br.time_zone, 'YYYY-MM-DD HH24:MI')),
       'SELECT billing.issue_drafts()'
FROM billing.schedule s
JOIN billing.brand br ON br.id = s.brand_id
-- (each schedule's first application, grouped, not a lateral min() per
-- schedule: Citus plans no aggregate without GROUP BY in a lateral
-- subquery correlated with a reference table)
JOIN (SELECT b.schedule_id, min(b.schedule_applied_at) AS in_use_since FROM billing.buyer b
      WHERE b.schedule_id IS NOT NULL GROUP BY b.schedule_id) AS iu ON iu.schedule_id = s.id
CROSS JOIN LATERAL billing.cutoffs(s.cycle, (iu.in_use_since AT TIME ZONE br.time_zone)::date - 28,
                                   (now() AT TIME ZONE br.time_zone)::date) AS c(cutoff)
CROSS JOIN LATERAL (SELECT ((c.cutoff + 1)::timestamp + s.issue_delay) AT TIME ZONE br.time_zone AS issue_at) AS due
WHERE s.enabled AND due.issue_at > iu.in_use_since AND due.issue_at < now() - interval '15 minutes'
  AND NOT EXISTS (SELECT 1 FROM billing.invoice_run r
                  WHERE r.schedule_id = s.id AND r.cutoff_date = c.cutoff AND r.kind = 'scheduled')
UNION ALL
-- background runs without a live worker
SELECT 'critical', br.code, 'dead_run',
       format('schedule %s period %s run %s', s.code, r.cutoff_date, r.id),
       format('%s since %s without a live worker', d.status, d.since),
       format('SELECT billing.rerun_invoice_run(%L, brand => %L, period => %L)', s.code, br.code, r.cutoff_date)
FROM billing.dead_runs() d
JOIN billing.invoice_run r ON r.id = d.run_id
JOIN billing.schedule s ON s.id = r.schedule_id
JOIN billing.brand br ON br.id = r.brand_id
UNION ALL
-- notifications the mailer gave up on
SELECT 'warning', br.code, 'unsent_notification',
       format('notification %s', n.id),
       format('to %s: %s', n.email, n.last_error),
       format('SELECT billing.retry_notifications(%s)', n.id)
FROM billing.notification n
JOIN billing.invoice_run r ON r.id = n.run_id
JOIN billing.brand br ON br.id = r.brand_id
WHERE n.next_attempt_at IS NULL AND n.sent_at IS NULL AND n.last_error IS NOT NULL
UNION ALL
-- drafts that cannot be written as PINT JP XML, of a brand that sends it
-- (one with a Peppol endpoint): the brand's own missing master data, one
-- row for the brand; a buyer's, one row per buyer.  Only drafts (and
-- quarantined invoices, drafts set aside) with lines
-- (a balance-only draft has no XML), read with the current master data (a
-- confirmed invoice's XML reads the versions of its confirmation).
SELECT 'warning', x.brand, 'xml_incomplete', x.object,
       format('%s %s (%s %s) cannot be written as XML: missing %s', x.drafts,
              CASE WHEN x.drafts = 1 THEN 'unconfirmed invoice' ELSE 'unconfirmed invoices' END,
              CASE WHEN x.runs LIKE '%,%' THEN 'runs' ELSE 'run' END, x.runs,
              array_to_string(x.missing, ', ')),
       x.fix
FROM (WITH drafts AS (
          SELECT i.run_id, i.buyer_id, br.id AS brand_id
          FROM billing.invoice i
          JOIN billing.brand br ON br.id = i.brand_id
          WHERE br.peppol_id IS NOT NULL AND i.status IN ('draft', 'quarantined') AND i.run_id IS NOT NULL
            AND EXISTS (SELECT 1 FROM billing.document_link l
                        JOIN billing.document d ON d.buyer_id = l.buyer_id AND d.id = l.document_id
                        WHERE l.buyer_id = i.buyer_id AND l.invoice_id = i.id AND d.kind <> 'payment'))
      SELECT br.code AS brand, 'brand ' || br.code AS object, count(*) AS drafts,
             string_agg(DISTINCT d.run_id::text, ', ') AS runs, m.missing,
             format('UPDATE billing.brand SET %s WHERE code = %L',
                    billing_internal.xml_missing_assignments(m.missing), br.code) AS fix
      FROM drafts d JOIN billing.brand br ON br.id = d.brand_id
      CROSS JOIN LATERAL (SELECT billing_internal.xml_missing_brand(br.legal_name, br.registration_number,
                                                           br.address_line, br.peppol_id) AS missing) AS m
      WHERE cardinality(m.missing) > 0
      GROUP BY br.id, m.missing
      UNION ALL
      SELECT br.code, 'buyer ' || bu.code, count(*), string_agg(DISTINCT d.run_id::text, ', '), m.missing,
             format('UPDATE billing.buyer SET %s WHERE id = %s', billing_internal.xml_missing_assignments(m.missing), bu.id)
      FROM drafts d JOIN billing.buyer bu ON bu.id = d.buyer_id
      JOIN billing.brand br ON br.id = d.brand_id
      CROSS JOIN LATERAL (SELECT billing_internal.xml_missing_buyer(bu.address_line, bu.peppol_id, NULL) AS missing) AS m
      WHERE cardinality(m.missing) > 0
      GROUP BY br.code, bu.id, m.missing) AS x
UNION ALL
-- the nightly job: missing, disabled, or aimed at another database (no brand: the whole database)
SELECT c.severity, NULL, 'cron_job', c.object, c.detail, c.fix
FROM billing_internal.health_cron() c;
COMMENT ON VIEW billing.health IS
	'one row per problem of the caller''s brands: severity, brand, check, object, detail and the SQL call that fixes it';

COMMENT ON COLUMN billing.health.severity IS 'critical (invoices are not being made) or warning';
COMMENT ON COLUMN billing.health.brand IS 'the brand''s code; NULL for a problem of the whole database (cron_job)';
COMMENT ON COLUMN billing.health."check" IS 'the check that found it: failed_run, missed_period, stranded_documents, old_drafts, dead_run, unsent_notification, xml_incomplete, cron_job';
COMMENT ON COLUMN billing.health.object IS 'what is wrong: schedule and period, run, notification, brand or buyer';
COMMENT ON COLUMN billing.health.detail IS 'why it is a problem';
COMMENT ON COLUMN billing.health.fix IS 'the SQL call that fixes it, to run as it stands; for missing master data (xml_incomplete), the UPDATE whose values (…) a person fills in';

-- billing.assert_healthy raises when billing.health has a row (for a second
-- pg_cron job or a monitoring system), and returns quietly otherwise; with
-- severity => 'critical' only a critical row counts (a site that runs
-- issue_drafts from another scheduler than pg_cron has a standing warning).
CREATE OR REPLACE FUNCTION billing.assert_healthy(severity text DEFAULT 'warning') RETURNS void
LANGUAGE plpgsql STABLE PARALLEL RESTRICTED SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	problems integer;
	list text;
BEGIN
	IF severity IS NULL OR severity NOT IN ('warning', 'critical') THEN
		RAISE EXCEPTION 'unknown severity %', coalesce(quote_literal(severity), 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
			      HINT = 'Pass ''warning'' (the default: every row counts) or ''critical'' (only critical rows count).';
	END IF;
	SELECT count(*), string_agg(format('%s %s%s %s: %s; fix: %s', h.severity, coalesce(h.brand || ' ', ''),
	                                   h."check", h.object, h.detail, h.fix), E'\n'
	                            ORDER BY h.brand, h."check", h.object)
	INTO problems, list FROM billing.health h
	WHERE assert_healthy.severity = 'warning' OR h.severity = 'critical';
	IF problems > 0 THEN
		RAISE EXCEPTION 'billing is not healthy: % problem(s)', problems
			USING ERRCODE = '55000', DETAIL = list,
			      HINT = 'SELECT * FROM billing.health lists them, each with the call that fixes it.';
	END IF;
END
$$;
COMMENT ON FUNCTION billing.assert_healthy(text) IS
	'raises (SQLSTATE 55000) listing the rows of billing.health (with severity => ''critical'', only the critical ones); returns quietly when there are none';
REVOKE ALL ON FUNCTION billing.assert_healthy(text) FROM PUBLIC;
