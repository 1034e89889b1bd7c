-- test/demo/story.sql: the demo's sample data: brand ACME, its bank account
-- and member, three schedules, five buyers and the documents of each
-- buyer's last closed period, dated relative to today (Asia/Tokyo).
-- Included by demo.sql, and loaded into a version 0.1 database by the
-- upgrade test (test/t/003_upgrade.pl): it uses only what 0.1 has.
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
