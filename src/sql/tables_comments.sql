-- src/sql/tables_comments.sql: the comments of the tables of tables.sql and
-- of their columns, and the pg_extension_config_dump calls that make
-- pg_dump dump their rows and sequences.  tables.sql runs once (a later
-- version changes a table in src/sql/updates/); these statements are safe to
-- repeat, so an upgrade re-runs them like every re-runnable source (Makefile),
-- and a table or column the update adds gets its comment here.

SELECT pg_catalog.pg_extension_config_dump('billing.brand', '');
SELECT pg_catalog.pg_extension_config_dump('billing.brand_id_seq', '');
COMMENT ON TABLE billing.brand IS 'a brand environment: owns schedules, buyers, documents, invoices and runs';
COMMENT ON COLUMN billing.brand.id IS 'brand id';
COMMENT ON COLUMN billing.brand.code IS 'the brand''s code, unique; at most 64 characters';
COMMENT ON COLUMN billing.brand.name IS 'the brand''s name; at most 200 characters';
COMMENT ON COLUMN billing.brand.time_zone IS 'named zone of pg_timezone_names (default Asia/Tokyo) whose midnight starts the day after a cut-off';
COMMENT ON COLUMN billing.brand.currency IS 'ISO 4217 currency code of every amount of the brand (default JPY)';
COMMENT ON COLUMN billing.brand.currency_scale IS 'digits after the decimal point of the currency''s minor unit: JPY 0, EUR 2; document amounts must fit it';
COMMENT ON COLUMN billing.brand.tax_rounding IS 'how tax is rounded, once per rate per invoice: down (toward zero, the default), half_up, up';
COMMENT ON COLUMN billing.brand.created_at IS 'when the brand was created';

SELECT pg_catalog.pg_extension_config_dump('billing.schedule', '');
SELECT pg_catalog.pg_extension_config_dump('billing.schedule_id_seq', '');
COMMENT ON TABLE billing.schedule IS 'billing schedule: recurrence and cut-off, due rule, invoice date and issue timing';
COMMENT ON COLUMN billing.schedule.id IS 'schedule id';
COMMENT ON COLUMN billing.schedule.brand_id IS 'the brand the schedule belongs to';
COMMENT ON COLUMN billing.schedule.code IS 'the schedule''s code, unique in its brand (M20, EOM); runs and reruns name it; at most 64 characters';
COMMENT ON COLUMN billing.schedule.name IS 'the schedule''s name (20日締め翌月末払い); at most 200 characters';
COMMENT ON COLUMN billing.schedule.description IS 'free text; at most 1000 characters';
COMMENT ON COLUMN billing.schedule.cycle IS 'recurrence and cut-off: daily, weekly:fri, monthly:20, monthly:eom, yearly:60 ...';
COMMENT ON COLUMN billing.schedule.override_due_rule IS 'true: the schedule''s due_rule applies to all its buyers; false: each buyer''s default due rule';
COMMENT ON COLUMN billing.schedule.due_rule IS 'the payment due rule when override_due_rule is on (month+1:eom = 翌月末), else NULL';
COMMENT ON COLUMN billing.schedule.invoice_date_mode IS 'the invoice date: cutoff (the cut-off date, default), first_of_month or last_of_month of the issue date''s month, issue_date';
COMMENT ON COLUMN billing.schedule.issue_delay IS 'time after local midnight following the cut-off when drafts are issued: 0 up to 28 days, no month part (default 5 minutes = 00:05; 4 days 5 minutes = the 5th)';
COMMENT ON COLUMN billing.schedule.grouping IS 'buyer: one collective invoice per buyer and period (default); document: one invoice per billable document';
COMMENT ON COLUMN billing.schedule.enabled IS 'false: issue_drafts makes no scheduled runs for it';
COMMENT ON COLUMN billing.schedule.created_at IS 'when the schedule was created';
COMMENT ON COLUMN billing.schedule.late_documents IS 'uninvoiced documents of earlier closed periods: rerun (default) leaves them for rerun_invoice_run(..., period => date); next_run bills them with the next scheduled run, each on its own date';

