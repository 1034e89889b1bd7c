-- src/sql/views.sql: views a clerk reads at a glance.  Each reads with
-- the caller's rights (security_invoker), so row level security on the
-- tables applies to whoever queries the view.

-- billing.invoice_list: the invoices in the Japanese closing-date layout
-- (請求一覧), one row per invoice
CREATE OR REPLACE VIEW billing.invoice_list WITH (security_invoker = true) AS
SELECT i.id AS invoice,
       i.invoice_number,
       br.code AS brand,
       b.code AS buyer,
       b.name AS buyer_name,
       s.code AS schedule,
       i.cutoff_date,
       i.invoice_date,
       i.due_date,
       i.status,
       i.previous_billed,
       i.deposit,
       i.carried_over,
       i.purchases,
       i.tax,
       i.total,
       concat_ws(' ', ba.bank_name, ba.branch_name, ba.account_number) AS bank_account,
       i.run_id AS run,
       im.sent_at AS mailed_at
FROM billing.invoice i
JOIN billing.buyer b ON b.id = i.buyer_id
JOIN billing.brand br ON br.id = i.brand_id
LEFT JOIN billing.schedule s ON s.id = i.schedule_id
LEFT JOIN billing.bank_account ba ON ba.id = i.bank_account_id
LEFT JOIN billing_internal.pdf_mailed() im ON im.buyer_id = i.buyer_id AND im.invoice_id = i.id;
COMMENT ON VIEW billing.invoice_list IS
	'invoices in the Japanese closing-date layout (請求一覧): buyer, schedule, dates, status, the six amounts, bank account';
COMMENT ON COLUMN billing.invoice_list.invoice IS 'invoice id, what the invoice actions take';
COMMENT ON COLUMN billing.invoice_list.invoice_number IS 'the brand''s invoice number (請求書番号), given when it is confirmed; NULL before';
COMMENT ON COLUMN billing.invoice_list.brand IS 'brand code';
COMMENT ON COLUMN billing.invoice_list.buyer IS 'buyer code (得意先コード)';
COMMENT ON COLUMN billing.invoice_list.buyer_name IS 'buyer name (得意先)';
COMMENT ON COLUMN billing.invoice_list.schedule IS 'billing schedule code (締め)';
COMMENT ON COLUMN billing.invoice_list.cutoff_date IS 'cut-off date (締日)';
COMMENT ON COLUMN billing.invoice_list.invoice_date IS 'invoice date (請求日)';
COMMENT ON COLUMN billing.invoice_list.due_date IS 'payment due date (支払期限); NULL when no due rule applies';
COMMENT ON COLUMN billing.invoice_list.status IS 'draft, confirmed, quarantined, rejected or cancelled (状態)';
COMMENT ON COLUMN billing.invoice_list.previous_billed IS '前回御請求額: the buyer''s balance when the draft was made';
COMMENT ON COLUMN billing.invoice_list.deposit IS '御入金額: payments of the period';
COMMENT ON COLUMN billing.invoice_list.carried_over IS '繰越金額: previous_billed - deposit';
COMMENT ON COLUMN billing.invoice_list.purchases IS '今回御買上額: deliveries - returns - credit notes, excluding tax';
COMMENT ON COLUMN billing.invoice_list.tax IS '消費税額: tax, rounded once per rate';
COMMENT ON COLUMN billing.invoice_list.total IS '今回御請求額: carried_over + purchases + tax';
COMMENT ON COLUMN billing.invoice_list.bank_account IS 'the maker''s account to pay into (振込先): bank, branch, number; empty when none';
COMMENT ON COLUMN billing.invoice_list.run IS 'the run that issued the invoice';
COMMENT ON COLUMN billing.invoice_list.mailed_at IS 'when the invoice was mailed to the buyer with its PDF and XML (billing.mail_invoices); NULL: not (yet)';

