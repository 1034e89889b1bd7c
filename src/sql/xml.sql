-- src/sql/xml.sql: the qualified invoice (適格請求書) as Peppol PINT JP
-- 1.1.3 XML, its master data checks, and what keeps a confirmed invoice's
-- XML as it was when it was confirmed

------------------------------------------------------------------------------
-- Master data checks.  The tables' CHECK constraints are the backstop; these
-- triggers say what is wrong in a clerk's words.
------------------------------------------------------------------------------

-- billing_internal.party_check: the registration number, Peppol endpoint and country
-- of a brand or buyer, checked on input with errors that name the value
CREATE OR REPLACE FUNCTION billing_internal.party_check() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF TG_TABLE_NAME = 'brand' THEN
		-- (a nested IF: a buyer row has no such field)
		IF NEW.registration_number !~ '^T[0-9]{13}$' THEN
			RAISE EXCEPTION 'invalid qualified-invoice registration number "%" for brand "%"',
				NEW.registration_number, NEW.code
				USING ERRCODE = 'check_violation',
				      DETAIL = 'A registration number (登録番号) is T followed by 13 digits.',
				      HINT = 'Write it as on the registration notice, for example T1234567890123, without hyphens or blanks.';
		END IF;
	END IF;
	IF (NEW.peppol_scheme IS NULL) <> (NEW.peppol_id IS NULL) THEN
		RAISE EXCEPTION 'Peppol endpoint of % "%" needs both a scheme and an id', TG_TABLE_NAME, NEW.code
			USING ERRCODE = 'check_violation',
			      HINT = 'Set peppol_scheme (for example 0188, the Japan corporate number) and peppol_id together, or neither.';
	END IF;
	IF NEW.peppol_scheme !~ '^[0-9]{4}$' THEN
		RAISE EXCEPTION 'invalid Peppol endpoint scheme "%" for % "%"', NEW.peppol_scheme, TG_TABLE_NAME, NEW.code
			USING ERRCODE = 'check_violation',
			      DETAIL = 'A scheme is a 4-digit code of the Peppol EAS list.',
			      HINT = 'Japanese companies use 0188 (corporate number, 法人番号).';
	END IF;
	IF NEW.peppol_id !~ '^[^[:space:]]+$' THEN
		RAISE EXCEPTION 'invalid Peppol endpoint id "%" for % "%"', NEW.peppol_id, TG_TABLE_NAME, NEW.code
			USING ERRCODE = 'check_violation', HINT = 'An endpoint id is not empty and has no blanks.';
	END IF;
	IF NEW.country !~ '^[A-Z]{2}$' THEN
		RAISE EXCEPTION 'invalid country code "%" for % "%"', NEW.country, TG_TABLE_NAME, NEW.code
			USING ERRCODE = 'check_violation', HINT = 'Use an ISO 3166-1 alpha-2 code such as JP.';
	END IF;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION billing_internal.party_check() IS
	'trigger: checks a brand''s or buyer''s registration number, Peppol endpoint and country, with clear errors';
REVOKE ALL ON FUNCTION billing_internal.party_check() FROM PUBLIC;
CREATE OR REPLACE TRIGGER brand_party_check
	BEFORE INSERT OR UPDATE OF registration_number, peppol_scheme, peppol_id, country ON billing.brand
	FOR EACH ROW EXECUTE FUNCTION billing_internal.party_check();
CREATE OR REPLACE TRIGGER buyer_party_check
	BEFORE INSERT OR UPDATE OF peppol_scheme, peppol_id, country ON billing.buyer
	FOR EACH ROW EXECUTE FUNCTION billing_internal.party_check();
COMMENT ON TRIGGER brand_party_check ON billing.brand IS 'checks the registration number, Peppol endpoint and country';
COMMENT ON TRIGGER buyer_party_check ON billing.buyer IS 'checks the Peppol endpoint and country';

