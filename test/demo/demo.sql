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
INSERT INTO billing.brand (code, name) VALUES ('ACME', 'アクメ商事株式会社');
INSERT INTO billing.bank_account (brand_id, code, bank_name, branch_name, account_number, account_holder)
SELECT id, 'MAIN', 'みずほ銀行', '丸の内支店', '1234567', 'アクメ商事(カ' FROM billing.brand;
INSERT INTO billing.member (brand_id, code, name, email, notify_scheduled_runs)
SELECT id, 'sato', '佐藤 花子', 'sato@acme.example', true FROM billing.brand;
INSERT INTO billing.schedule (brand_id, code, name, cycle, override_due_rule, due_rule)
SELECT id, s.code, s.name, s.cycle::billing.cycle, s.due_rule IS NOT NULL, s.due_rule::billing.due_rule
FROM billing.brand,
     (VALUES ('M20', '20日締め翌月末払い', 'monthly:20', 'month+1:eom'),
             ('EOM', '月末締め翌々月10日払い', 'monthly:eom', 'month+2:10'),
             ('FRI', '毎週金曜締め', 'weekly:fri', NULL)) AS s(code, name, cycle, due_rule);
-- buyers applied 30 days ago: drafts start with the first issue moment after that
INSERT INTO billing.buyer (brand_id, code, name, schedule_id, schedule_applied_at,
                           default_due_rule, default_bank_account_id, billing_balance)
SELECT 1, b.code, b.name, (SELECT id FROM billing.schedule WHERE code = b.schedule),
       now() - interval '30 days', b.due_rule::billing.due_rule,
       CASE WHEN b.bank THEN 1 END, b.balance
FROM (VALUES ('C001', '山田商店', 'M20', NULL, true, 52800),
             ('C002', '鈴木工業株式会社', 'M20', NULL, true, 0),
             ('C003', '田中食品', 'M20', NULL, false, 11000),
             ('C004', '高橋物産', 'EOM', NULL, true, 0),
             ('C005', '伊藤電機', 'FRI', 'net:30', true, 0)) AS b(code, name, schedule, due_rule, bank, balance);

-- deliveries at 10% and 8% (food), a return, a credit note and a payment,
-- spread over the last closed period of each buyer's schedule
INSERT INTO billing.document (buyer_id, brand_id, kind, document_date, billable, amount, tax_rate, reference)
SELECT b.id, 1, d.kind, lower(p) + (d.day % (upper(p) - lower(p))), d.billable,
       CASE WHEN d.kind = 'payment' THEN d.amount ELSE d.amount * (1 + b.id % 3) END, d.rate,
       b.code || '-' || d.ref
FROM billing.buyer b
JOIN billing.schedule s ON s.id = b.schedule_id
CROSS JOIN LATERAL billing.last_closed_period(s.cycle, current_date) AS p
CROSS JOIN (VALUES ('delivery_invoice', 1, true, 120000, 0.10, 'D1'),
                   ('delivery_invoice', 5, true, 43210, 0.08, 'D2'),
                   ('delivery_invoice', 9, true, 8800, 0.10, 'D3'),
                   ('delivery_invoice', 11, false, 99999, 0.10, 'D4'),
                   ('return_note', 12, true, 3000, 0.10, 'R1'),
                   ('credit_note', 14, true, 1200, 0.08, 'C1'),
                   ('payment', 3, true, 52800, NULL, 'P1')) AS d(kind, day, billable, amount, rate, ref)
-- C001 paid its last invoice; C003 only carries a balance
WHERE b.code <> 'C003' AND (d.kind <> 'payment' OR b.code = 'C001');
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
