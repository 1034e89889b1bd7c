-- The run's own actions (billing-run-details seed): its description, the
-- only field editable after creation; disable / enable; process_run, which
-- moves a run to its next step (queued → drafts issued → validated); and a
-- disabled schedule refusing reruns.  Every illegal transition names the run
-- and its step.
SET datestyle = ISO, YMD;
SET timezone = 'Asia/Tokyo';
-- ids that do not depend on the suites before this one
SELECT setval('billing.invoice_run_id_seq', 2000) IS NOT NULL AS run_ids_from_2001,
       setval('billing.invoice_id_seq', 2000) IS NOT NULL AS invoice_ids_from_2001,
       setval('billing.buyer_id_seq', 2000) IS NOT NULL AS buyer_ids_from_2001,
       setval('billing.document_id_seq', 20000) IS NOT NULL AS document_ids_from_20001;

INSERT INTO billing.brand (code, name) VALUES ('RS', 'Run Steps KK');
INSERT INTO billing.schedule (brand_id, code, name, cycle, override_due_rule, due_rule)
SELECT id, 'RS-EOM', 'month end', 'monthly:eom', true, 'month+1:eom' FROM billing.brand WHERE code = 'RS';
INSERT INTO billing.buyer (brand_id, code, name, schedule_id, schedule_applied_at, billing_balance)
SELECT br.id, v.code, v.code || ' KK', s.id, '2026-09-01 09:00', v.balance
FROM billing.brand br JOIN billing.schedule s ON s.brand_id = br.id,
     (VALUES ('RS1', 1000), ('RS2', 0), ('RS3', 0)) AS v(code, balance)
WHERE br.code = 'RS';
INSERT INTO billing.document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference)
SELECT b.id, b.brand_id, 'delivery_invoice', '2026-10-10', v.amount, 0.10, b.code || '-D1'
FROM billing.buyer b JOIN (VALUES ('RS1', 10000), ('RS2', 20000), ('RS3', 30000)) AS v(code, amount) ON v.code = b.code
WHERE b.brand_id = (SELECT id FROM billing.brand WHERE code = 'RS');

SELECT billing.rerun_invoice_run('RS-EOM', as_of => '2026-11-05 10:00+09', brand => 'RS') AS run \gset
SELECT run, step, description, drafts FROM billing.run_report WHERE run = :run;

-- the description is edited by its own function
SELECT run_id = :run AS described FROM billing.set_run_description(:run, 'October close, checked by Sato');
SELECT description FROM billing.invoice_run WHERE id = :run;
SELECT e.state, e.message, e.hint
FROM (VALUES (format('SELECT billing.set_run_description(%s, %L)', :run, ' ')),
             ('SELECT billing.set_run_description(999999, ''x'')')) AS t(q),
     public.err(q) AS e;

-- RS2's draft is set aside, RS3's rejected: processing leaves them alone
SELECT count(*) AS quarantined FROM billing.quarantine_invoices('check the price', VARIADIC ARRAY(
	SELECT invoice FROM billing.invoice_list WHERE brand = 'RS' AND buyer = 'RS2'));
SELECT count(*) AS rejected FROM billing.reject_invoices('wrong buyer', VARIADIC ARRAY(
	SELECT invoice FROM billing.invoice_list WHERE brand = 'RS' AND buyer = 'RS3'));

-- disabled: not processed; enabling twice or disabling twice is refused
SELECT step FROM billing.disable_run(:run);
SELECT step FROM billing.run_report WHERE run = :run;
SELECT e.state, e.message, e.detail, e.hint
FROM (VALUES (format('SELECT billing.process_run(%s)', :run)),
             (format('SELECT billing.disable_run(%s)', :run))) AS t(q),
     public.err(q) AS e;
SELECT step FROM billing.enable_run(:run);
SELECT e.state, e.message, e.detail FROM public.err(format('SELECT billing.enable_run(%s)', :run)) AS e;