------------------------------------------------------------------------------
-- A confirmed invoice keeps its XML.  Its amounts, tax lines and documents
-- are frozen (document_guard; below for the texts), so what could change is
-- the master data: a brand, buyer or bank account may move or rename.  The
-- version replaced is kept in billing.master_data_version, and the XML of a
-- confirmed invoice reads the master data as it was when it was confirmed.
------------------------------------------------------------------------------

-- billing_internal.keep_master_data_version: trigger that keeps the row as it was
-- (as the owner: an application that renames a buyer keeps its old version
-- for the XML of confirmed invoices without any privilege on
-- billing.master_data_version)
CREATE OR REPLACE FUNCTION billing_internal.keep_master_data_version() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	INSERT INTO billing.master_data_version (table_name, row_id, valid_until, data)
	VALUES (TG_TABLE_NAME, OLD.id, now(), to_jsonb(OLD));
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION billing_internal.keep_master_data_version() IS
	'trigger: keeps the version of a brand, buyer or bank account that invoice XML printed, when it changes';
REVOKE ALL ON FUNCTION billing_internal.keep_master_data_version() FROM PUBLIC;
-- Only the columns that the XML prints, and only when they change: balance
-- updates by confirm_invoices write nothing here.
CREATE OR REPLACE TRIGGER brand_keep_version
	AFTER UPDATE OF name, currency, currency_scale, legal_name, registration_number, postal_code,
		prefecture, city, address_line, country, peppol_scheme, peppol_id ON billing.brand
	FOR EACH ROW
	WHEN ((OLD.name, OLD.currency, OLD.currency_scale, OLD.legal_name, OLD.registration_number,
	       OLD.postal_code, OLD.prefecture, OLD.city, OLD.address_line, OLD.country,
	       OLD.peppol_scheme, OLD.peppol_id)
	      IS DISTINCT FROM
	      (NEW.name, NEW.currency, NEW.currency_scale, NEW.legal_name, NEW.registration_number,
	       NEW.postal_code, NEW.prefecture, NEW.city, NEW.address_line, NEW.country,
	       NEW.peppol_scheme, NEW.peppol_id))
	EXECUTE FUNCTION billing_internal.keep_master_data_version();
CREATE OR REPLACE TRIGGER buyer_keep_version
	AFTER UPDATE OF code, name, postal_code, prefecture, city, address_line, country,
		peppol_scheme, peppol_id ON billing.buyer
	FOR EACH ROW
	WHEN ((OLD.code, OLD.name, OLD.postal_code, OLD.prefecture, OLD.city, OLD.address_line,
	       OLD.country, OLD.peppol_scheme, OLD.peppol_id)
	      IS DISTINCT FROM
	      (NEW.code, NEW.name, NEW.postal_code, NEW.prefecture, NEW.city, NEW.address_line,
	       NEW.country, NEW.peppol_scheme, NEW.peppol_id))
	EXECUTE FUNCTION billing_internal.keep_master_data_version();
CREATE OR REPLACE TRIGGER bank_account_keep_version
	AFTER UPDATE OF bank_name, branch_name, account_type, account_number, account_holder, iban
	ON billing.bank_account
	FOR EACH ROW
	WHEN ((OLD.bank_name, OLD.branch_name, OLD.account_type, OLD.account_number,
	       OLD.account_holder, OLD.iban)
	      IS DISTINCT FROM
	      (NEW.bank_name, NEW.branch_name, NEW.account_type, NEW.account_number,
	       NEW.account_holder, NEW.iban))
	EXECUTE FUNCTION billing_internal.keep_master_data_version();
COMMENT ON TRIGGER brand_keep_version ON billing.brand IS 'keeps the version the invoice XML printed when it changes';
COMMENT ON TRIGGER buyer_keep_version ON billing.buyer IS 'keeps the version the invoice XML printed when it changes';
COMMENT ON TRIGGER bank_account_keep_version ON billing.bank_account IS 'keeps the version the invoice XML printed when it changes';

