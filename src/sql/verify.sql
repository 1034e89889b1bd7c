-- src/sql/verify.sql: billing.verify(), an amcheck for billing.  It
-- reads every table of the extension and returns one row per violation of
-- what the billing records promise; none on a healthy database.  A DBA runs
-- it after a restore (above all a parallel one with --disable-triggers), an
-- upgrade, or any write made under billing.maintenance.  It writes nothing.

-- billing.buyer.opening_balance: the balance a buyer started with, given on
-- INSERT as billing_balance (as in 0.2) unless given itself.  The balance
-- then moves only by confirmed invoices, which verify() checks against it.
CREATE OR REPLACE FUNCTION billing_internal.buyer_opening_balance() RETURNS trigger
LANGUAGE plpgsql VOLATILE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	NEW.opening_balance := coalesce(NEW.opening_balance, NEW.billing_balance);
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION billing_internal.buyer_opening_balance() IS
	'trigger: a new buyer''s opening balance is its billing balance unless given';
REVOKE ALL ON FUNCTION billing_internal.buyer_opening_balance() FROM PUBLIC;
CREATE OR REPLACE TRIGGER buyer_opening_balance BEFORE INSERT ON billing.buyer
	FOR EACH ROW EXECUTE FUNCTION billing_internal.buyer_opening_balance();
COMMENT ON TRIGGER buyer_opening_balance ON billing.buyer IS
	'a new buyer''s opening balance is the billing balance it was given, unless given itself';