SELECT pg_catalog.pg_extension_config_dump('billing.bank_account', '');
SELECT pg_catalog.pg_extension_config_dump('billing.bank_account_id_seq', '');
COMMENT ON TABLE billing.bank_account IS 'the maker''s bank accounts that buyers pay into';
COMMENT ON COLUMN billing.bank_account.id IS 'bank account id';
COMMENT ON COLUMN billing.bank_account.brand_id IS 'the brand the account belongs to';
COMMENT ON COLUMN billing.bank_account.code IS 'the account''s code, unique in its brand; at most 64 characters';
COMMENT ON COLUMN billing.bank_account.bank_name IS 'name of the bank (振込先銀行); at most 200 characters';
COMMENT ON COLUMN billing.bank_account.branch_name IS 'name of the branch (支店); at most 200 characters';
COMMENT ON COLUMN billing.bank_account.account_type IS 'ordinary (普通, default), current (当座) or savings';
COMMENT ON COLUMN billing.bank_account.account_number IS 'the account number (口座番号); at most 64 characters';
COMMENT ON COLUMN billing.bank_account.account_holder IS 'the account holder''s name as the bank writes it (口座名義); at most 200 characters';
COMMENT ON COLUMN billing.bank_account.iban IS 'IBAN, for accounts outside Japan; at most 64 characters';

SELECT pg_catalog.pg_extension_config_dump('billing.buyer', '');
SELECT pg_catalog.pg_extension_config_dump('billing.buyer_id_seq', '');

COMMENT ON TABLE billing.buyer IS 'a buyer of a brand, with its applied billing schedule and billing balance';
COMMENT ON COLUMN billing.buyer.id IS 'buyer id; per-buyer tables are keyed and joined on it';
COMMENT ON COLUMN billing.buyer.brand_id IS 'the brand the buyer belongs to';
COMMENT ON COLUMN billing.buyer.code IS 'the buyer''s code, unique in its brand; at most 64 characters';
COMMENT ON COLUMN billing.buyer.name IS 'the buyer''s name; at most 200 characters';
COMMENT ON COLUMN billing.buyer.schedule_id IS 'the billing schedule applied to the buyer, or NULL (not billed by runs)';
COMMENT ON COLUMN billing.buyer.schedule_applied_at IS 'when the schedule was applied (stamped on change): drafts start with the first period issued after it; from a year before the schedule was created up to now (5 minutes of clock skew allowed)';
COMMENT ON COLUMN billing.buyer.default_due_rule IS 'the buyer''s payment due rule, used unless the schedule overrides it; NULL: no due date';
COMMENT ON COLUMN billing.buyer.default_bank_account_id IS 'the maker''s bank account printed on the buyer''s invoices, or NULL';
COMMENT ON COLUMN billing.buyer.billing_balance IS 'what the buyer owes: the opening balance plus purchases + tax - deposit of every confirmed invoice; the next draft''s 前回御請求額; finite, less than 10^15 in magnitude';
COMMENT ON COLUMN billing.buyer.opening_balance IS 'the balance the buyer started with: billing_balance as given on INSERT unless given itself; billing.verify() checks billing_balance = opening_balance + the confirmed invoices';

SELECT pg_catalog.pg_extension_config_dump('billing.document', '');
SELECT pg_catalog.pg_extension_config_dump('billing.document_id_seq', '');