-- billing_internal.document_text_guard: a document on an invoice keeps the reference
-- and description its invoice line prints (document_guard freezes its
-- amounts and dates)
CREATE OR REPLACE FUNCTION billing_internal.document_text_guard() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	invoice bigint;
BEGIN
	SELECT l.invoice_id INTO invoice FROM billing.document_link l
	WHERE l.buyer_id = OLD.buyer_id AND l.document_id = OLD.id;
	IF FOUND THEN
		RAISE EXCEPTION '% "%" is on invoice % and its reference and description cannot be changed',
			OLD.kind, OLD.reference, invoice
			USING ERRCODE = 'object_not_in_prerequisite_state',
			      HINT = 'They are printed on the invoice; delete the draft first with billing.delete_drafts(), or issue a credit note.';
	END IF;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION billing_internal.document_text_guard() IS
	'trigger: refuses changing the reference or description of a document that is on an invoice';
REVOKE ALL ON FUNCTION billing_internal.document_text_guard() FROM PUBLIC;
CREATE OR REPLACE TRIGGER document_text_guard BEFORE UPDATE OF reference, description ON billing.document
	FOR EACH ROW
	WHEN ((OLD.reference, OLD.description) IS DISTINCT FROM (NEW.reference, NEW.description))
	EXECUTE FUNCTION billing_internal.document_text_guard();
COMMENT ON TRIGGER document_text_guard ON billing.document IS
	'a document on an invoice keeps the reference and description its line prints';

------------------------------------------------------------------------------
-- The XML
------------------------------------------------------------------------------

-- billing_internal.tax_category: the UNCL5305 tax category of a Japanese consumption
-- tax rate: the reduced rate 8% is AA, 0% is E (exempt), any other rate is
-- S (standard, 10%); NULL for NULL.  Internal (invoices_xml calls it as the
-- owner).  Not STRICT, so that it is inlined (PostgreSQL inlines a STRICT
-- function only when its body is strict, and a CASE is not): called as a
-- function, it cost a plan for each of a run's lines.
CREATE OR REPLACE FUNCTION billing_internal.tax_category(rate numeric) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN rate IS NULL THEN NULL WHEN rate = 0.08 THEN 'AA' WHEN rate = 0 THEN 'E' ELSE 'S' END;
COMMENT ON FUNCTION billing_internal.tax_category(numeric) IS
	'PINT JP tax category of a rate: 0.08 AA (reduced), 0 E (exempt), otherwise S (standard)';
REVOKE ALL ON FUNCTION billing_internal.tax_category(numeric) FROM PUBLIC;

-- What PINT JP needs of the master data, as the names of the fields that
-- are missing: one definition for the XML's refusal (invoices_xml) and the
-- health check (xml_incomplete).  The seller's fields:
CREATE OR REPLACE FUNCTION billing_internal.xml_missing_brand(legal_name text, registration_number text,
                                                     address_line text, peppol_id text)
RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN array_remove(ARRAY[
	CASE WHEN nullif(btrim(legal_name), '') IS NULL THEN 'brand.legal_name' END,
	CASE WHEN registration_number IS NULL THEN 'brand.registration_number' END,
	CASE WHEN nullif(btrim(address_line), '') IS NULL THEN 'brand.address_line' END,
	CASE WHEN peppol_id IS NULL THEN 'brand.peppol_scheme/peppol_id' END], NULL);
COMMENT ON FUNCTION billing_internal.xml_missing_brand(text, text, text, text) IS
	'the seller fields PINT JP needs that are missing, named brand.column';
GRANT EXECUTE ON FUNCTION billing_internal.xml_missing_brand(text, text, text, text) TO PUBLIC;
-- the buyer's, named with its code when one is given
CREATE OR REPLACE FUNCTION billing_internal.xml_missing_buyer(address_line text, peppol_id text, buyer_code text)
RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN array_remove(ARRAY[
	CASE WHEN nullif(btrim(address_line), '') IS NULL
	     THEN 'buyer.address_line' || coalesce(' (buyer ' || buyer_code || ')', '') END,
	CASE WHEN peppol_id IS NULL
	     THEN 'buyer.peppol_scheme/peppol_id' || coalesce(' (buyer ' || buyer_code || ')', '') END], NULL);