-- billing.verify: one row per violation.
--   invariant  what must hold (the same words for every row of one check)
--   relation   the table whose row breaks it
--   key        that row's key, as (v1, v2)
--   detail     what is wrong, with the values
-- The references are every foreign key of the extension's tables, read from
-- pg_constraint (so a key added later is checked without a change here),
-- and the references the schema means but does not declare (the record
-- tables' keys a run would pay for per row, when left out; src/sql/tables.sql).
-- Amounts are re-derived here from the documents, independently of the run.
-- On Citus each check runs on the shards; their rows come back as text
-- (citus.enable_binary_protocol = off), since a regclass sent back in
-- binary is the worker's OID, not the coordinator's (a placeholder setting
-- without Citus).
CREATE OR REPLACE FUNCTION billing.verify()
RETURNS TABLE (invariant text, relation regclass, key text, detail text)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp
SET citus.enable_binary_protocol = off AS $$
DECLARE
	ref record;
	row_key text;
BEGIN
	-- every reference: declared foreign keys, then the meant ones no key declares
	FOR ref IN
		WITH declared AS (
			SELECT c.conrelid::regclass AS child, c.confrelid::regclass AS parent, c.conname::text AS name,
			       ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY AS k(attnum, n)
			             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
			             ORDER BY k.n) AS child_columns,
			       ARRAY(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY AS k(attnum, n)
			             JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum
			             ORDER BY k.n) AS parent_columns
			FROM pg_constraint c
			WHERE c.contype = 'f' AND c.connamespace = 'billing'::regnamespace
		), meant (child, child_columns, parent, parent_columns) AS (VALUES
			('billing.document_link'::regclass, '{buyer_id,document_id}'::name[],
			 'billing.document'::regclass, '{buyer_id,id}'::name[]),
			-- (with the brand: tax lines and links carry their invoice's)
			('billing.document_link', '{buyer_id,invoice_id,brand_id}', 'billing.invoice', '{buyer_id,id,brand_id}'),
			('billing.invoice_tax_line', '{buyer_id,invoice_id,brand_id}', 'billing.invoice', '{buyer_id,id,brand_id}'),
			('billing.invoice', '{buyer_id}', 'billing.buyer', '{id}'),
			('billing.invoice', '{run_id}', 'billing.invoice_run', '{id}'),
			('billing.invoice', '{bank_account_id}', 'billing.bank_account', '{id}'),
			('billing.document', '{buyer_id}', 'billing.buyer', '{id}')
		)
		SELECT d.child, d.parent, d.child_columns, d.parent_columns,
		       format('foreign key %s', d.name) AS what
		FROM declared d
		UNION ALL
		SELECT m.child, m.parent, m.child_columns, m.parent_columns,
		       format('reference %s(%s) to %s', m.child, array_to_string(m.child_columns, ', '), m.parent)
		FROM meant m
		-- covered when a declared key has these columns (and maybe more)
		WHERE NOT EXISTS (SELECT 1 FROM declared d
		                  WHERE d.child = m.child AND d.parent = m.parent
		                    AND d.child_columns @> m.child_columns)
		ORDER BY 1, 5
	LOOP
		-- the row's key, shown in the key column and in the detail (as an
		-- expression in the select list: Citus pushes no FROM-less
		-- subquery of a function that is not immutable down to the shards)
		row_key := format('''('' || concat_ws('', '', %s) || '')''',
		                  (SELECT string_agg(format('c.%I', col), ', ') FROM unnest(ref.child_columns) AS col));
		RETURN QUERY EXECUTE format(
			'SELECT %L::text, %L::regclass, %s, %L || %s || %L FROM %s AS c'
			' WHERE %s AND NOT EXISTS (SELECT 1 FROM %s AS p WHERE %s)',
			ref.what, ref.child, row_key,
			format('(%s)=', array_to_string(ref.child_columns, ', ')), row_key,
			format(' is not present in table %s', ref.parent),
			ref.child,
			(SELECT string_agg(format('c.%I IS NOT NULL', col), ' AND ') FROM unnest(ref.child_columns) AS col),
			ref.parent,
			(SELECT string_agg(format('p.%I = c.%I', p, c), ' AND ')
			 FROM unnest(ref.parent_columns, ref.child_columns) AS x(p, c)));
	END LOOP;

	-- a link's document is of the invoice's buyer and dated in its period,
	-- or is a late document of an earlier closed period that the invoice
	-- says it carries (late_since: the earliest such date, set by a
	-- scheduled run of a late_documents = next_run schedule)
	RETURN QUERY
	SELECT 'a linked document is dated in its invoice''s period', 'billing.document_link'::regclass,
	       format('(%s, %s)', l.buyer_id, l.document_id),
	       format('document %s is dated %s, outside period %s of invoice %s%s', l.document_id,
	              d.document_date, i.period, i.id,
	              CASE WHEN i.late_since IS NOT NULL
	                   THEN format(' and before the late documents it carries (from %s)', i.late_since) END)
	FROM billing.document_link l
	JOIN billing.document d ON d.buyer_id = l.buyer_id AND d.id = l.document_id
	JOIN billing.invoice i ON i.buyer_id = l.buyer_id AND i.id = l.invoice_id
	WHERE NOT (d.document_date >= coalesce(i.late_since, lower(i.period))
	           AND d.document_date < upper(i.period))
	ORDER BY l.buyer_id, l.document_id;

	-- an invoice that says it carries late documents carries one dated
	-- late_since (while it has its links: a cancel that reopens them frees
	-- them all)
	-- (the earliest date compared outside the aggregate: Citus 13 deparses
	-- this HAVING for the shards with the wrong column)
	RETURN QUERY
	SELECT 'an invoice''s late_since is the date of its earliest late document', 'billing.invoice'::regclass,
	       format('(%s, %s)', e.buyer_id, e.id),
	       format('invoice %s says it carries late documents from %s, but its earliest document is dated %s',
	              e.id, e.late_since, e.earliest)
	FROM (SELECT i.buyer_id, i.id, i.late_since, min(d.document_date) AS earliest
	      FROM billing.invoice i
	      JOIN billing.document_link l ON l.buyer_id = i.buyer_id AND l.invoice_id = i.id
	      JOIN billing.document d ON d.buyer_id = l.buyer_id AND d.id = l.document_id
	      WHERE i.late_since IS NOT NULL
	      GROUP BY i.buyer_id, i.id, i.late_since) AS e
	WHERE e.earliest <> e.late_since
	ORDER BY e.buyer_id, e.id;

	-- no document on two live invoices (the link's key says one link per
	-- document; this holds even if that key were lost in a restore)
	RETURN QUERY
	SELECT 'no document is on two live invoices', 'billing.document_link'::regclass,
	       format('(%s, %s)', l.buyer_id, l.document_id),
	       format('document %s is on %s live invoices: %s', l.document_id, count(*),
	              string_agg(i.id::text, ', ' ORDER BY i.id))
	FROM billing.document_link l
	JOIN billing.invoice i ON i.buyer_id = l.buyer_id AND i.id = l.invoice_id
	WHERE i.status <> 'cancelled'
	GROUP BY l.buyer_id, l.document_id HAVING count(*) > 1
	ORDER BY l.buyer_id, l.document_id;

	-- a live invoice's amounts are those of its documents and tax lines
	RETURN QUERY
	WITH docs AS (
		SELECT l.buyer_id, l.invoice_id,
		       sum(CASE d.kind WHEN 'delivery_invoice' THEN d.amount WHEN 'payment' THEN 0
		                       ELSE -d.amount END) AS purchases,
		       sum(CASE d.kind WHEN 'payment' THEN d.amount ELSE 0 END) AS deposit,
		       count(*) AS documents
		FROM billing.document_link l
		JOIN billing.document d ON d.buyer_id = l.buyer_id AND d.id = l.document_id
		GROUP BY l.buyer_id, l.invoice_id
	), lines AS (
		SELECT t.buyer_id, t.invoice_id, sum(t.taxable_amount) AS taxable, sum(t.tax) AS tax
		FROM billing.invoice_tax_line t GROUP BY t.buyer_id, t.invoice_id
	)
	SELECT 'an invoice''s amounts equal its documents and tax lines', 'billing.invoice'::regclass,
	       format('(%s, %s)', i.buyer_id, i.id),
	       format('invoice %s has purchases %s, deposit %s, tax %s, %s documents; its documents give purchases %s, deposit %s, %s documents; its tax lines give taxable %s, tax %s',
	              i.id, i.purchases, i.deposit, i.tax, i.document_count,
	              coalesce(d.purchases, 0), coalesce(d.deposit, 0), coalesce(d.documents, 0),
	              coalesce(t.taxable, 0), coalesce(t.tax, 0))
	FROM billing.invoice i
	LEFT JOIN docs d ON d.buyer_id = i.buyer_id AND d.invoice_id = i.id
	LEFT JOIN lines t ON t.buyer_id = i.buyer_id AND t.invoice_id = i.id
	WHERE i.status <> 'cancelled'
	  AND (i.purchases <> coalesce(d.purchases, 0) OR i.deposit <> coalesce(d.deposit, 0)
	       OR i.document_count <> coalesce(d.documents, 0)
	       OR i.purchases <> coalesce(t.taxable, 0) OR i.tax <> coalesce(t.tax, 0))
	ORDER BY i.buyer_id, i.id;

	-- a live invoice's tax line per rate: the sum of its documents at that
	-- rate, taxed and rounded once, as the brand rounds
	RETURN QUERY
	WITH doc_rates AS (
		SELECT l.buyer_id, l.invoice_id, d.tax_rate,
		       sum(CASE d.kind WHEN 'delivery_invoice' THEN d.amount ELSE -d.amount END) AS taxable
		FROM billing.document_link l
		JOIN billing.document d ON d.buyer_id = l.buyer_id AND d.id = l.document_id
		WHERE d.kind <> 'payment'
		GROUP BY l.buyer_id, l.invoice_id, d.tax_rate
	), live_lines AS (
		SELECT t.* FROM billing.invoice_tax_line t
		JOIN billing.invoice i ON i.buyer_id = t.buyer_id AND i.id = t.invoice_id
		WHERE i.status <> 'cancelled'
	), live_rates AS (
		SELECT r.*, br.currency_scale, br.tax_rounding FROM doc_rates r
		JOIN billing.invoice i ON i.buyer_id = r.buyer_id AND i.id = r.invoice_id
		JOIN billing.brand br ON br.id = i.brand_id
		WHERE i.status <> 'cancelled'
	)
	SELECT 'a tax line equals its documents, rounded once per rate', 'billing.invoice_tax_line'::regclass,
	       format('(%s, %s, %s)', coalesce(t.buyer_id, r.buyer_id), coalesce(t.invoice_id, r.invoice_id),
	              coalesce(t.tax_rate, r.tax_rate)),
	       format('invoice %s at rate %s: the tax line says taxable %s, tax %s; its documents give taxable %s, tax %s',
	              coalesce(t.invoice_id, r.invoice_id), coalesce(t.tax_rate, r.tax_rate),
	              coalesce(t.taxable_amount::text, 'no line'), coalesce(t.tax::text, 'no line'),
	              coalesce(r.taxable::text, 'no document'),
	              coalesce(billing_internal.round_amount(r.taxable * r.tax_rate, r.currency_scale, r.tax_rounding)::text,
	                       'no document'))
	FROM live_lines t
	FULL JOIN live_rates r ON r.buyer_id = t.buyer_id AND r.invoice_id = t.invoice_id AND r.tax_rate = t.tax_rate
	WHERE t.taxable_amount IS DISTINCT FROM r.taxable
	   OR t.tax IS DISTINCT FROM billing_internal.round_amount(r.taxable * r.tax_rate, r.currency_scale, r.tax_rounding)
	ORDER BY 3;

	-- a balance moves only by confirmed invoices
	RETURN QUERY
	WITH confirmed AS (
		SELECT i.buyer_id, sum(i.purchases + i.tax - i.deposit) AS change, count(*) AS invoices
		FROM billing.invoice i WHERE i.status = 'confirmed' GROUP BY i.buyer_id
	)
	SELECT 'a balance equals its opening balance plus its confirmed invoices', 'billing.buyer'::regclass,
	       format('(%s)', b.id),
	       format('buyer %s has balance %s; opening balance %s plus %s confirmed invoices (%s) gives %s',
	              b.code, b.billing_balance, b.opening_balance, coalesce(c.invoices, 0),
	              coalesce(c.change, 0), b.opening_balance + coalesce(c.change, 0))
	FROM billing.buyer b
	LEFT JOIN confirmed c ON c.buyer_id = b.id
	WHERE b.billing_balance <> b.opening_balance + coalesce(c.change, 0)
	ORDER BY b.id;

	-- a brand's numbers are unique by the register of the numbers given
	-- (billing.issued_invoice_number): every numbered invoice's number is
	-- there, given to it, and every number there is that invoice's (set
	-- differences, not joins: on Citus the register is distributed by the
	-- number, the invoices by the buyer)
	RETURN QUERY
	WITH numbered AS (
		SELECT i.brand_id, i.invoice_number, i.buyer_id, i.id AS invoice_id
		FROM billing.invoice i WHERE i.invoice_number IS NOT NULL
	), issued AS (
		SELECT n.brand_id, n.invoice_number, n.buyer_id, n.invoice_id FROM billing.issued_invoice_number n
	)
	SELECT 'an invoice''s number is given to it in the register of numbers, and only to it', 'billing.invoice'::regclass,
	       format('(%s, %s)', x.buyer_id, x.invoice_id),
	       format('invoice %s has number %s, which billing.issued_invoice_number does not give it', x.invoice_id, x.invoice_number)
	FROM (SELECT * FROM numbered EXCEPT SELECT * FROM issued) AS x
	UNION ALL
	SELECT 'an invoice''s number is given to it in the register of numbers, and only to it', 'billing.issued_invoice_number'::regclass,
	       format('(%s, %s)', y.brand_id, y.invoice_number),
	       format('number %s is given to invoice %s, which does not have it', y.invoice_number, y.invoice_id)
	FROM (SELECT * FROM issued EXCEPT SELECT * FROM numbered) AS y
	ORDER BY 2, 3;

	-- the brand walls read the brand roles' memberships (src/sql/security.sql):
	-- each grant is a membership, and each membership a grant
	RETURN QUERY
	WITH granted AS (
		SELECT b.id AS brand_id, b.code, g.grantee::oid AS member,
		       billing_internal.brand_role_name(b.id) AS role_name
		FROM billing.brand_grant g JOIN billing.brand b ON b.id = g.brand_id
	), membership AS (
		SELECT b.id AS brand_id, b.code, a.member, r.rolname AS role_name
		FROM billing.brand b
		JOIN pg_roles r ON r.rolname = billing_internal.brand_role_name(b.id)
		JOIN pg_auth_members a ON a.roleid = r.oid
	)
	SELECT 'a brand grant is a membership of the brand''s role, and a membership a grant', 'billing.brand_grant'::regclass,
	       format('(%s, %s)', g.member::regrole, g.brand_id),
	       format('role %s was granted brand %s but is not a member of role %s, so the brand walls show it nothing (SELECT billing.grant_brand(%L, %L) puts the membership back)',
	              g.member::regrole, g.code, g.role_name, g.code, g.member::regrole::text)
	FROM granted g
	WHERE NOT EXISTS (SELECT 1 FROM membership m WHERE m.brand_id = g.brand_id AND m.member = g.member)
	UNION ALL
	SELECT 'a brand grant is a membership of the brand''s role, and a membership a grant', 'billing.brand_grant'::regclass,
	       format('(%s, %s)', m.member::regrole, m.brand_id),
	       format('role %s is a member of role %s, so it sees brand %s, but billing.grant_brand never granted it (REVOKE %I FROM %s, or SELECT billing.grant_brand(%L, %L))',
	              m.member::regrole, m.role_name, m.code, m.role_name, m.member::regrole, m.code, m.member::regrole::text)
	FROM membership m
	WHERE NOT EXISTS (SELECT 1 FROM granted g WHERE g.brand_id = m.brand_id AND g.member = m.member)
	ORDER BY 3;

	-- a queued or running run has a live background worker
	RETURN QUERY
	SELECT 'a queued or running run has a live worker', 'billing.invoice_run'::regclass,
	       format('(%s)', d.run_id),
	       format('run %s is %s, but no background worker has it (billing.fail_dead_runs() marks it failed)',
	              d.run_id, d.status)
	FROM billing.dead_runs() d;
END
$$;
COMMENT ON FUNCTION billing.verify() IS
	'checks the billing records (references, no document billed twice, invoice and tax amounts, balances, live runs): one row per violation, none when healthy';
REVOKE ALL ON FUNCTION billing.verify() FROM PUBLIC;
