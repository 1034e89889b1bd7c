-- src/sql/pdf.sql: the invoice on paper (請求書), a qualified invoice as PDF
-- in the Japanese closing-date layout, rendered in C (src/pdf.c) from the
-- rows and master data versions that the XML (xml.sql) reads

-- billing_internal.pdf_render: the PDF of one invoice from its data (the jsonb of
-- billing_internal.pdf_invoice_data).  Internal: the API functions below call it as
-- the owner.  The same data gives the same bytes.  Its cost is what it is:
-- about 3.5 ms an invoice, 100000 times cpu_operator_cost (some 250 rows
-- read), so that the planner gives a run's renders to parallel workers
-- (run_pdf) and a handful of invoices to none.
CREATE OR REPLACE FUNCTION billing_internal.pdf_render(data jsonb) RETURNS bytea
	AS 'MODULE_PATHNAME', 'billing_pdf_render' LANGUAGE C STABLE STRICT PARALLEL SAFE COST 100000;
COMMENT ON FUNCTION billing_internal.pdf_render(jsonb) IS
	'internal: renders one invoice''s data (billing_internal.pdf_invoice_data) as an A4 PDF 請求書 with an embedded IPAex Gothic subset';
REVOKE ALL ON FUNCTION billing_internal.pdf_render(jsonb) FROM PUBLIC;

-- billing_internal.pdf_refuse_incomplete: the error for an invoice whose brand lacks
-- what a qualified invoice must name (its legal name and registration number)
CREATE OR REPLACE FUNCTION billing_internal.pdf_refuse_incomplete(invoice_id bigint, missing text[]) RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	PERFORM billing_internal.raise_error('22023',
		format('invoice %s cannot be printed as a qualified invoice: missing %s',
		       invoice_id, array_to_string(missing, ', ')),
		'A qualified invoice (適格請求書) names the issuer''s legal name and registration number (T and 13 digits).',
		'Fill them in billing.brand (drafts are issued without them; only the XML and the PDF need them).');
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION billing_internal.pdf_refuse_incomplete(bigint, text[]) IS
	'internal: raises the error naming the brand fields an invoice''s PDF is missing';
REVOKE ALL ON FUNCTION billing_internal.pdf_refuse_incomplete(bigint, text[]) FROM PUBLIC;