-- billing.run_report: the seed's execution report and statistics, one row
-- per run.  Counts and per-rate totals are over the run's invoices as they
-- are now (rejected and cancelled ones left out of the totals); buyers,
-- invoices and documents issued are the run's own counts.
CREATE OR REPLACE VIEW billing.run_report WITH (security_invoker = true) AS
SELECT r.id AS run,
       br.code AS brand,
       s.code AS schedule,
       r.kind,
       r.period,
       r.description,
       -- billing_internal.run_step(r.status, r.enabled, r.validated_at, r.invoice_count,
       -- drafts + quarantined), written out
       CASE WHEN r.status = 'completed' AND r.validated_at IS NOT NULL THEN 'validated'
            WHEN r.status = 'completed' AND r.invoice_count > 0
                 AND coalesce(c.drafts, 0) + coalesce(c.quarantined, 0) = 0 THEN 'settled'
            WHEN r.status = 'completed' THEN 'drafts issued'
            ELSE r.status
       END || CASE WHEN NOT r.enabled THEN ' (disabled)' ELSE '' END AS step,
       r.requested_by,
       r.queued_at,
       r.started_at,
       r.finished_at,
       r.finished_at - r.started_at AS duration,
       r.validated_at,
       r.validated_by,
       r.buyer_count AS buyers,
       r.invoice_count AS invoices_issued,
       r.document_count AS documents,
       coalesce(c.drafts, 0) AS drafts,
       coalesce(c.confirmed, 0) AS confirmed,
       coalesce(c.quarantined, 0) AS quarantined,
       coalesce(c.rejected, 0) AS rejected,
       coalesce(c.cancelled, 0) AS cancelled,
       r.purchases_total,
       r.tax_total,
       r.billed_total,
       t.by_rate AS tax_by_rate,
       coalesce(r.error, e.message) AS last_error,
       coalesce(c.with_xml, 0) AS xml_count,
       -- the phase of a run being driven now (billing_internal.run_phases, shared
       -- memory: the run's own transaction is not committed yet)
       CASE WHEN r.finished_at IS NOT NULL THEN 'done' ELSE p.phase END AS phase,
       CASE WHEN r.finished_at IS NOT NULL THEN r.finished_at ELSE p.phase_since END AS phase_since,
       CASE WHEN r.finished_at IS NULL THEN clock_timestamp() - p.phase_since END AS in_phase
FROM billing.invoice_run r
JOIN billing.brand br ON br.id = r.brand_id
JOIN billing.schedule s ON s.id = r.schedule_id
LEFT JOIN (
	SELECT i.run_id,
	       count(*) FILTER (WHERE i.status = 'draft') AS drafts,
	       count(*) FILTER (WHERE i.status = 'confirmed') AS confirmed,
	       count(*) FILTER (WHERE i.status = 'quarantined') AS quarantined,
	       count(*) FILTER (WHERE i.status = 'rejected') AS rejected,
	       count(*) FILTER (WHERE i.status = 'cancelled') AS cancelled,
	       -- what billing.run_xml() writes: invoices to send that have lines
	       -- (the test in the filter, not in a FROM-less lateral: Citus
	       -- plans a correlated subquery on buyer_id there, and nothing
	       -- changes on one node: 0.58 s over 100,000 invoices either way)
	       count(*) FILTER (WHERE i.status IN ('draft', 'quarantined', 'confirmed')
	                          AND EXISTS (SELECT 1 FROM billing.document_link l
	                                      JOIN billing.document d ON d.buyer_id = l.buyer_id AND d.id = l.document_id
	                                      WHERE l.buyer_id = i.buyer_id AND l.invoice_id = i.id
	                                        AND d.kind <> 'payment')) AS with_xml
	FROM billing.invoice i
	GROUP BY i.run_id
) AS c ON c.run_id = r.id
LEFT JOIN (
	SELECT x.run_id,
	       string_agg(format('%s%%: %s + %s', trim_scale(x.tax_rate * 100), x.taxable, x.tax), '; '
	                  ORDER BY x.tax_rate DESC) AS by_rate
	FROM (SELECT i.run_id, t.tax_rate, sum(t.taxable_amount) AS taxable, sum(t.tax) AS tax
	      FROM billing.invoice i
	      JOIN billing.invoice_tax_line t ON t.buyer_id = i.buyer_id AND t.invoice_id = i.id
	      WHERE i.status NOT IN ('rejected', 'cancelled')
	      GROUP BY i.run_id, t.tax_rate) AS x
	GROUP BY x.run_id
) AS t ON t.run_id = r.id
-- the last error line of each run's log (a join, not a correlated subquery:
-- run_log and invoice_run are small tables, reference tables on Citus)
LEFT JOIN (SELECT DISTINCT ON (g.run_id) g.run_id, g.message
           FROM billing.run_log g WHERE g.level = 'error'
           ORDER BY g.run_id, g.id DESC) AS e ON e.run_id = r.id