COMMENT ON FUNCTION billing_internal.xml_missing_buyer(text, text, text) IS
	'the buyer fields PINT JP needs that are missing, named buyer.column (and the buyer''s code when given)';
GRANT EXECUTE ON FUNCTION billing_internal.xml_missing_buyer(text, text, text) TO PUBLIC;
-- the SET list that fills missing fields in, with the values (…) for a
-- person to write: the fix billing.health gives
CREATE OR REPLACE FUNCTION billing_internal.xml_missing_assignments(missing text[])
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (SELECT string_agg(CASE f.field
                              WHEN 'registration_number' THEN 'registration_number = ''T…'''
                              WHEN 'peppol_scheme/peppol_id' THEN 'peppol_scheme = ''…'', peppol_id = ''…'''
                              ELSE f.field || ' = ''…''' END, ', ' ORDER BY u.ord)
        FROM unnest(missing) WITH ORDINALITY AS u(name, ord)
        CROSS JOIN LATERAL (SELECT regexp_replace(u.name, '^(brand|buyer)\.([a-z_/]+).*$', '\2') AS field) AS f);
COMMENT ON FUNCTION billing_internal.xml_missing_assignments(text[]) IS
	'the SET list of an UPDATE that fills in the missing fields xml_missing_brand or xml_missing_buyer named, values left as …';
GRANT EXECUTE ON FUNCTION billing_internal.xml_missing_assignments(text[]) TO PUBLIC;

-- billing_internal.refuse_incomplete_xml: the error for an invoice whose master data
-- lacks what the XML must carry; names every missing field at once
CREATE OR REPLACE FUNCTION billing_internal.refuse_incomplete_xml(invoice_id bigint, missing text[]) RETURNS xml
LANGUAGE plpgsql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	-- without CONTEXT: raised from inside the XML query, whose 186 lines
	-- the caller did not write (billing_internal.raise_error)
	PERFORM billing_internal.raise_error('22023',
		format('invoice %s cannot be written as a qualified invoice: missing %s',
		       invoice_id, array_to_string(missing, ', ')),
		'PINT JP needs the seller''s legal name, registration number, address and Peppol endpoint, and the buyer''s address and Peppol endpoint.',
		'Fill them in billing.brand and billing.buyer (drafts are issued without them; only the XML needs them).');
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION billing_internal.refuse_incomplete_xml(bigint, text[]) IS
	'raises the error naming every master data field an invoice''s XML is missing';
REVOKE ALL ON FUNCTION billing_internal.refuse_incomplete_xml(bigint, text[]) FROM PUBLIC;