-- billing_internal.pdf_invoice_data: what the PDF of each given invoice prints, one
-- jsonb each, for the invoices of the given brands (NULL: every brand; the
-- callers pass billing_internal.caller_brands(), which a parallel worker
-- cannot compute) that have lines.  The
-- rows are the XML's (billing.invoices_xml), and so is the master data of a
-- confirmed invoice: the version in force when it was confirmed (when the
-- XML needs more than the PDF, the XML may name a later version: its rule
-- skips versions without a Peppol endpoint or address, which the paper
-- does not need, so that the PDF stays the same bytes).  The lines are the XML's: every linked
-- document but payments, by date, the amount signed (negative for returns
-- and credit notes) and rounded to the currency's scale.  "created" is the
-- PDF's creation date: the confirmation time (the invoice creation time for
-- a draft), so that rendering again gives the same bytes.
-- Its plan is the generic one: planned for each call of invoice_pdf, its 15
-- relations cost 1.9 ms, six times the query (0.3 ms); the generic plan's
-- index lookups by invoice id serve a whole run as well.  Parallel safe: it
-- only reads, and run_pdf calls it once per invoice in its parallel workers
-- (ROWS 1: the one invoice it is called with there and by invoice_pdf).
CREATE OR REPLACE FUNCTION billing_internal.pdf_invoice_data(invoice_ids bigint[], brands bigint[])
RETURNS TABLE (invoice_id bigint, buyer_id bigint, data jsonb)
LANGUAGE plpgsql STABLE PARALLEL SAFE ROWS 1
SET search_path = pg_catalog, pg_temp SET plan_cache_mode = force_generic_plan AS $$
BEGIN
	RETURN QUERY
	WITH inv AS (
		SELECT i.id, i.buyer_id, i.status, i.invoice_number, i.invoice_date, i.due_date, i.period,
		       i.cutoff_date, i.currency, i.previous_billed, i.deposit, i.carried_over, i.purchases,
		       i.tax, i.total, coalesce(i.confirmed_at, i.created_at) AS created,
		       br.currency_scale AS scale,
		       sb.name AS brand_name, sb.legal_name, sb.registration_number,
		       sb.postal_code AS brand_postal_code, sb.prefecture AS brand_prefecture,
		       sb.city AS brand_city, sb.address_line AS brand_address_line,
		       sy.code AS buyer_code, sy.name AS buyer_name, sy.postal_code AS buyer_postal_code,
		       sy.prefecture AS buyer_prefecture, sy.city AS buyer_city,
		       sy.address_line AS buyer_address_line,
		       sa.id AS account_id, sa.bank_name, sa.branch_name, sa.account_type, sa.account_number,
		       sa.account_holder, sa.iban,
		       ln.lines, ln.line_data, tx.tax_data
		FROM billing.invoice i
		JOIN billing.brand br ON br.id = i.brand_id
		JOIN billing.buyer bu ON bu.id = i.buyer_id AND bu.brand_id = i.brand_id
		LEFT JOIN billing.bank_account ba ON ba.id = i.bank_account_id AND ba.brand_id = i.brand_id
		-- A confirmed invoice: the master data version in force when it was
		-- confirmed, by the rule of billing.invoices_xml, but with what the
		-- PDF needs: a brand version without the legal name or registration
		-- number (so the invoice had no PDF yet) gives way to the first later
		-- one that has them; the current row when no version is later.
		LEFT JOIN LATERAL (SELECT v.data FROM billing.master_data_version v
		                   WHERE i.confirmed_at IS NOT NULL AND v.table_name = 'brand'
		                     AND v.row_id = i.brand_id AND v.valid_until > i.confirmed_at
		                     AND nullif(btrim(v.data->>'legal_name'), '') IS NOT NULL
		                     AND v.data->>'registration_number' IS NOT NULL
		                   ORDER BY v.valid_until, v.id LIMIT 1) AS vbr ON true
		LEFT JOIN LATERAL (SELECT v.data FROM billing.master_data_version v
		                   WHERE i.confirmed_at IS NOT NULL AND v.table_name = 'buyer'
		                     AND v.row_id = i.buyer_id AND v.valid_until > i.confirmed_at
		                   ORDER BY v.valid_until, v.id LIMIT 1) AS vby ON true
		LEFT JOIN LATERAL (SELECT v.data FROM billing.master_data_version v
		                   WHERE i.confirmed_at IS NOT NULL AND v.table_name = 'bank_account'
		                     AND v.row_id = i.bank_account_id AND v.valid_until > i.confirmed_at
		                   ORDER BY v.valid_until, v.id LIMIT 1) AS vba ON true
		CROSS JOIN LATERAL jsonb_populate_record(br, coalesce(vbr.data, '{}')) AS sb
		CROSS JOIN LATERAL jsonb_populate_record(bu, coalesce(vby.data, '{}')) AS sy
		LEFT JOIN LATERAL jsonb_populate_record(ba, coalesce(vba.data, '{}')) AS sa ON ba.id IS NOT NULL
		CROSS JOIN LATERAL (
			SELECT count(*)::integer AS lines,
			       jsonb_agg(jsonb_build_object(
			           'date', to_char(d.document_date, 'YYYY/MM/DD'),
			           'reference', d.reference,
			           'kind', CASE d.kind WHEN 'delivery_invoice' THEN '納品' WHEN 'return_note' THEN '返品'
			                               ELSE '値引' END,
			           'item', coalesce(nullif(btrim(d.description), ''),
			                            CASE d.kind WHEN 'delivery_invoice' THEN '納品 ' WHEN 'return_note' THEN '返品 '
			                                        ELSE '値引 ' END || d.reference),
			           'amount', round(CASE d.kind WHEN 'delivery_invoice' THEN d.amount ELSE -d.amount END,
			                           br.currency_scale),
			           'rate', CASE WHEN d.tax_rate = 0 THEN '非課税'
			                        ELSE trim_scale(d.tax_rate * 100) || '%' END,
			           'reduced', d.tax_rate = 0.08)
			           ORDER BY d.document_date, d.id) AS line_data
			FROM billing.document_link l
			JOIN billing.document d ON d.buyer_id = l.buyer_id AND d.id = l.document_id
			WHERE l.buyer_id = i.buyer_id AND l.invoice_id = i.id AND d.kind <> 'payment'
		) AS ln
		CROSS JOIN LATERAL (
			SELECT jsonb_agg(jsonb_build_object(
			           'label', CASE WHEN t.tax_rate = 0 THEN '非課税'
			                         ELSE trim_scale(t.tax_rate * 100) || '%対象' END,
			           'reduced', t.tax_rate = 0.08,
			           'taxable', round(t.taxable_amount, br.currency_scale),
			           'tax', round(t.tax, br.currency_scale))
			           ORDER BY t.tax_rate DESC) AS tax_data
			FROM billing.invoice_tax_line t
			WHERE t.buyer_id = i.buyer_id AND t.invoice_id = i.id
		) AS tx
		WHERE i.id = ANY (invoice_ids)
		  AND (brands IS NULL OR i.brand_id = ANY (brands))
	), checked AS (
		SELECT inv.*,
		       array_remove(ARRAY[
		           CASE WHEN nullif(btrim(inv.legal_name), '') IS NULL THEN 'brand.legal_name' END,
		           CASE WHEN inv.registration_number IS NULL THEN 'brand.registration_number' END],
		           NULL) AS missing
		FROM inv
		WHERE inv.lines > 0
	)
	SELECT c.id, c.buyer_id,
	       CASE WHEN cardinality(c.missing) > 0 THEN billing_internal.pdf_refuse_incomplete(c.id, c.missing) ELSE
	       jsonb_build_object(
	           'number', coalesce(c.invoice_number, 'DRAFT-' || c.id),
	           'draft', c.status <> 'confirmed',
	           'invoice_date', to_char(c.invoice_date, 'YYYY"年"FMMM"月"FMDD"日"'),
	           'due_date', to_char(c.due_date, 'YYYY"年"FMMM"月"FMDD"日"'),
	           'period', to_char(lower(c.period), 'YYYY"年"FMMM"月"FMDD"日"') || '～'
	                     || to_char(upper(c.period) - 1, 'YYYY"年"FMMM"月"FMDD"日"'),
	           'cutoff_date', to_char(c.cutoff_date, 'YYYY"年"FMMM"月"FMDD"日"'),
	           'created', to_char(c.created AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
	           'currency', c.currency,
	           'scale', c.scale,
	           'brand', jsonb_build_object(
	               'legal_name', btrim(c.legal_name), 'name', c.brand_name,
	               'registration_number', c.registration_number,
	               'postal_code', regexp_replace(nullif(btrim(c.brand_postal_code), ''), '^([0-9]{3})([0-9]{4})$', '\1-\2'),
	               'address', nullif(concat_ws(' ', nullif(btrim(c.brand_prefecture), ''),
	                                           nullif(btrim(c.brand_city), ''),
	                                           nullif(btrim(c.brand_address_line), '')), '')),
	           'buyer', jsonb_build_object(
	               'name', c.buyer_name, 'code', c.buyer_code,
	               'postal_code', regexp_replace(nullif(btrim(c.buyer_postal_code), ''), '^([0-9]{3})([0-9]{4})$', '\1-\2'),
	               'address', nullif(concat_ws(' ', nullif(btrim(c.buyer_prefecture), ''),
	                                           nullif(btrim(c.buyer_city), ''),
	                                           nullif(btrim(c.buyer_address_line), '')), '')),
	           'bank', CASE WHEN c.account_id IS NOT NULL THEN jsonb_build_object(
	               'bank', concat_ws(' ', c.bank_name, nullif(btrim(c.branch_name), '')),
	               'account', concat_ws(' ', CASE c.account_type WHEN 'ordinary' THEN '普通'
	                                                        WHEN 'current' THEN '当座' ELSE '貯蓄' END,
	                                    c.account_number),
	               'holder', c.account_holder,
	               'iban', nullif(btrim(c.iban), '')) END,
	           'amounts', jsonb_build_array(round(c.previous_billed, c.scale), round(c.deposit, c.scale),
	                                        round(c.carried_over, c.scale), round(c.purchases, c.scale),
	                                        round(c.tax, c.scale), round(c.total, c.scale)),
	           'lines', c.line_data,
	           'taxes', coalesce(c.tax_data, '[]'))
	       END
	FROM checked c
	ORDER BY c.id;
END
$$;
COMMENT ON FUNCTION billing_internal.pdf_invoice_data(bigint[], bigint[]) IS
	'internal: what the PDF of each given invoice of the given brands (NULL: all) prints, as jsonb: the XML''s rows and master data versions';
REVOKE ALL ON FUNCTION billing_internal.pdf_invoice_data(bigint[], bigint[]) FROM PUBLIC;

-- billing_internal.pdf_invoice: the PDF of one invoice of the given brands, NULL
-- when it has no lines (or is not theirs): what invoice_pdf returns and
-- what run_pdf's parallel workers compute for each invoice of the run.
-- Parallel safe (it reads and renders); not inlined (it has a FROM), so its
-- cost is its own: the render's and the data's.
CREATE OR REPLACE FUNCTION billing_internal.pdf_invoice(invoice_id bigint, brands bigint[]) RETURNS bytea
LANGUAGE sql STABLE PARALLEL SAFE COST 100100
BEGIN ATOMIC
	SELECT billing_internal.pdf_render(x.data) FROM billing_internal.pdf_invoice_data(ARRAY[invoice_id], brands) AS x;
END;
COMMENT ON FUNCTION billing_internal.pdf_invoice(bigint, bigint[]) IS
	'internal: the PDF of one invoice of the given brands (NULL: all), NULL when it has no lines; run_pdf calls it in parallel workers';
REVOKE ALL ON FUNCTION billing_internal.pdf_invoice(bigint, bigint[]) FROM PUBLIC;

-- billing.invoice_pdf: one invoice as a PDF 請求書.  As invoice_xml: drafts,
-- quarantined and confirmed invoices have one; rejected and cancelled ones
-- are not to be sent; a balance-only draft has no line; another brand's
-- invoice is as if it did not exist.  A confirmed invoice's PDF is the same
-- bytes every time (its master data as it was when it was confirmed, its
-- creation date the confirmation time).  It runs as the extension's owner,
-- so that its internal helpers are no caller's to call, and checks the
-- caller's brands itself.
CREATE OR REPLACE FUNCTION billing.invoice_pdf(invoice_id bigint) RETURNS bytea
LANGUAGE plpgsql STABLE STRICT SECURITY DEFINER PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	brands bigint[] := billing_internal.caller_brands();
	inv record;
BEGIN
	SELECT i.id, i.buyer_id, i.status,
	       (SELECT count(*) FROM billing.document_link l
	        JOIN billing.document d ON d.buyer_id = l.buyer_id AND d.id = l.document_id
	        WHERE l.buyer_id = i.buyer_id AND l.invoice_id = i.id AND d.kind <> 'payment') AS lines
	INTO inv
	FROM billing.invoice i
	WHERE i.id = invoice_pdf.invoice_id AND (brands IS NULL OR i.brand_id = ANY (brands));
	IF NOT FOUND THEN
		RAISE EXCEPTION 'invoice % does not exist', invoice_id
			USING ERRCODE = 'no_data_found', HINT = 'Invoices are listed by SELECT id, status FROM billing.invoice.';
	END IF;
	IF inv.status IN ('rejected', 'cancelled') THEN
		RAISE EXCEPTION 'invoice % is % and has no PDF', invoice_id, inv.status
			USING ERRCODE = 'object_not_in_prerequisite_state',
			      HINT = 'Only drafts, quarantined and confirmed invoices are printed.';
	END IF;
	IF inv.lines = 0 THEN
		RAISE EXCEPTION 'invoice % has no documents to invoice: it carries only the buyer''s balance', invoice_id
			USING ERRCODE = 'object_not_in_prerequisite_state',
			      DETAIL = 'A qualified invoice needs at least one line; payments and the carried-over balance are not lines.',
			      HINT = 'Send the balance on a statement instead; billing.run_pdf() leaves such invoices out.';
	END IF;
	RETURN billing_internal.pdf_invoice(invoice_id, brands);
END
$$;
COMMENT ON FUNCTION billing.invoice_pdf(bigint) IS
	'the invoice as an A4 PDF 請求書 (qualified invoice, closing-date layout); a confirmed one byte for byte as when confirmed';
REVOKE ALL ON FUNCTION billing.invoice_pdf(bigint) FROM PUBLIC;

-- billing.run_pdf: "Generate PDF for all invoices in the run": every draft,
-- quarantined or confirmed invoice of the run that has lines, one row each,
-- by invoice id, as run_xml.  Cancel works between invoices and between pages.
-- The renders run in PostgreSQL's parallel workers: a Gather Merge over a
-- parallel scan of the run's invoices, with pdf_invoice (the data and the
-- render, parallel safe, read only) in the workers' target list, as many
-- workers as max_parallel_workers_per_gather gives, the leader rendering
-- too.  The planner weighs them by pdf_invoice's cost, so a run of a few
-- invoices is rendered by the session alone.  Planned for each call
-- (plan_cache_mode), as the run's size decides; a run's invoices fill few
-- pages, so the size thresholds for a parallel scan are off
-- (min_parallel_*_scan_size: what makes workers worth it is the render),
-- and so is JIT (the cost is the render's, not the expressions').  The
-- brands are the caller's, computed here (in the leader) and passed on.
CREATE OR REPLACE FUNCTION billing.run_pdf(run_id bigint)
RETURNS TABLE (invoice_id bigint, buyer text, pdf bytea)
LANGUAGE plpgsql STABLE STRICT SECURITY DEFINER PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp SET plan_cache_mode = force_custom_plan
SET min_parallel_table_scan_size = 0 SET min_parallel_index_scan_size = 0 SET jit = off AS $$
DECLARE
	brands bigint[] := billing_internal.caller_brands();