LEFT JOIN billing_internal.run_phases() AS p ON p.run_id = r.id;
COMMENT ON VIEW billing.run_report IS
	'one row per run: step, who asked and when, duration, counts, totals per tax rate, last error, XML count';
COMMENT ON COLUMN billing.run_report.run IS 'run id';
COMMENT ON COLUMN billing.run_report.brand IS 'brand code';
COMMENT ON COLUMN billing.run_report.schedule IS 'schedule code';
COMMENT ON COLUMN billing.run_report.kind IS 'scheduled or rerun';
COMMENT ON COLUMN billing.run_report.period IS 'the billing period [first day, cut-off + 1)';
COMMENT ON COLUMN billing.run_report.description IS 'the run''s description (the only field editable after creation)';
COMMENT ON COLUMN billing.run_report.step IS 'queued, running, drafts issued, settled (no draft or quarantined invoice left), validated, failed or cancelled; "(disabled)" when disabled';
COMMENT ON COLUMN billing.run_report.phase IS 'of a run being driven now: planning, aggregating, writing invoices, writing links; done once finished; NULL otherwise';
COMMENT ON COLUMN billing.run_report.phase_since IS 'when the run entered its phase (finished_at once done)';
COMMENT ON COLUMN billing.run_report.in_phase IS 'how long a run being driven has been in its phase';
COMMENT ON COLUMN billing.run_report.requested_by IS 'the role that asked for the run';
COMMENT ON COLUMN billing.run_report.queued_at IS 'when the run was asked for';
COMMENT ON COLUMN billing.run_report.started_at IS 'when it started';
COMMENT ON COLUMN billing.run_report.finished_at IS 'when it finished';
COMMENT ON COLUMN billing.run_report.duration IS 'finished_at - started_at';
COMMENT ON COLUMN billing.run_report.validated_at IS 'when process_run validated (confirmed) its drafts';
COMMENT ON COLUMN billing.run_report.validated_by IS 'who validated them';
COMMENT ON COLUMN billing.run_report.buyers IS 'buyers the run billed';
COMMENT ON COLUMN billing.run_report.invoices_issued IS 'drafts the run issued';
COMMENT ON COLUMN billing.run_report.documents IS 'documents the run linked';
COMMENT ON COLUMN billing.run_report.drafts IS 'its invoices that are drafts now';
COMMENT ON COLUMN billing.run_report.confirmed IS 'its invoices that are confirmed now';
COMMENT ON COLUMN billing.run_report.quarantined IS 'its invoices that are quarantined now';
COMMENT ON COLUMN billing.run_report.rejected IS 'its invoices that are rejected now';
COMMENT ON COLUMN billing.run_report.cancelled IS 'its invoices that are cancelled now';
COMMENT ON COLUMN billing.run_report.purchases_total IS '今回御買上額 of the drafts issued';
COMMENT ON COLUMN billing.run_report.tax_total IS '消費税額 of the drafts issued';
COMMENT ON COLUMN billing.run_report.billed_total IS '今回御請求額 of the drafts issued';
COMMENT ON COLUMN billing.run_report.tax_by_rate IS 'per tax rate: taxable amount + tax, over its invoices not rejected or cancelled';
COMMENT ON COLUMN billing.run_report.last_error IS 'the run''s error, or the last error line of its log';
COMMENT ON COLUMN billing.run_report.xml_count IS 'invoices billing.run_xml() writes: drafts, quarantined and confirmed ones with lines';