-- all or nothing: when one confirmation fails, no draft is confirmed and the
-- run stays at "drafts issued"
INSERT INTO billing.document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference)
SELECT id, brand_id, 'delivery_invoice', '2026-10-31', 500, 0.10, code || '-D2' FROM billing.buyer WHERE code IN ('RS1', 'RS2');
SELECT billing.rerun_invoice_run('RS-EOM', as_of => '2026-11-05 11:00+09', brand => 'RS') AS run2 \gset
CREATE FUNCTION public.refuse_r2() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.status = 'confirmed' AND NEW.buyer_id = (SELECT id FROM billing.buyer WHERE code = 'RS2') THEN
		RAISE EXCEPTION 'RS2 may not be confirmed today';
	END IF;
	RETURN NEW;
END $$;
CREATE TRIGGER refuse_r2 BEFORE UPDATE ON billing.invoice FOR EACH ROW EXECUTE FUNCTION public.refuse_r2();
-- (run 2 has the late deliveries of RS1 and RS2)
SELECT e.state, e.message FROM public.err(format('SELECT billing.process_run(%s)', :run2)) AS e;
SELECT run, step, drafts, confirmed FROM billing.run_report WHERE run = :run2;
SELECT buyer, status FROM billing.invoice_list WHERE run = :run2 ORDER BY buyer;
DROP TRIGGER refuse_r2 ON billing.invoice;
DROP FUNCTION public.refuse_r2();

-- a run with a quarantined invoice is not processed: the error names it
-- and says how to release or reject it; nothing is confirmed
SELECT e.state, e.message, e.detail, e.hint
FROM public.err(format('SELECT billing.process_run(%s)', :run)) AS e;
SELECT buyer, status FROM billing.invoice_list WHERE run = :run ORDER BY buyer;
-- released (confirmed), the run is processed: RS1's draft is confirmed too
BEGIN;
SELECT count(*) AS released FROM billing.confirm_invoices(VARIADIC ARRAY(
	SELECT i.id FROM billing.invoice i WHERE i.run_id = :run AND i.status = 'quarantined'));
SELECT step FROM billing.process_run(:run);
SELECT buyer, status FROM billing.invoice_list WHERE run = :run ORDER BY buyer;
SELECT step, drafts, confirmed, quarantined FROM billing.run_report WHERE run = :run;
ROLLBACK;
-- or rejected: processed, RS1's draft is confirmed with its balance: 1000 + 10000 + 1000
SELECT count(*) AS rejected FROM billing.reject_invoices('checked: wrong buyer', VARIADIC ARRAY(
	SELECT i.id FROM billing.invoice i WHERE i.run_id = :run AND i.status = 'quarantined'));
SELECT step FROM billing.process_run(:run);
SELECT status, enabled, validated_at IS NOT NULL AS validated, validated_by = session_user AS validated_by_me
FROM billing.invoice_run WHERE id = :run;
SELECT buyer, status, total FROM billing.invoice_list WHERE run = :run ORDER BY buyer;
SELECT code, billing_balance FROM billing.buyer WHERE code IN ('RS1', 'RS2', 'RS3') ORDER BY code;
SELECT run, step, drafts, confirmed, quarantined, rejected FROM billing.run_report WHERE run = :run;
-- a validated run has no next step, and nothing left to disable or cancel
SELECT e.state, e.message, e.detail
FROM (VALUES (format('SELECT billing.process_run(%s)', :run)),
             (format('SELECT billing.disable_run(%s)', :run)),
             (format('SELECT billing.cancel_run(%s)', :run)),
             ('SELECT billing.process_run(999999)')) AS t(q),
     public.err(q) AS e;
SELECT level, message FROM billing.run_log WHERE run_id = :run ORDER BY id;

-- a cancelled run cannot be processed either
SELECT step FROM billing.cancel_run(:run2);
SELECT e.state, e.message FROM public.err(format('SELECT billing.process_run(%s)', :run2)) AS e;