BEGIN
	IF NOT EXISTS (SELECT 1 FROM billing.invoice_run r
	               WHERE r.id = run_pdf.run_id AND (brands IS NULL OR r.brand_id = ANY (brands))) THEN
		RAISE EXCEPTION 'invoice run % does not exist', run_id
			USING ERRCODE = 'no_data_found', HINT = 'Runs are listed by SELECT * FROM billing.run_report.';
	END IF;
	-- Each participant renders its share of the invoices as the parallel
	-- scan hands them out, then sorts its PDFs by id, and Gather Merge puts
	-- them in order (or the leader sorts what Gather brings: the planner's
	-- choice).  Rendering after the sort would leave the workers waiting on
	-- the merge: a worker's tuple queue (64 kB) holds two PDFs.  OFFSET 0
	-- keeps the subquery one, so that the filter (no lines: no PDF, no row)
	-- does not render each PDF a second time.
	RETURN QUERY
	SELECT r.invoice_id, r.buyer, r.pdf
	FROM (SELECT i.id AS invoice_id, b.code AS buyer, billing_internal.pdf_invoice(i.id, brands) AS pdf
	      FROM billing.invoice i
	      JOIN billing.buyer b ON b.id = i.buyer_id
	      WHERE i.run_id = run_pdf.run_id AND i.status IN ('draft', 'quarantined', 'confirmed')
	        AND (brands IS NULL OR i.brand_id = ANY (brands))
	      ORDER BY i.id OFFSET 0) AS r
	WHERE r.pdf IS NOT NULL
	ORDER BY r.invoice_id;