COMMENT ON TABLE billing.document IS 'every billable source document: delivery invoices, return notes, credit notes, payments';
COMMENT ON COLUMN billing.document.buyer_id IS 'the buyer the document bills';
COMMENT ON COLUMN billing.document.id IS 'document id, in the order documents are written';
COMMENT ON COLUMN billing.document.brand_id IS 'the buyer''s brand';
COMMENT ON COLUMN billing.document.kind IS 'delivery_invoice (adds), return_note and credit_note (subtract), payment (御入金, subtracts from the balance)';
COMMENT ON COLUMN billing.document.document_date IS 'the date that counts for the period: delivery date, return date, credit note issue date, or payment confirmed date; from 2000-01-01 to 2199-12-31';
COMMENT ON COLUMN billing.document.billable IS 'false: a delivery invoice that is never aggregated';
COMMENT ON COLUMN billing.document.amount IS 'amount excluding tax, positive except for delivery price adjustments (the kind gives the sign on the invoice); finite, less than 10^15 in magnitude (so no sum overflows), in the currency''s minor unit';
COMMENT ON COLUMN billing.document.tax_rate IS 'tax rate as a fraction (0.10, 0.08, 0) from 0 up to 1, at most 4 decimals; NULL for payments';
COMMENT ON COLUMN billing.document.reference IS 'the application''s own reference, unique per brand and kind; at most 200 characters';
COMMENT ON COLUMN billing.document.never_invoice IS 'true: closed for good by a cancelled run (cancel_run with reopen => false)';
COMMENT ON COLUMN billing.document.created_at IS 'when the document was recorded';

SELECT pg_catalog.pg_extension_config_dump('billing.invoice_run', '');
SELECT pg_catalog.pg_extension_config_dump('billing.invoice_run_id_seq', '');

COMMENT ON INDEX billing.invoice_run_live_idx IS 'runs not over yet, for billing.fail_dead_runs';
COMMENT ON TABLE billing.invoice_run IS 'one run that makes draft invoices for a schedule and period';
COMMENT ON COLUMN billing.invoice_run.id IS 'run id';
COMMENT ON COLUMN billing.invoice_run.brand_id IS 'the brand of the schedule';
COMMENT ON COLUMN billing.invoice_run.schedule_id IS 'the schedule the run bills';
COMMENT ON COLUMN billing.invoice_run.kind IS 'scheduled (made by issue_drafts, one per schedule and period) or rerun (rerun_invoice_run)';
COMMENT ON COLUMN billing.invoice_run.period IS 'the period billed, [first day, cut-off + 1)';
COMMENT ON COLUMN billing.invoice_run.cutoff_date IS 'the period''s cut-off (締め日)';
COMMENT ON COLUMN billing.invoice_run.issue_at IS 'scheduled runs: the period''s issue moment; reruns: the as-of time';
COMMENT ON COLUMN billing.invoice_run.as_of IS 'the as_of the run was asked for';
COMMENT ON COLUMN billing.invoice_run.invoice_date IS 'the invoice date of the run''s drafts';
COMMENT ON COLUMN billing.invoice_run.status IS 'queued, running, completed, failed (nothing issued; see error) or cancelled';
COMMENT ON COLUMN billing.invoice_run.requested_by IS 'the role that asked for the run';
COMMENT ON COLUMN billing.invoice_run.notify IS 'codes of the members told when the run ends';
COMMENT ON COLUMN billing.invoice_run.description IS 'what the run is, for people';
COMMENT ON COLUMN billing.invoice_run.queued_at IS 'when the run was asked for';
COMMENT ON COLUMN billing.invoice_run.started_at IS 'when the run started working';
COMMENT ON COLUMN billing.invoice_run.finished_at IS 'when the run completed or failed';
COMMENT ON COLUMN billing.invoice_run.buyer_count IS 'buyers who got a draft';
COMMENT ON COLUMN billing.invoice_run.invoice_count IS 'drafts made';
COMMENT ON COLUMN billing.invoice_run.document_count IS 'documents linked to the drafts';
COMMENT ON COLUMN billing.invoice_run.purchases_total IS '今回御買上額 of all the run''s drafts';
COMMENT ON COLUMN billing.invoice_run.tax_total IS '消費税額 of all the run''s drafts';
COMMENT ON COLUMN billing.invoice_run.billed_total IS '今回御請求額 of all the run''s drafts';
COMMENT ON COLUMN billing.invoice_run.error IS 'why the run failed, or NULL';

SELECT pg_catalog.pg_extension_config_dump('billing.run_log', '');
SELECT pg_catalog.pg_extension_config_dump('billing.run_log_id_seq', '');