-- billing.document_status: why each document is or is not on a draft, and,
-- for an uninvoiced one, what will bill it and when.  The eligibility rule
-- is billing.uninvoiced_document's (the one definition).  What bills an
-- uninvoiced document of a buyer with a schedule (will_bill, will_bill_at):
--   the scheduled run of its own period, when that period has no scheduled
--   run yet and its issue moment comes after the buyer's schedule was
--   applied (billing_internal.plan_scheduled_runs' rule; an issue moment already
--   past means the next billing.issue_drafts() catches it up);
--   else, when the schedule's late_documents is next_run and its period is
--   one whose run took the buyer: the next scheduled run of the schedule;
--   else nothing: the call that bills it is named (a rerun of its period,
--   after back-dating the buyer's schedule_applied_at when the period is
--   older than the schedule's use).  Times are shown in the brand's time
--   zone, with the zone's abbreviation when the clock shows it today.
CREATE OR REPLACE VIEW billing.document_status WITH (security_invoker = true) AS
-- (in three levels: the joins, then what will bill the document, then the
-- columns; on Citus a FROM-less subquery may hold no function that is not
-- immutable, and format, to_char and now() are stable)
SELECT m.document, m.brand, m.buyer, m.kind, m.reference, m.document_date, m.amount, m.tax_rate,
       m.status, m.invoice,
       CASE
           WHEN m.invoice_status = 'draft' THEN format('on draft %s', m.invoice)
           WHEN m.invoice_status = 'quarantined' THEN format('on quarantined invoice %s: %s', m.invoice, m.status_reason)
           WHEN m.invoice_status = 'rejected' THEN format('on rejected invoice %s: %s', m.invoice, m.status_reason)
           WHEN m.invoice_status = 'confirmed' THEN format('billed on invoice %s', m.invoice)
           WHEN m.uninvoiced AND NOT m.has_schedule THEN 'no billing schedule is applied to the buyer'
           WHEN m.uninvoiced THEN format('uninvoiced: for the period %s of schedule %s; what will bill it: %s',
                                         m.period, m.schedule_code, m.will_bill)
           WHEN m.never_invoice THEN 'never to be invoiced: closed by a cancelled run'
           WHEN NOT m.billable THEN 'non-billable delivery: never aggregated'
       END AS explanation,
       m.will_bill,
       CASE WHEN m.next_cutoff IS NOT NULL THEN m.issue_at END AS will_bill_at
FROM (
SELECT q.*,
       CASE
           WHEN q.cutoff IS NULL THEN NULL
           WHEN q.next_cutoff IS NOT NULL
               THEN format('the run of %s %s%s',
                           to_char(q.issue_at AT TIME ZONE q.time_zone, 'YYYY-MM-DD HH24:MI'),
                           CASE WHEN q.utc_offset = (q.issue_at AT TIME ZONE q.time_zone)
                                                    - (q.issue_at AT TIME ZONE 'UTC')
                                THEN q.abbrev ELSE q.time_zone END,
                           CASE WHEN q.issue_at <= now()
                                THEN ' (due: the next billing.issue_drafts() makes it)' ELSE '' END)
           WHEN NOT q.enabled
               THEN format('nothing will: schedule %s is disabled (enable it, or apply another schedule to the buyer)',
                           q.schedule_code)
           WHEN q.cutoff < q.schedule_first_cutoff
               THEN format('nothing will: its period is before schedule %s came into use; back-date the buyer''s schedule_applied_at to before %s (at most a year before the schedule was created), then call billing.rerun_invoice_run(%L, period => %L)',
                           q.schedule_code, lower(q.period), q.schedule_code, q.cutoff)
           ELSE format('nothing will: call billing.rerun_invoice_run(%L, period => %L)', q.schedule_code, q.cutoff)
       END AS will_bill
FROM (
SELECT d.id AS document,
       br.code AS brand,
       b.code AS buyer,
       d.kind,
       d.reference,
       d.document_date,
       d.amount,
       d.tax_rate,
       CASE
           WHEN i.status = 'draft' THEN 'on draft'
           WHEN i.status = 'quarantined' THEN 'on quarantined invoice'
           WHEN i.status = 'rejected' THEN 'on rejected invoice'
           WHEN i.status = 'confirmed' THEN 'billed'
           WHEN u.id IS NOT NULL AND b.schedule_id IS NULL THEN 'no schedule applied'
           WHEN u.id IS NOT NULL THEN 'uninvoiced'
           WHEN d.never_invoice THEN 'never to be invoiced'
           WHEN NOT d.billable THEN 'non-billable'
       END AS status,
       l.invoice_id AS invoice,
       i.status AS invoice_status, i.status_reason, u.id IS NOT NULL AS uninvoiced,
       b.schedule_id IS NOT NULL AS has_schedule, d.never_invoice, d.billable,
       w.period, w.cutoff, w.schedule_first_cutoff, s.code AS schedule_code, s.enabled,
       nx.next_cutoff, na.issue_at, br.time_zone, z.utc_offset, z.abbrev
FROM billing.document d
JOIN billing.buyer b ON b.id = d.buyer_id
JOIN billing.brand br ON br.id = d.brand_id
LEFT JOIN billing.schedule s ON s.id = b.schedule_id
LEFT JOIN billing.uninvoiced_document u ON u.buyer_id = d.buyer_id AND u.id = d.id
LEFT JOIN billing.document_link l ON l.buyer_id = d.buyer_id AND l.document_id = d.id
LEFT JOIN billing.invoice i ON i.buyer_id = l.buyer_id AND i.id = l.invoice_id
-- the document's period, and the first cut-offs whose runs take the buyer
-- and the schedule (by its first buyer's application)
LEFT JOIN (SELECT b2.schedule_id, min(b2.schedule_applied_at) AS in_use_since
           FROM billing.buyer b2 WHERE b2.schedule_id IS NOT NULL
           GROUP BY b2.schedule_id) AS iu ON iu.schedule_id = s.id
LEFT JOIN LATERAL (
	SELECT p.period, upper(p.period) - 1 AS cutoff,
	       billing.cutoff_on_or_after(s.cycle, ((b.schedule_applied_at AT TIME ZONE br.time_zone)
	                                            - s.issue_delay)::date) AS buyer_first_cutoff,
	       billing.cutoff_on_or_after(s.cycle, ((iu.in_use_since AT TIME ZONE br.time_zone)
	                                            - s.issue_delay)::date) AS schedule_first_cutoff
	FROM (SELECT billing.period_of(s.cycle, d.document_date) AS period) AS p
) AS w ON u.id IS NOT NULL AND s.id IS NOT NULL
-- the scheduled run of its period, and the schedule's latest scheduled run
LEFT JOIN billing.invoice_run own
  ON own.schedule_id = s.id AND own.kind = 'scheduled' AND own.status <> 'failed'
 AND own.cutoff_date = w.cutoff
LEFT JOIN (SELECT r.schedule_id, max(r.cutoff_date) AS last_cutoff
           FROM billing.invoice_run r WHERE r.kind = 'scheduled' AND r.status <> 'failed'
           GROUP BY r.schedule_id) AS lr ON lr.schedule_id = s.id
CROSS JOIN LATERAL (
	SELECT CASE
	           WHEN w.cutoff IS NULL OR NOT s.enabled THEN NULL
	           WHEN own.id IS NULL AND w.cutoff >= w.buyer_first_cutoff THEN w.cutoff
	           WHEN s.late_documents = 'next_run' AND w.cutoff >= w.buyer_first_cutoff
	               THEN billing.cutoff_on_or_after(s.cycle, greatest(w.cutoff + 1, lr.last_cutoff + 1))
	       END AS next_cutoff
) AS nx
CROSS JOIN LATERAL (
	SELECT ((nx.next_cutoff + 1)::timestamp + s.issue_delay) AT TIME ZONE br.time_zone AS issue_at
) AS na
LEFT JOIN pg_catalog.pg_timezone_names AS z ON z.name = br.time_zone
) AS q
) AS m;
COMMENT ON VIEW billing.document_status IS
	'per document: uninvoiced (and what will bill it, when), on draft N, billed on invoice N, non-billable, never to be invoiced, or no schedule applied';
COMMENT ON COLUMN billing.document_status.document IS 'document id';
COMMENT ON COLUMN billing.document_status.brand IS 'brand code';
COMMENT ON COLUMN billing.document_status.buyer IS 'buyer code';
COMMENT ON COLUMN billing.document_status.kind IS 'delivery_invoice, return_note, credit_note or payment';
COMMENT ON COLUMN billing.document_status.reference IS 'the application''s own reference';
COMMENT ON COLUMN billing.document_status.document_date IS 'the date that counts for its kind';
COMMENT ON COLUMN billing.document_status.amount IS 'amount excluding tax, as recorded (positive)';
COMMENT ON COLUMN billing.document_status.tax_rate IS 'tax rate; NULL for payments';
COMMENT ON COLUMN billing.document_status.status IS
	'uninvoiced, on draft, on quarantined invoice, on rejected invoice, billed, never to be invoiced, non-billable, no schedule applied';
COMMENT ON COLUMN billing.document_status.invoice IS 'the invoice it is on, if any';
COMMENT ON COLUMN billing.document_status.explanation IS 'the status in a sentence, with the invoice number, or the period it waits for and what will bill it';
COMMENT ON COLUMN billing.document_status.will_bill IS
	'uninvoiced documents of a buyer with a schedule: "the run of 2026-12-21 00:05 JST" (brand''s time zone), or "nothing will: call billing.rerun_invoice_run(...)"; else NULL';
COMMENT ON COLUMN billing.document_status.will_bill_at IS 'when the scheduled run that will bill it is issued; NULL when nothing will';