-- a queued run that is disabled is not executed, whoever picks it up; once
-- enabled, process_run executes it (its next step: drafts issued)
INSERT INTO billing.document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference)
SELECT id, brand_id, 'delivery_invoice', '2026-10-31', 700, 0.10, 'RS3-D2' FROM billing.buyer WHERE code = 'RS3';
-- (a queued run as a background rerun leaves it before its worker starts,
-- made by the internal plan_rerun under the maintenance switch)
SET billing.maintenance = on;
SELECT billing_internal.plan_rerun('RS-EOM', '{}', '2026-11-05 12:00+09', 'RS', NULL) AS queued \gset
RESET billing.maintenance;
SELECT step FROM billing.disable_run(:queued);
SELECT step FROM billing.run_report WHERE run = :queued;
SELECT e.state, e.message, e.hint FROM public.err(format('SELECT billing_internal.run_invoice_run(%s)', :queued)) AS e;
SELECT e.state, e.message FROM public.err(format('SELECT billing.process_run(%s)', :queued)) AS e;
SELECT (billing.enable_run(:queued)).step;
SELECT step, invoices FROM billing.process_run(:queued);
SELECT step, drafts FROM billing.run_report WHERE run = :queued;

-- a disabled schedule refuses reruns; enabled again, it reruns
UPDATE billing.schedule SET enabled = false WHERE code = 'RS-EOM';
SELECT e.state, e.message, e.hint
FROM public.err($q$SELECT billing.rerun_invoice_run('RS-EOM', as_of => '2026-11-05 13:00+09', brand => 'RS')$q$) AS e;
UPDATE billing.schedule SET enabled = true WHERE code = 'RS-EOM';
-- (it finds nothing left to bill, so it makes no run: NULL, nothing to re-run)
SELECT billing.rerun_invoice_run('RS-EOM', as_of => '2026-11-05 13:00+09', brand => 'RS') IS NULL AS nothing_to_rerun;

-- a run's step follows its invoices: its drafts confirmed, deleted and
-- cancelled one by one (not by process_run), it is settled, not "drafts
-- issued" with no draft left
BEGIN;
SELECT i.id AS d1 FROM billing.invoice i WHERE i.run_id = :queued ORDER BY i.id LIMIT 1 \gset
SELECT i.id AS d2 FROM billing.invoice i WHERE i.run_id = :queued ORDER BY i.id OFFSET 1 LIMIT 1 \gset
SELECT i.id AS d3 FROM billing.invoice i WHERE i.run_id = :queued ORDER BY i.id OFFSET 2 LIMIT 1 \gset
SELECT count(*) AS confirmed FROM billing.confirm_invoices(:d1);
SELECT step, drafts, confirmed FROM billing.run_report WHERE run = :queued;
SELECT count(*) AS cancelled FROM billing.cancel_invoices(:d2);
SELECT step, drafts, confirmed, cancelled FROM billing.run_report WHERE run = :queued;
SELECT count(*) AS deleted FROM billing.delete_drafts(:d3);
SELECT step, drafts, confirmed, cancelled FROM billing.run_report WHERE run = :queued;
-- the same step in the run actions' errors (billing_internal.run_step)
SELECT e.state, e.message FROM public.err(format('SELECT billing.enable_run(%s)', :queued)) AS e;
-- a settled run may still be processed: validated, nothing left to confirm
SELECT step FROM billing.process_run(:queued);
SELECT step FROM billing.run_report WHERE run = :queued;
ROLLBACK;

-- a finished run's phase is done, since it finished; in_phase is for
-- runs being driven (the isolation spec run_phase shows one)
SELECT run, phase, phase_since = finished_at AS since_finished, in_phase
FROM billing.run_report WHERE brand = 'RS' ORDER BY run;
-- the phases are read through billing_internal.run_phases, which lists the
-- caller's brands' runs only; the slots themselves are internal
SELECT has_function_privilege('public', 'billing_internal.run_phases_all()', 'EXECUTE') AS public_reads_all_slots,
       has_function_privilege('public', 'billing_internal.set_run_phase(bigint, bigint, text)', 'EXECUTE') AS public_sets_phases,
       has_function_privilege('public', 'billing_internal.run_phases()', 'EXECUTE') AS public_reads_own;