COMMENT ON TABLE billing.run_log IS 'the execution report of each run';
COMMENT ON COLUMN billing.run_log.id IS 'log line id, in order';
COMMENT ON COLUMN billing.run_log.run_id IS 'the run reported on';
COMMENT ON COLUMN billing.run_log.logged_at IS 'when the line was written';
COMMENT ON COLUMN billing.run_log.level IS 'info, warning or error';
COMMENT ON COLUMN billing.run_log.message IS 'what happened';

SELECT pg_catalog.pg_extension_config_dump('billing.invoice', '');
SELECT pg_catalog.pg_extension_config_dump('billing.invoice_id_seq', '');

COMMENT ON TABLE billing.invoice IS 'draft and billing invoices in the Japanese closing-date layout';
COMMENT ON COLUMN billing.invoice.buyer_id IS 'the buyer billed';
COMMENT ON COLUMN billing.invoice.id IS 'invoice id, unique; the bulk actions take arrays of them';
COMMENT ON COLUMN billing.invoice.brand_id IS 'the buyer''s brand';
COMMENT ON COLUMN billing.invoice.schedule_id IS 'the schedule of the run that made it';
COMMENT ON COLUMN billing.invoice.run_id IS 'the run that made it';
COMMENT ON COLUMN billing.invoice.status IS 'draft, confirmed (a billing invoice, in the balance), quarantined (set aside), rejected (with a reason) or cancelled';
COMMENT ON COLUMN billing.invoice.status_reason IS 'why it was quarantined or rejected';
COMMENT ON COLUMN billing.invoice.period IS 'the period billed, [first day, cut-off + 1)';
COMMENT ON COLUMN billing.invoice.cutoff_date IS 'the period''s cut-off (締め日)';
COMMENT ON COLUMN billing.invoice.invoice_date IS 'the invoice date (請求日)';
COMMENT ON COLUMN billing.invoice.due_rule IS 'the due rule that gave due_date: the schedule''s when it overrides, else the buyer''s';
COMMENT ON COLUMN billing.invoice.due_date IS 'the payment due date (お支払期限), or NULL where no due rule applies';
COMMENT ON COLUMN billing.invoice.bank_account_id IS 'the maker''s bank account to pay into (the buyer''s default), or NULL';
COMMENT ON COLUMN billing.invoice.currency IS 'currency of every amount of the invoice';
COMMENT ON COLUMN billing.invoice.previous_billed IS '前回御請求額: the buyer''s billing balance when the draft was made';
COMMENT ON COLUMN billing.invoice.deposit IS '御入金額: payments of the period';
COMMENT ON COLUMN billing.invoice.carried_over IS '繰越金額: previous_billed - deposit';
COMMENT ON COLUMN billing.invoice.purchases IS '今回御買上額: deliveries - returns - credit notes of the period, excluding tax';
COMMENT ON COLUMN billing.invoice.tax IS '消費税額: the sum over tax rates of the tax rounded once per rate (invoice_tax_line)';
COMMENT ON COLUMN billing.invoice.total IS '今回御請求額: carried_over + purchases + tax';
COMMENT ON COLUMN billing.invoice.document_count IS 'documents on the invoice (document_link)';
COMMENT ON COLUMN billing.invoice.created_at IS 'when the draft was made';
COMMENT ON COLUMN billing.invoice.confirmed_at IS 'when it was confirmed, or NULL';
COMMENT ON COLUMN billing.invoice.late_since IS 'the date of its earliest late document of an earlier closed period (schedule late_documents = next_run), or NULL when every document is dated in its period';

SELECT pg_catalog.pg_extension_config_dump('billing.invoice_tax_line', '');
COMMENT ON TABLE billing.invoice_tax_line IS 'per invoice and tax rate: taxable amount and tax, rounded once';
COMMENT ON COLUMN billing.invoice_tax_line.buyer_id IS 'the invoice''s buyer';
COMMENT ON COLUMN billing.invoice_tax_line.invoice_id IS 'the invoice';
COMMENT ON COLUMN billing.invoice_tax_line.tax_rate IS 'the tax rate (0.10 標準税率, 0.08 軽減税率)';
COMMENT ON COLUMN billing.invoice_tax_line.taxable_amount IS '税抜対象額: net purchases at this rate, excluding tax';
COMMENT ON COLUMN billing.invoice_tax_line.tax IS '消費税額 at this rate: rate × taxable_amount, rounded once by the brand''s mode';

