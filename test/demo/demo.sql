-- test/demo/demo.sql: the main job on sample data, run by test/demo.sh.
-- A brand with three schedules, buyers and a month of documents dated
-- relative to today (Asia/Tokyo), then: the pg_cron job, issue_drafts(),
-- a late delivery and a rerun, one confirmation, and the drafts printed in
-- the Japanese closing-date layout.
\set ON_ERROR_STOP on
\pset footer off
SET datestyle = ISO, YMD;
SET timezone = 'Asia/Tokyo';

\echo '== the calendar on real schedules (as of today in Tokyo)'
SELECT c AS cycle,
       billing.cutoff_on_or_after(c, current_date) AS next_cutoff,
       billing.period_of(c, current_date) AS current_period,
       billing.last_closed_period(c, current_date) AS last_closed_period,
       billing.due_date('month+1:eom', upper(billing.last_closed_period(c, current_date)) - 1,
                        upper(billing.last_closed_period(c, current_date)) - 1) AS due_month_1_eom
FROM unnest(ARRAY['monthly:20', 'monthly:eom', 'weekly:fri', 'yearly:60']::billing.cycle[]) AS c;
SELECT array_agg(d) AS "Fridays this month"
FROM billing.cutoffs('weekly:fri', date_trunc('month', current_date)::date,
                     (date_trunc('month', current_date) + interval '1 month - 1 day')::date) AS d;

\echo '== sample data: brand ACME, schedules, buyers, documents of the last closed 20th period'
\ir story.sql
SELECT b.code AS buyer, d.kind, count(*) AS documents, sum(d.amount) AS amount
FROM billing.document d JOIN billing.buyer b ON b.id = d.buyer_id
GROUP BY 1, 2 ORDER BY 1, 2;

\echo '== pg_cron: the job that issues drafts at 00:05 JST (15:05 UTC) every day'
SELECT billing.cron_setup() AS cron_job_id;
SELECT jobname, schedule, command FROM cron.job;

\echo '== billing.issue_drafts(): every period whose issue moment has passed'
SELECT r.id AS run, s.code AS schedule, r.period, r.issue_at, r.status,
       r.buyer_count AS buyers, r.invoice_count AS drafts, r.document_count AS documents,
       r.billed_total AS total
FROM billing.issue_drafts() AS r JOIN billing.schedule s ON s.id = r.schedule_id;
\echo '== a second call issues nothing (idempotent)'
SELECT count(*) AS runs_made FROM billing.issue_drafts();

\echo '== a delivery for C002 is found late; the DBA re-runs M20'
INSERT INTO billing.document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference)
SELECT b.id, 1, 'delivery_invoice', upper(billing.last_closed_period('monthly:20', current_date)) - 2,
       15000, 0.10, 'C002-LATE'
FROM billing.buyer b WHERE b.code = 'C002';
SELECT billing.rerun_invoice_run('M20', notify => '{sato}') AS rerun_id;

\echo '== confirm C001''s draft: its balance becomes the invoice total'
SELECT i.id, i.status, i.total
FROM billing.confirm_invoices(ARRAY(SELECT i.id FROM billing.invoice i JOIN billing.buyer b ON b.id = i.buyer_id
                                   WHERE b.code = 'C001' ORDER BY i.id DESC LIMIT 1)) AS i;
SELECT code, name, billing_balance AS "請求残高" FROM billing.buyer ORDER BY code;

\echo '== the drafts in the Japanese closing-date layout'
SELECT i.id AS "請求書番号", b.name AS "得意先", s.code AS "締め", upper(i.period) - 1 AS "締日",
       i.invoice_date AS "請求日", i.due_date AS "支払期限", i.status AS "状態",
       i.previous_billed AS "前回御請求額", i.deposit AS "御入金額", i.carried_over AS "繰越金額",
       i.purchases AS "今回御買上額", i.tax AS "消費税額", i.total AS "今回御請求額",
       coalesce(ba.bank_name || ' ' || ba.branch_name || ' ' || ba.account_number, '(振込先未登録)') AS "振込先"
FROM billing.invoice i JOIN billing.buyer b ON b.id = i.buyer_id
JOIN billing.schedule s ON s.id = i.schedule_id
LEFT JOIN billing.bank_account ba ON ba.id = i.bank_account_id
ORDER BY i.id;
\echo '== tax per rate, rounded once per invoice and rate'
SELECT t.invoice_id AS "請求書番号", (t.tax_rate * 100)::int || '%' AS "税率",
       t.taxable_amount AS "対象額", t.tax AS "消費税"
FROM billing.invoice_tax_line t ORDER BY 1, 2;

\echo '== the run log and the outbox'
SELECT run_id, level, message FROM billing.run_log ORDER BY id;
SELECT run_id, email, subject FROM billing.notification ORDER BY id;