END
$$;
COMMENT ON FUNCTION billing.run_pdf(bigint) IS
	'the PDF 請求書 of every draft, quarantined or confirmed invoice of a run that has lines, one row each';
REVOKE ALL ON FUNCTION billing.run_pdf(bigint) FROM PUBLIC;

------------------------------------------------------------------------------
-- Mailed to the buyer (issue 15 item 4): billing.mail_invoices queues one
-- mail per confirmed invoice of a run in billing.invoice_mail; the mailer
-- (src/mailer.c) sends each as billing_internal.pdf_mail_message makes it: the PDF
-- and the PINT JP XML attached, in the brand's name.
------------------------------------------------------------------------------

-- the brand wall on the mails is in security.sql, with the others

-- billing_internal.pdf_mailed: when each invoice of the caller's brands was mailed,
-- for billing.invoice_list (which reads with the caller's rights: a role
-- that may read the list needs no privilege on billing.invoice_mail)
CREATE OR REPLACE FUNCTION billing_internal.pdf_mailed()
RETURNS TABLE (buyer_id bigint, invoice_id bigint, sent_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER PARALLEL RESTRICTED SET search_path = pg_catalog, pg_temp AS $$
	SELECT m.buyer_id, m.invoice_id, m.sent_at
	FROM billing.invoice_mail m, (SELECT billing_internal.caller_brands() AS ids) AS b
	WHERE m.sent_at IS NOT NULL AND (b.ids IS NULL OR m.brand_id = ANY (b.ids))
$$;
COMMENT ON FUNCTION billing_internal.pdf_mailed() IS
	'when each invoice of the caller''s brands was mailed to its buyer (billing.invoice_list.mailed_at)';
GRANT EXECUTE ON FUNCTION billing_internal.pdf_mailed() TO PUBLIC;

-- billing_internal.pdf_rfc2231: a file name as an RFC 2231 extended parameter value
-- (UTF-8'', the bytes outside attr-char percent-encoded)
CREATE OR REPLACE FUNCTION billing_internal.pdf_rfc2231(value text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
	SELECT 'UTF-8''''' OPERATOR(pg_catalog.||) coalesce(pg_catalog.string_agg(
	           CASE WHEN pg_catalog.chr(b.b) OPERATOR(pg_catalog.~) '^[A-Za-z0-9!#$&+.^_`|~-]$'
	                THEN pg_catalog.chr(b.b)
	                ELSE '%' OPERATOR(pg_catalog.||) pg_catalog.upper(pg_catalog.lpad(pg_catalog.to_hex(b.b), 2, '0')) END,
	           '' ORDER BY b.i), '')
	FROM (SELECT pg_catalog.get_byte(pg_catalog.convert_to(value, 'UTF8'), g.i) AS b, g.i
	      FROM pg_catalog.generate_series(0, pg_catalog.octet_length(pg_catalog.convert_to(value, 'UTF8')) OPERATOR(pg_catalog.-) 1) AS g(i)) AS b;
END;
COMMENT ON FUNCTION billing_internal.pdf_rfc2231(text) IS
	'internal: a MIME parameter value in RFC 2231 form (UTF-8'''', percent-encoded), for attachment file names';
REVOKE ALL ON FUNCTION billing_internal.pdf_rfc2231(text) FROM PUBLIC;

-- billing_internal.pdf_mail_message: the whole message the mailer sends for an
-- invoice mail, lines ended by CRLF: multipart/mixed, a Japanese text part,
-- the PDF and the XML attached with UTF-8 file names (RFC 2231), From the
-- brand's legal name at the mailer's address (billing.smtp_from).  The
-- Message-ID is the invoice's, so a copy sent twice is recognisably the same.
CREATE OR REPLACE FUNCTION billing_internal.pdf_mail_message(invoice_id bigint, sender text, sent_at timestamptz)
RETURNS text LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	m billing.invoice_mail;
	inv record;
	sender_address text;
	domain text;
	boundary text;
	pdf bytea;
	xml text;
	body text;
	file text;
	crlf constant text := E'\r\n';
BEGIN
	SELECT m2.* INTO m FROM billing.invoice i
	JOIN billing.invoice_mail m2 ON m2.buyer_id = i.buyer_id AND m2.invoice_id = i.id
	WHERE i.id = pdf_mail_message.invoice_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'invoice % is not queued to be mailed', invoice_id
			USING ERRCODE = 'undefined_object', HINT = 'billing.mail_invoices(run) queues a run''s confirmed invoices.';
	END IF;
	IF sender IS NULL OR sender !~ '@' THEN
		RAISE EXCEPTION 'sender "%" is not a mail address', coalesce(sender, 'NULL')
			USING ERRCODE = 'invalid_parameter_value', HINT = 'Set billing.smtp_from to an address, or Name <address>.';
	END IF;
	SELECT i.invoice_number, i.invoice_date, i.due_date, i.period, i.total, i.currency, b.name AS buyer_name,
	       coalesce(nullif(btrim(br.legal_name), ''), br.name) AS issuer, br.currency_scale,
	       concat_ws(' ', ba.bank_name, ba.branch_name, ba.account_number) AS bank
	INTO inv
	FROM billing.invoice i JOIN billing.buyer b ON b.id = i.buyer_id
	JOIN billing.brand br ON br.id = i.brand_id
	LEFT JOIN billing.bank_account ba ON ba.id = i.bank_account_id
	WHERE i.id = m.invoice_id;
	-- what the buyer gets: the invoice as it was confirmed (invoice_pdf and
	-- invoice_xml refuse an invoice that is no longer to be sent)
	pdf := billing.invoice_pdf(m.invoice_id);
	xml := '<?xml version="1.0" encoding="UTF-8"?>' || E'\n' || billing.invoice_xml(m.invoice_id)::text;
	sender_address := coalesce(substring(sender FROM '<([^<>]+)>\s*$'), btrim(sender));
	domain := coalesce(nullif(split_part(sender_address, '@', 2), ''), 'localhost');
	boundary := format('=_billing_invoice_%s_%s', m.invoice_id, left(md5(pdf), 16));
	file := '請求書_' || inv.invoice_number;
	body := format(E'%s 御中\n\n'
	               'いつもお世話になっております。%sです。\n'
	               '%s〜%s分の請求書をお送りします。\n\n'
	               '請求書番号: %s\n'
	               '請求日: %s\n'
	               '今回御請求額: %s %s\n'
	               'お支払期限: %s\n'
	               '振込先: %s\n\n'
	               '添付ファイル:\n'
	               '  %s.pdf（請求書）\n'
	               '  %s.xml（適格請求書 Peppol PINT JP）\n\n'
	               '本メールは請求システムから送信しています。\n',
	               inv.buyer_name, inv.issuer, to_char(lower(inv.period), 'YYYY"年"FMMM"月"FMDD"日"'),
	               to_char(upper(inv.period) - 1, 'YYYY"年"FMMM"月"FMDD"日"'),
	               inv.invoice_number, to_char(inv.invoice_date, 'YYYY"年"FMMM"月"FMDD"日"'),
	               billing_internal.mail_amount(inv.total, inv.currency_scale), inv.currency,
	               coalesce(to_char(inv.due_date, 'YYYY"年"FMMM"月"FMDD"日"'), '定めなし'),
	               coalesce(nullif(inv.bank, ''), '登録なし'),
	               file, file);
	RETURN concat_ws(crlf,
		'From: ' || billing_internal.mail_header(inv.issuer) || ' <' || sender_address || '>',
		'To: ' || billing_internal.mail_header(inv.buyer_name) || ' <' || m.email || '>',
		'Subject: ' || billing_internal.mail_header(format('【請求書】%s %s（%s）', inv.issuer, inv.invoice_number,
		                                          to_char(inv.invoice_date, 'YYYY"年"FMMM"月"FMDD"日"'))),
		'Date: ' || to_char(coalesce(pdf_mail_message.sent_at, clock_timestamp()) AT TIME ZONE 'UTC',
		                    'Dy, DD Mon YYYY HH24:MI:SS') || ' +0000',
		format('Message-ID: <billing.invoice.%s.%s@%s>', m.invoice_id,
		       (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = current_database()), domain),
		'MIME-Version: 1.0',
		format('Content-Type: multipart/mixed; boundary="%s"', boundary),
		'',
		'--' || boundary,
		'Content-Type: text/plain; charset=UTF-8',
		'Content-Transfer-Encoding: base64',
		'',
		replace(encode(convert_to(replace(body, E'\n', crlf), 'UTF8'), 'base64'), E'\n', crlf),
		'--' || boundary,
		format('Content-Type: application/pdf; name="invoice-%s.pdf"', m.invoice_id),
		'Content-Disposition: attachment; filename*=' || billing_internal.pdf_rfc2231(file || '.pdf'),
		'Content-Transfer-Encoding: base64',
		'',
		replace(encode(pdf, 'base64'), E'\n', crlf),
		'--' || boundary,
		format('Content-Type: application/xml; charset=UTF-8; name="invoice-%s.xml"', m.invoice_id),
		'Content-Disposition: attachment; filename*=' || billing_internal.pdf_rfc2231(file || '.xml'),
		'Content-Transfer-Encoding: base64',
		'',
		replace(encode(convert_to(xml, 'UTF8'), 'base64'), E'\n', crlf),
		'--' || boundary || '--',
		'');
END
$$;
COMMENT ON FUNCTION billing_internal.pdf_mail_message(bigint, text, timestamptz) IS
	'internal: the MIME message the mailer sends for an invoice mail: text, the PDF and the PINT JP XML attached (RFC 2231 names)';
REVOKE ALL ON FUNCTION billing_internal.pdf_mail_message(bigint, text, timestamptz) FROM PUBLIC;

-- billing.mail_invoices: "mail the run's invoices to their buyers": one
-- mail per confirmed invoice of the run that has lines and whose buyer has
-- an invoice e-mail address, each invoice once.  One row per confirmed
-- invoice of the run, saying what became of it: queued, already queued,
-- already mailed (when), no lines, no address.  An invoice whose XML cannot
-- be written (missing master data) stops the call with the XML's error,
-- before anything is queued.  The mailer starts when this commits.
CREATE OR REPLACE FUNCTION billing.mail_invoices(run_id bigint)
RETURNS TABLE (invoice_id bigint, invoice_number text, buyer text, email text, outcome text)
LANGUAGE plpgsql VOLATILE STRICT SECURITY DEFINER PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	brands bigint[] := billing_internal.caller_brands();
	to_queue bigint[];
	queued bigint[];
BEGIN
	IF NOT EXISTS (SELECT 1 FROM billing.invoice_run r
	               WHERE r.id = mail_invoices.run_id AND (brands IS NULL OR r.brand_id = ANY (brands))) THEN
		RAISE EXCEPTION 'invoice run % does not exist', run_id
			USING ERRCODE = 'no_data_found', HINT = 'Runs are listed by SELECT * FROM billing.run_report.';
	END IF;
	-- the run's confirmed invoices with lines, to a buyer with an address,
	-- not queued before
	to_queue := ARRAY(
		SELECT i.id FROM billing.invoice i JOIN billing.buyer b ON b.id = i.buyer_id
		WHERE i.run_id = mail_invoices.run_id AND i.status = 'confirmed' AND b.invoice_email IS NOT NULL
		  AND NOT EXISTS (SELECT 1 FROM billing.invoice_mail m WHERE m.buyer_id = i.buyer_id AND m.invoice_id = i.id)
		  AND EXISTS (SELECT 1 FROM billing.document_link l
		              JOIN billing.document d ON d.buyer_id = l.buyer_id AND d.id = l.document_id
		              WHERE l.buyer_id = i.buyer_id AND l.invoice_id = i.id AND d.kind <> 'payment')
		ORDER BY i.id);
	-- every one can be written: the XML names what is missing, before anything is queued
	PERFORM count(*) FROM billing.invoices_xml(VARIADIC to_queue);
	WITH ins AS (
		INSERT INTO billing.invoice_mail (invoice_id, buyer_id, brand_id, run_id, email, queued_by)
		SELECT i.id, i.buyer_id, i.brand_id, mail_invoices.run_id, b.invoice_email, billing_internal.calling_role()::text
		FROM billing.invoice i JOIN billing.buyer b ON b.id = i.buyer_id
		WHERE i.id = ANY (to_queue)
		ON CONFLICT ON CONSTRAINT invoice_mail_pkey DO NOTHING
		RETURNING invoice_mail.invoice_id)
	SELECT coalesce(array_agg(ins.invoice_id), '{}') INTO queued FROM ins;
	IF cardinality(queued) > 0 THEN
		PERFORM billing_internal.wake_mailer();
	END IF;
	RETURN QUERY
	SELECT i.id, i.invoice_number, b.code, coalesce(m.email, b.invoice_email),
	       CASE WHEN i.id = ANY (queued) THEN 'queued'
	            WHEN m.sent_at IS NOT NULL THEN 'already mailed ' || to_char(m.sent_at, 'YYYY-MM-DD HH24:MI:SSOF')
	            WHEN m.invoice_id IS NOT NULL THEN 'already queued'
	            WHEN b.invoice_email IS NULL THEN 'no invoice e-mail address: not mailed'
	            ELSE 'no lines: not mailed' END
	FROM billing.invoice i
	JOIN billing.buyer b ON b.id = i.buyer_id
	LEFT JOIN billing.invoice_mail m ON m.buyer_id = i.buyer_id AND m.invoice_id = i.id
	WHERE i.run_id = mail_invoices.run_id AND i.status = 'confirmed'
	ORDER BY i.id;
END
$$;
COMMENT ON FUNCTION billing.mail_invoices(bigint) IS
	'queues one mail (PDF and PINT JP XML attached) per confirmed invoice of a run to its buyer''s invoice e-mail address, each invoice once';
REVOKE ALL ON FUNCTION billing.mail_invoices(bigint) FROM PUBLIC;