SELECT pg_catalog.pg_extension_config_dump('billing.document_link', '');

COMMENT ON TABLE billing.document_link IS 'the invoice each document is on; at most one';
COMMENT ON COLUMN billing.document_link.buyer_id IS 'the document''s buyer';
COMMENT ON COLUMN billing.document_link.document_id IS 'the document; the primary key lets it be on one invoice only';
COMMENT ON COLUMN billing.document_link.invoice_id IS 'the invoice it is on';

SELECT pg_catalog.pg_extension_config_dump('billing.member', '');
SELECT pg_catalog.pg_extension_config_dump('billing.member_id_seq', '');
COMMENT ON TABLE billing.member IS 'people of a brand who are told when runs end (notification)';
COMMENT ON COLUMN billing.member.id IS 'member id';
COMMENT ON COLUMN billing.member.brand_id IS 'the brand the member belongs to';
COMMENT ON COLUMN billing.member.code IS 'the member''s code, unique in its brand; reruns name members to notify by it; at most 64 characters';
COMMENT ON COLUMN billing.member.name IS 'the member''s name; at most 200 characters';
COMMENT ON COLUMN billing.member.email IS 'where notifications go; at most 254 characters';
COMMENT ON COLUMN billing.member.notify_scheduled_runs IS 'true: told about every scheduled run of the brand, not only the reruns that name the member';

SELECT pg_catalog.pg_extension_config_dump('billing.notification', '');
SELECT pg_catalog.pg_extension_config_dump('billing.notification_id_seq', '');

COMMENT ON TABLE billing.notification IS 'outbox: one row per member to tell when a run ends';
COMMENT ON COLUMN billing.notification.id IS 'notification id, in order';
COMMENT ON COLUMN billing.notification.run_id IS 'the run that ended';
COMMENT ON COLUMN billing.notification.member_id IS 'the member to tell';
COMMENT ON COLUMN billing.notification.email IS 'the member''s address when the row was written';
COMMENT ON COLUMN billing.notification.subject IS 'subject line';
COMMENT ON COLUMN billing.notification.body IS 'the run''s report line';
COMMENT ON COLUMN billing.notification.created_at IS 'when the run ended';
COMMENT ON COLUMN billing.notification.sent_at IS 'when the SMTP server accepted it; NULL: not sent (yet)';
COMMENT ON COLUMN billing.notification.attempts IS 'attempts to send it begun so far, including one cut short by a crash';
COMMENT ON COLUMN billing.notification.next_attempt_at IS 'when the mailer tries (again); NULL: sent, or given up (see last_error; billing.retry_notifications sends it again)';
COMMENT ON COLUMN billing.notification.last_attempt_at IS 'when the last attempt began';
COMMENT ON COLUMN billing.notification.last_error IS 'why the last attempt failed, or NULL';

SELECT pg_catalog.pg_extension_config_dump('billing.brand_grant', '');
COMMENT ON TABLE billing.brand_grant IS 'which roles (and their members) see which brands: written by grant_brand and revoke_brand';
COMMENT ON COLUMN billing.brand_grant.grantee IS 'the role given the brand; its members have it too (pg_has_role USAGE)';
COMMENT ON COLUMN billing.brand_grant.brand_id IS 'the brand the role sees';
COMMENT ON COLUMN billing.brand_grant.granted_by IS 'the role that called grant_brand';
COMMENT ON COLUMN billing.brand_grant.granted_at IS 'when the brand was granted';