-- billing.invoices_xml: the PINT JP XML of the given invoices that have
-- lines (linked documents other than payments), one row each, by id.
-- Set-based: three queries for any number of invoices (run_xml passes a
-- whole run).  An invoice that has no lines is left out; one whose master
-- data lacks something raises the error naming every missing field (of
-- several such, the first by id).
--
-- Mapping (PINT business terms):
--   invoice id IBT-001, invoice date IBT-002, due date IBT-009, period IBG-14;
--   brand: legal name IBT-027, name IBT-028, registration number IBT-031,
--   address IBG-05, Peppol endpoint IBT-034; buyer: name IBT-044/045, code
--   IBT-046, address IBG-08, Peppol endpoint IBT-049;
--   bank account: payment means 30 (credit transfer) IBG-16/17;
--   one line IBG-25 per delivery, return or credit note: quantity 1 (−1 for
--   returns, credit notes and negative deliveries), the amount excluding tax
--   as its net amount (negative for returns and credit notes), the document
--   date as the line period, the reference IBT-188, the description (or the
--   kind and reference) as item name IBT-153, its rate's category;
--   tax breakdown IBG-23 = the invoice's tax lines; totals IBG-22 = the
--   invoice's purchases (今回御買上額) and tax (消費税額).
-- The carried-over balance (前回御請求額, 御入金額, 繰越金額) is not in the
-- XML: PINT has no field for a statement balance, and the amount due
-- (IBT-115) is this invoice's purchases + tax.
--
-- The rows come from three queries over the whole set of invoices, each
-- sorted by invoice id (from the views billing_internal.xml_head, xml_line,
-- xml_tax_line: one pass over the invoices, their lines and their tax
-- lines, not a lookup per invoice), and src/invoice_xml.c writes them,
-- merged by invoice id, with PostgreSQL's own escaping into the bytes
-- xmlelement, xmlforest and xmlagg wrote in 0.2 (test/t/018_xml_same_bytes.pl
-- holds every invoice of the tests against that SQL).  An xmlelement per
-- node cost 85% of run_xml's time (issue 14).
--
-- It runs as the extension's owner (security.sql), so that its internal
-- helpers (xml_head, refuse_incomplete_xml, ...) are not the caller's to
-- call: it shows only invoices of the caller's brands (as if the others did
-- not exist), and the master data of the invoice's own brand.

