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

\echo '== master data a qualified invoice (適格請求書) needs: optional until the XML is asked for'
UPDATE billing.brand SET legal_name = 'アクメ商事株式会社', registration_number = 'T1010001000001',
                         postal_code = '1000005', prefecture = '東京都', city = '千代田区',
                         address_line = '丸の内1-1-1 アクメビル', peppol_scheme = '0188', peppol_id = '1010001000001'
WHERE code = 'ACME';
UPDATE billing.buyer b SET postal_code = v.postal, prefecture = v.pref, city = v.city, address_line = v.line,
                           peppol_scheme = '0188', peppol_id = v.peppol
FROM (VALUES ('C001', '5410041', '大阪府', '大阪市中央区', '北浜1-1', '1120001000001'),
             ('C002', '4600008', '愛知県', '名古屋市中区', '栄2-2', '1180001000002'),
             ('C003', '0600001', '北海道', '札幌市中央区', '北一条西1-1', '1430001000003'),
             ('C004', '8100001', '福岡県', '福岡市中央区', '天神1-1', '1290001000004'),
             ('C005', '9800811', '宮城県', '仙台市青葉区', '一番町1-1', '1370001000005')) AS v(code, postal, pref, city, line, peppol)
WHERE b.code = v.code;
UPDATE billing.document d SET description = v.description
FROM (VALUES ('D1', 'コピー用紙 A4 (10箱)'), ('D2', '弁当・飲料 (軽減税率)'), ('D3', 'トナーカートリッジ'),
             ('R1', '返品: コピー用紙 A4'), ('C1', '値引: 弁当 数量訂正')) AS v(suffix, description)
WHERE d.reference LIKE '%-' || v.suffix;
SELECT code, legal_name, registration_number, peppol_scheme || ':' || peppol_id AS peppol FROM billing.brand;

\echo '== pg_cron: the job that issues drafts, a tick every 5 minutes (each brand''s 00:05 local issue moment within one tick)'
SELECT billing.cron_setup() AS cron_job_id;
SELECT jobname, schedule, command FROM cron.job;

\echo '== billing.issue_drafts(): every period whose issue moment has passed'
SELECT * FROM billing.issue_drafts();
\echo '== a second call issues nothing (idempotent)'
SELECT count(*) AS runs_made FROM billing.issue_drafts();

\echo '== a delivery for C002 is found late; the DBA re-runs M20'
INSERT INTO billing.document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference)
SELECT b.id, 1, 'delivery_invoice', upper(billing.last_closed_period('monthly:20', current_date)) - 2,
       15000, 0.10, 'C002-LATE'
FROM billing.buyer b WHERE b.code = 'C002';
SELECT billing.rerun_invoice_run('M20', notify => '{sato}') AS rerun_id;

\echo '== confirm C001''s draft: its balance becomes the invoice total'
SELECT *
FROM billing.confirm_invoices(VARIADIC ARRAY(SELECT i.id FROM billing.invoice i JOIN billing.buyer b ON b.id = i.buyer_id
                                   WHERE b.code = 'C001' ORDER BY i.id DESC LIMIT 1));
SELECT code, name, billing_balance AS "請求残高" FROM billing.buyer ORDER BY code;

\echo '== the invoices in the Japanese closing-date layout (view billing.invoice_list)'
SELECT invoice AS "ID", invoice_number AS "請求書番号", buyer_name AS "得意先", schedule AS "締め", cutoff_date AS "締日",
       invoice_date AS "請求日", due_date AS "支払期限", status AS "状態",
       previous_billed AS "前回御請求額", deposit AS "御入金額", carried_over AS "繰越金額",
       purchases AS "今回御買上額", tax AS "消費税額", total AS "今回御請求額",
       coalesce(nullif(bank_account, ''), '(振込先未登録)') AS "振込先"
FROM billing.invoice_list ORDER BY invoice;
\echo '== tax per rate, rounded once per invoice and rate'
SELECT t.invoice_id AS "請求書番号", (t.tax_rate * 100)::int || '%' AS "税率",
       t.taxable_amount AS "対象額", t.tax AS "消費税"
FROM billing.invoice_tax_line t ORDER BY 1, 2;

\echo '== the run log and the outbox'
SELECT run_id, level, message FROM billing.run_log ORDER BY id;
SELECT run_id, email, subject FROM billing.notification ORDER BY id;

\echo '== the run''s own actions: describe it, process it (drafts issued -> validated: its drafts confirmed)'
SELECT * FROM billing.set_run_description(
	(SELECT r.id FROM billing.invoice_run r JOIN billing.schedule s ON s.id = r.schedule_id
	 WHERE s.code = 'EOM' ORDER BY r.id DESC LIMIT 1), '月末締め: 経理確認済み');
SELECT * FROM billing.process_run(
	(SELECT r.id FROM billing.invoice_run r JOIN billing.schedule s ON s.id = r.schedule_id
	 WHERE s.code = 'EOM' ORDER BY r.id DESC LIMIT 1));

\echo '== the run report (view billing.run_report)'
SELECT run, schedule, kind, period, step, requested_by, duration, buyers, invoices_issued AS invoices,
       documents, drafts, confirmed, billed_total, tax_by_rate, last_error, xml_count
FROM billing.run_report WHERE invoices_issued > 0 OR step <> 'drafts issued' ORDER BY run;

\echo '== why each document is (or is not) on a draft (view billing.document_status)'
SELECT buyer, kind, reference, document_date, amount, status, explanation
FROM billing.document_status ORDER BY buyer, document_date, reference;

\echo '== the qualified invoice of C001 as Peppol PINT JP XML (billing.invoice_xml), its totals read back'
SELECT x.*
FROM billing.invoice_list i,
     XMLTABLE(XMLNAMESPACES('urn:oasis:names:specification:ubl:schema:xsd:Invoice-2' AS u,
                            'urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2' AS cac,
                            'urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2' AS cbc),
              '/u:Invoice' PASSING billing.invoice_xml(i.invoice)
              COLUMNS "ID" text PATH 'cbc:ID', "IssueDate" date PATH 'cbc:IssueDate',
                      "DueDate" date PATH 'cbc:DueDate',
                      "Lines" int PATH 'count(cac:InvoiceLine)',
                      "TaxExclusive" numeric PATH 'cac:LegalMonetaryTotal/cbc:TaxExclusiveAmount',
                      "Tax" numeric PATH 'cac:TaxTotal/cbc:TaxAmount',
                      "Payable" numeric PATH 'cac:LegalMonetaryTotal/cbc:PayableAmount') AS x
WHERE i.buyer = 'C001' AND i.status = 'confirmed';