SELECT pg_catalog.pg_extension_config_dump('billing.maintenance_log', '');
COMMENT ON TABLE billing.maintenance_log IS 'every statement that wrote billing records by hand under billing.maintenance';
COMMENT ON COLUMN billing.maintenance_log.logged_at IS 'when the statement wrote';
COMMENT ON COLUMN billing.maintenance_log.session_role IS 'the role that logged in (session_user)';
COMMENT ON COLUMN billing.maintenance_log.role_name IS 'the role the statement ran as (current_user)';
COMMENT ON COLUMN billing.maintenance_log.table_name IS 'the billing table written';
COMMENT ON COLUMN billing.maintenance_log.operation IS 'INSERT, UPDATE, DELETE or TRUNCATE';
COMMENT ON COLUMN billing.maintenance_log.query IS 'the statement as the client sent it';

SELECT pg_catalog.pg_extension_config_dump('billing.master_data_version', '');
SELECT pg_catalog.pg_extension_config_dump('billing.master_data_version_id_seq', '');

COMMENT ON TABLE billing.master_data_version IS
	'earlier versions of the brand, buyer and bank account data that invoice XML prints, for confirmed invoices';
COMMENT ON COLUMN billing.master_data_version.id IS 'version id, in the order the versions were kept';
COMMENT ON COLUMN billing.master_data_version.table_name IS 'brand, buyer or bank_account';
COMMENT ON COLUMN billing.master_data_version.row_id IS 'the id of the brand, buyer or bank account';
COMMENT ON COLUMN billing.master_data_version.valid_until IS 'when this version was replaced (the changing transaction''s start)';
COMMENT ON COLUMN billing.master_data_version.data IS 'the whole row as it was until then';

COMMENT ON COLUMN billing.brand.legal_name IS 'the seller''s registered name on invoices (PINT IBT-027)';
COMMENT ON COLUMN billing.brand.registration_number IS
	'qualified-invoice issuer registration number (適格請求書発行事業者登録番号): T and 13 digits (IBT-031)';
COMMENT ON COLUMN billing.brand.postal_code IS 'postal code (郵便番号), IBT-038';
COMMENT ON COLUMN billing.brand.prefecture IS 'prefecture (都道府県), IBT-039';
COMMENT ON COLUMN billing.brand.city IS 'city, ward, town (市区町村), IBT-037';
COMMENT ON COLUMN billing.brand.address_line IS 'street address and building (番地・建物), IBT-035';
COMMENT ON COLUMN billing.brand.country IS 'ISO 3166-1 country code, JP by default (IBT-040)';
COMMENT ON COLUMN billing.brand.peppol_scheme IS 'Peppol endpoint scheme (EAS code, 0188 = Japan corporate number), IBT-034-1';
COMMENT ON COLUMN billing.brand.peppol_id IS 'Peppol endpoint identifier (IBT-034)';
COMMENT ON COLUMN billing.buyer.postal_code IS 'postal code (郵便番号), IBT-053';
COMMENT ON COLUMN billing.buyer.prefecture IS 'prefecture (都道府県), IBT-054';
COMMENT ON COLUMN billing.buyer.city IS 'city, ward, town (市区町村), IBT-052';
COMMENT ON COLUMN billing.buyer.address_line IS 'street address and building (番地・建物), IBT-050';
COMMENT ON COLUMN billing.buyer.country IS 'ISO 3166-1 country code, JP by default (IBT-055)';
COMMENT ON COLUMN billing.buyer.peppol_scheme IS 'Peppol endpoint scheme (EAS code), IBT-049-1';
COMMENT ON COLUMN billing.buyer.peppol_id IS 'Peppol endpoint identifier (IBT-049)';
COMMENT ON COLUMN billing.document.description IS
	'item or slip text: the invoice line''s item name (IBT-153); by default the kind and reference';
COMMENT ON COLUMN billing.invoice_run.enabled IS
	'false: disabled, the run is neither executed nor processed (billing.disable_run / enable_run)';
COMMENT ON COLUMN billing.invoice_run.validated_at IS
	'when billing.process_run validated the run''s drafts (confirmed them); NULL before';
COMMENT ON COLUMN billing.invoice_run.validated_by IS 'who validated the run''s drafts';

COMMENT ON TYPE billing.preview_row IS
	'a row of billing.preview_run: a draft a rerun would make, in the Japanese closing-date layout';