-- billing_internal.xml_head: what an invoice's XML prints outside its
-- lines and tax lines, one row per invoice, the values as the XML writes
-- them; missing: the master data fields PINT JP needs that are missing.
-- Whether an invoice has lines is xml_line's to say (invoices_xml leaves
-- out one without).  The three xml_ relations are views, not functions of
-- the invoice ids: invoices_xml selects from them with its ids and brands
-- as parameters, and a view is a query Citus plans over the shards, where
-- a parameterized SQL function is refused (doc/citus.md).
CREATE OR REPLACE VIEW billing_internal.xml_head (invoice_id, buyer_id, invoice_number, issue_date, due_date,
	currency, period_start, period_end,
	brand_scheme, brand_endpoint, brand_name, brand_street, brand_city,
	brand_zone, brand_subentity, brand_country, registration_number,
	legal_name,
	buyer_scheme, buyer_endpoint, buyer_code, buyer_name, buyer_street,
	buyer_city, buyer_zone, buyer_subentity, buyer_country,
	has_account, account_id, account_holder, bank_branch,
	tax, purchases, total, missing, brand_id) AS
	SELECT i.id, i.buyer_id, coalesce(i.invoice_number, 'DRAFT-' || i.id), i.invoice_date, i.due_date,
	       i.currency, lower(i.period), upper(i.period) - 1,
	       (sb.r).peppol_scheme, (sb.r).peppol_id, (sb.r).name, nullif(btrim((sb.r).address_line), ''),
	       nullif(btrim((sb.r).city), ''), nullif(btrim((sb.r).postal_code), ''), nullif(btrim((sb.r).prefecture), ''),
	       (sb.r).country, (sb.r).registration_number, btrim((sb.r).legal_name),
	       (sy.r).peppol_scheme, (sy.r).peppol_id, (sy.r).code, (sy.r).name, nullif(btrim((sy.r).address_line), ''),
	       nullif(btrim((sy.r).city), ''), nullif(btrim((sy.r).postal_code), ''), nullif(btrim((sy.r).prefecture), ''),
	       (sy.r).country,
	       (sa.r).id IS NOT NULL, coalesce(nullif(btrim((sa.r).iban), ''), (sa.r).account_number), (sa.r).account_holder,
	       concat_ws(' ', (sa.r).bank_name, nullif(btrim((sa.r).branch_name), '')),
	       round(i.tax, (sb.r).currency_scale)::text, round(i.purchases, (sb.r).currency_scale)::text,
	       round(i.purchases + i.tax, (sb.r).currency_scale)::text,
	       billing_internal.xml_missing_brand((sb.r).legal_name, (sb.r).registration_number, (sb.r).address_line, (sb.r).peppol_id)
	       || billing_internal.xml_missing_buyer((sy.r).address_line, (sy.r).peppol_id, (sy.r).code),
	       i.brand_id
	FROM billing.invoice i
	JOIN billing.brand br ON br.id = i.brand_id
	JOIN billing.buyer bu ON bu.id = i.buyer_id AND bu.brand_id = i.brand_id
	LEFT JOIN billing.bank_account ba ON ba.id = i.bank_account_id AND ba.brand_id = i.brand_id
	-- A confirmed invoice: the master data version in force when it was
	-- confirmed; if that lacked what the XML needs (so it had no XML yet),
	-- the first later version that has it; the current row when no later
	-- version qualifies (the version's fields over the row's; a run's
	-- invoices rarely have one).
	LEFT JOIN LATERAL (SELECT jsonb_populate_record(br, v.data) FROM billing.master_data_version v
	                   WHERE i.confirmed_at IS NOT NULL AND v.table_name = 'brand'
	                     AND v.row_id = i.brand_id AND v.valid_until > i.confirmed_at
	                     AND nullif(btrim(v.data->>'legal_name'), '') IS NOT NULL
	                     AND v.data->>'registration_number' IS NOT NULL
	                     AND nullif(btrim(v.data->>'address_line'), '') IS NOT NULL
	                     AND v.data->>'peppol_id' IS NOT NULL
	                   ORDER BY v.valid_until, v.id LIMIT 1) AS vbr (r) ON true
	LEFT JOIN LATERAL (SELECT jsonb_populate_record(bu, v.data) FROM billing.master_data_version v
	                   WHERE i.confirmed_at IS NOT NULL AND v.table_name = 'buyer'
	                     AND v.row_id = i.buyer_id AND v.valid_until > i.confirmed_at
	                     AND nullif(btrim(v.data->>'address_line'), '') IS NOT NULL
	                     AND v.data->>'peppol_id' IS NOT NULL
	                   ORDER BY v.valid_until, v.id LIMIT 1) AS vby (r) ON true
	LEFT JOIN LATERAL (SELECT jsonb_populate_record(ba, v.data) FROM billing.master_data_version v
	                   WHERE ba.id IS NOT NULL AND i.confirmed_at IS NOT NULL AND v.table_name = 'bank_account'
	                     AND v.row_id = i.bank_account_id AND v.valid_until > i.confirmed_at
	                   ORDER BY v.valid_until, v.id LIMIT 1) AS vba (r) ON true
	-- (each row once, OFFSET 0: it is read field by field below; no
	-- function here, as Citus pushes down no FROM-less subquery with one)
	CROSS JOIN LATERAL (SELECT coalesce(vbr.r, br) OFFSET 0) AS sb (r)
	CROSS JOIN LATERAL (SELECT coalesce(vby.r, bu) OFFSET 0) AS sy (r)
	CROSS JOIN LATERAL (SELECT coalesce(vba.r, ba) OFFSET 0) AS sa (r);
COMMENT ON VIEW billing_internal.xml_head IS
	'internal: the fields of each invoice''s XML outside its lines and tax lines, one row per invoice (billing.invoices_xml)';
REVOKE ALL ON billing_internal.xml_head FROM PUBLIC;

-- billing_internal.xml_line: the lines of each invoice: every linked
-- document but payments (invoices_xml orders them by invoice, then date
-- and document); the amounts signed and rounded to the brand's scale, as
-- text
CREATE OR REPLACE VIEW billing_internal.xml_line (invoice_id, note, quantity, amount, line_date, reference,
	item_name, tax_category, percent, price, document_id, brand_id) AS
	SELECT i.id,
	       CASE d.kind WHEN 'delivery_invoice' THEN '納品' WHEN 'return_note' THEN '返品' ELSE '値引' END,
	       CASE WHEN s.signed < 0 THEN '-1' ELSE '1' END,
	       round(s.signed, br.currency_scale)::text, d.document_date, d.reference,
	       coalesce(nullif(btrim(d.description), ''),
	                CASE d.kind WHEN 'delivery_invoice' THEN '納品 ' WHEN 'return_note' THEN '返品 '
	                            ELSE '値引 ' END || d.reference),
	       billing_internal.tax_category(d.tax_rate), trim_scale(d.tax_rate * 100)::text,
	       round(abs(s.signed), br.currency_scale)::text, d.id, i.brand_id
	FROM billing.invoice i
	JOIN billing.brand br ON br.id = i.brand_id
	JOIN billing.document_link l ON l.buyer_id = i.buyer_id AND l.invoice_id = i.id
	JOIN billing.document d ON d.buyer_id = l.buyer_id AND d.id = l.document_id
	CROSS JOIN LATERAL (SELECT CASE d.kind WHEN 'delivery_invoice' THEN d.amount ELSE -d.amount END) AS s (signed)
	WHERE d.kind <> 'payment';
COMMENT ON VIEW billing_internal.xml_line IS
	'internal: the XML lines of each invoice (linked documents but payments) (billing.invoices_xml)';
REVOKE ALL ON billing_internal.xml_line FROM PUBLIC;

-- billing_internal.xml_tax_line: the tax breakdown of each invoice: its
-- tax lines (invoices_xml orders them by invoice, then rate from the
-- highest), rounded to the brand's scale, as text
CREATE OR REPLACE VIEW billing_internal.xml_tax_line (invoice_id, taxable_amount, tax, tax_category, percent,
	tax_rate, brand_id) AS
	SELECT i.id, round(t.taxable_amount, br.currency_scale)::text, round(t.tax, br.currency_scale)::text,
	       billing_internal.tax_category(t.tax_rate), trim_scale(t.tax_rate * 100)::text,
	       t.tax_rate, i.brand_id
	FROM billing.invoice i
	JOIN billing.brand br ON br.id = i.brand_id
	JOIN billing.invoice_tax_line t ON t.buyer_id = i.buyer_id AND t.invoice_id = i.id;
COMMENT ON VIEW billing_internal.xml_tax_line IS
	'internal: the XML tax breakdown of each invoice (its tax lines) (billing.invoices_xml)';
REVOKE ALL ON billing_internal.xml_tax_line FROM PUBLIC;

CREATE OR REPLACE FUNCTION billing.invoices_xml(VARIADIC invoice_ids bigint[])
RETURNS TABLE (invoice_id bigint, buyer_id bigint, xml xml)
LANGUAGE c STABLE PARALLEL RESTRICTED SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'billing_invoices_xml';
COMMENT ON FUNCTION billing.invoices_xml(bigint[]) IS
	'PINT JP XML of the given invoices that have lines, one row each; the set-based core of invoice_xml and run_xml';
REVOKE ALL ON FUNCTION billing.invoices_xml(bigint[]) FROM PUBLIC;

-- billing.invoice_xml: one invoice as a PINT JP 1.1.3 qualified invoice.
-- Drafts, quarantined and confirmed invoices have XML; rejected and
-- cancelled ones are not to be sent, and a balance-only draft has no line.
CREATE OR REPLACE FUNCTION billing.invoice_xml(invoice_id bigint) RETURNS xml
LANGUAGE plpgsql STABLE STRICT PARALLEL RESTRICTED SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	inv record;
	result xml;
BEGIN
	SELECT i.id, i.buyer_id, i.status,
	       (SELECT count(*) FROM billing.document_link l
	        JOIN billing.document d ON d.buyer_id = l.buyer_id AND d.id = l.document_id
	        WHERE l.buyer_id = i.buyer_id AND l.invoice_id = i.id AND d.kind <> 'payment') AS lines
	INTO inv
	FROM billing.invoice i WHERE i.id = invoice_xml.invoice_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'invoice % does not exist', invoice_id
			USING ERRCODE = 'no_data_found', HINT = 'Invoices are listed by SELECT id, status FROM billing.invoice.';
	END IF;
	IF inv.status IN ('rejected', 'cancelled') THEN
		RAISE EXCEPTION 'invoice % is % and has no XML', invoice_id, inv.status
			USING ERRCODE = 'object_not_in_prerequisite_state',
			      HINT = 'Only drafts, quarantined and confirmed invoices are written as XML.';
	END IF;
	IF inv.lines = 0 THEN
		RAISE EXCEPTION 'invoice % has no documents to invoice: it carries only the buyer''s balance', invoice_id
			USING ERRCODE = 'object_not_in_prerequisite_state',
			      DETAIL = 'A qualified invoice needs at least one line; payments and the carried-over balance are not lines.',
			      HINT = 'Send the balance on a statement instead; billing.run_xml() leaves such invoices out.';
	END IF;
	SELECT x.xml INTO result FROM billing.invoices_xml(invoice_id) AS x;
	RETURN result;
END
$$;
COMMENT ON FUNCTION billing.invoice_xml(bigint) IS
	'the invoice as Peppol PINT JP 1.1.3 XML (urn:peppol:pint:billing-1@jp-1); a confirmed one as it was when confirmed';
REVOKE ALL ON FUNCTION billing.invoice_xml(bigint) FROM PUBLIC;

-- billing_internal.run_invoices_xml: invoices_xml with the buyer's code
-- (run_xml's rows), by the same C
CREATE OR REPLACE FUNCTION billing_internal.run_invoices_xml(VARIADIC invoice_ids bigint[])
RETURNS TABLE (invoice_id bigint, buyer text, xml xml)
LANGUAGE c STABLE PARALLEL RESTRICTED SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'billing_run_invoices_xml';
COMMENT ON FUNCTION billing_internal.run_invoices_xml(bigint[]) IS
	'internal: billing.invoices_xml with the buyer''s code, the rows of billing.run_xml';
REVOKE ALL ON FUNCTION billing_internal.run_invoices_xml(bigint[]) FROM PUBLIC;

-- billing.run_xml: "Generate XML for all invoices in the run": every draft,
-- quarantined or confirmed invoice of the run that has lines, one row each
-- (balance-only drafts, rejected and cancelled invoices are left out).  As
-- the owner, so that it may call run_invoices_xml, which writes only the
-- invoices of the caller's brands; a run of another brand does not exist
-- for the caller, as the brand wall has it.  The invoices are selected
-- first, in a query of their own (on Citus an ARRAY(SELECT ...) over the
-- shards in the function's arguments is not planned).
CREATE OR REPLACE FUNCTION billing.run_xml(run_id bigint)
RETURNS TABLE (invoice_id bigint, buyer text, xml xml)
LANGUAGE plpgsql STABLE STRICT PARALLEL RESTRICTED SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	brands bigint[] := billing_internal.caller_brands();
	invoice_ids bigint[];
BEGIN
	IF NOT EXISTS (SELECT 1 FROM billing.invoice_run r
	               WHERE r.id = run_xml.run_id AND (brands IS NULL OR r.brand_id = ANY (brands))) THEN
		RAISE EXCEPTION 'invoice run % does not exist', run_id
			USING ERRCODE = 'no_data_found', HINT = 'Runs are listed by SELECT * FROM billing.run_report.';
	END IF;
	invoice_ids := ARRAY(SELECT i.id FROM billing.invoice i
	                     WHERE i.run_id = run_xml.run_id
	                       AND i.status IN ('draft', 'quarantined', 'confirmed'));
	RETURN QUERY SELECT * FROM billing_internal.run_invoices_xml(VARIADIC invoice_ids);
END
$$;
COMMENT ON FUNCTION billing.run_xml(bigint) IS
	'the PINT JP XML of every draft, quarantined or confirmed invoice of a run that has lines, one row each';
REVOKE ALL ON FUNCTION billing.run_xml(bigint) FROM PUBLIC;
