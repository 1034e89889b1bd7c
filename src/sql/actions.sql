-- src/sql/actions.sql: bulk actions on invoices, all or nothing, refusing what
-- the status forbids.  Each runs as the extension's owner (SECURITY DEFINER
-- and SET billing.api_write = on, in security.sql) and acts only on invoices
-- of the caller's brands: another brand's invoice is "does not exist".

-- billing_internal.use_run_work_mem: the bulk actions' statements (their
-- joins, hashed id lists and transition tables) work within
-- billing.run_work_mem, as a run does, whatever the session's work_mem: a
-- million drafts deleted with work_mem = 64MB took 808 MB of backend
-- memory (test/bench/issue.sh, BILLING_BENCH_SCALE=10).  Called first by
-- each action, whose SET work_mem clause keeps the change to its call;
-- clamped to billing.max_run_work_mem, as the run driver clamps it.
CREATE OR REPLACE FUNCTION billing_internal.use_run_work_mem() RETURNS void
LANGUAGE sql VOLATILE PARALLEL UNSAFE
RETURN (SELECT NULL::void FROM pg_catalog.set_config('work_mem',
        (least(pg_catalog.pg_size_bytes(coalesce(pg_catalog.current_setting('billing.run_work_mem', true), '16MB')),
               pg_catalog.pg_size_bytes(coalesce(pg_catalog.current_setting('billing.max_run_work_mem', true), '1GB')))
         / 1024)::text || 'kB', true));
COMMENT ON FUNCTION billing_internal.use_run_work_mem() IS
	'internal: work_mem := billing.run_work_mem for the calling bulk action (whose SET work_mem clause scopes it)';
REVOKE ALL ON FUNCTION billing_internal.use_run_work_mem() FROM PUBLIC;

-- billing_internal.lock_buyers locks the buyers of a bulk action's invoices: their
-- rows, FOR NO KEY UPDATE in id order (src/run.c; on Citus shard by shard,
-- in shard order).  Two bulk actions on the
-- same buyer take turns, and since every action takes its buyers in the
-- same order, they cannot deadlock; a confirm's balance updates never wait
-- on another action's.  Rows that refer to a buyer (FOR KEY SHARE) do not
-- wait.  Row locks need UPDATE rights and pass row level security, so no
-- reader and no role of another brand can hold them (0.2's advisory keys
-- on buyer buckets were a namespace any login role could squat).  Each
-- wait is bounded by billing.lock_timeout (then SQLSTATE 55P03).
CREATE OR REPLACE FUNCTION billing_internal.lock_buyers(buyer_ids bigint[], action text) RETURNS void
	AS 'MODULE_PATHNAME', 'billing_lock_buyers' LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION billing_internal.lock_buyers(bigint[], text) IS
	'internal: locks the buyers'' rows of a bulk action in id order, each wait bounded by billing.lock_timeout';
REVOKE ALL ON FUNCTION billing_internal.lock_buyers(bigint[], text) FROM PUBLIC;

-- billing_internal.lock_invoices takes the locks of a bulk action and judges the
-- selection: it refuses the whole selection when an invoice is missing (or
-- belongs to a brand the caller has no grant for, with the same error) or is
-- in a status the action does not allow.  The locks are the rows of the
-- selection's buyers (billing_internal.lock_buyers).  No FOR UPDATE over the
-- invoices: the actions re-check the status in their UPDATE and refuse
-- unless every invoice moved.
-- (The actions test a selection as i.id IN (SELECT unnest(invoice_ids)),
-- a semi-join, not as i.id = ANY (invoice_ids): on 40,000 ids the = ANY
-- form took 13 MB of backend memory against 5 MB, about 300 bytes an id,
-- and a bulk action at scale 10 selects 1,000,000.)
CREATE OR REPLACE FUNCTION billing_internal.lock_invoices(invoice_ids bigint[], allowed text[], action text)
RETURNS void LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	visible bigint[] := billing_internal.caller_brands();
	missing bigint[];
	bad record;
	refusal_detail text;
	refusal_hint text;
BEGIN
	IF invoice_ids IS NULL OR array_position(invoice_ids, NULL) IS NOT NULL THEN
		RAISE EXCEPTION 'cannot % invoices: the selection contains NULL', action
			USING ERRCODE = 'null_value_not_allowed',
			      HINT = format('Pass invoice ids, none of them NULL: billing.%1$s(3, 4), or billing.%1$s(VARIADIC ARRAY(SELECT ...)).',
			                    CASE action WHEN 'delete' THEN 'delete_drafts' ELSE action || '_invoices' END);
	END IF;
	-- an invoice's buyer never changes, so it can be read before the lock
	PERFORM billing_internal.lock_buyers(ARRAY(
		SELECT DISTINCT i.buyer_id FROM billing.invoice i
		WHERE i.id IN (SELECT unnest(invoice_ids)) AND (visible IS NULL OR i.brand_id = ANY (visible))), action);
	-- every id an invoice the caller sees: counted by the same semi-join
	-- (Citus pushes it down to the shards; an anti-join from the ids to the
	-- invoices it does not), and only when some are missing, which ones
	IF (SELECT count(*) FROM billing.invoice i
	    WHERE i.id IN (SELECT unnest(invoice_ids)) AND (visible IS NULL OR i.brand_id = ANY (visible)))
	   <> (SELECT count(DISTINCT x) FROM unnest(invoice_ids) AS x) THEN
		SELECT array_agg(x ORDER BY x) INTO missing
		FROM (SELECT unnest(invoice_ids)
		      EXCEPT
		      SELECT i.id FROM billing.invoice i
		      WHERE i.id IN (SELECT unnest(invoice_ids)) AND (visible IS NULL OR i.brand_id = ANY (visible))) AS m (x);
	END IF;
	IF missing IS NOT NULL THEN
		RAISE EXCEPTION 'cannot % invoices: %', action,
			CASE WHEN cardinality(missing) = 1 THEN format('invoice %s does not exist', missing[1])
			     ELSE format('invoices %s do not exist', array_to_string(missing, ', ')) END
			USING ERRCODE = 'no_data_found', HINT = 'Nothing was changed; remove the missing ids and try again.';
	END IF;
	-- every invoice that cannot be acted on, named at once
	SELECT count(*) AS n, string_agg(format('%s (%s)', i.id, i.status), ', ' ORDER BY i.id) AS list,
	       min(i.id) AS id, min(i.status) AS status, bool_or(i.status = 'confirmed') AS any_confirmed
	INTO bad FROM billing.invoice i
	WHERE i.id IN (SELECT unnest(invoice_ids)) AND i.status <> ALL (allowed);
	IF bad.n = 0 THEN
		RETURN;
	END IF;
	refusal_detail := format('Only %s invoices can be %s.',
	                         -- (confirm takes a confirmed invoice as done, not as something to confirm)
	                         array_to_string(array_remove(allowed, CASE action WHEN 'confirm' THEN 'confirmed' END), ' or '),
	                         CASE action WHEN 'delete' THEN 'deleted' WHEN 'quarantine' THEN 'quarantined'
	                                     WHEN 'cancel' THEN 'cancelled' ELSE action || 'ed' END);
	refusal_hint := CASE WHEN bad.n = 1 THEN 'Nothing was changed; leave that invoice out of the selection.'
	                     ELSE 'Nothing was changed; leave those invoices out of the selection.' END
	                || CASE WHEN bad.any_confirmed
	                        THEN ' A confirmed invoice is corrected with a credit note: record it as a credit_note document, which a later run bills.'
	                        ELSE '' END;
	IF bad.n = 1 THEN
		RAISE EXCEPTION 'cannot % invoice %: it is %', action, bad.id, bad.status
			USING ERRCODE = 'object_not_in_prerequisite_state', DETAIL = refusal_detail, HINT = refusal_hint;
	END IF;
	RAISE EXCEPTION 'cannot % invoices %', action, bad.list
		USING ERRCODE = 'object_not_in_prerequisite_state', DETAIL = refusal_detail, HINT = refusal_hint;
END
$$;
COMMENT ON FUNCTION billing_internal.lock_invoices(bigint[], text[], text) IS
	'internal: locks the buyers of a bulk action''s invoices (their rows, in order) and refuses a missing, foreign or wrong-status invoice';
REVOKE ALL ON FUNCTION billing_internal.lock_invoices(bigint[], text[], text) FROM PUBLIC;

-- billing_internal.require_all refuses a bulk action that changed fewer invoices
-- than it was given (one changed status meanwhile: a cancel_run, say)
CREATE OR REPLACE FUNCTION billing_internal.require_all(invoice_ids bigint[], changed bigint, action text)
RETURNS void LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF changed <> (SELECT count(DISTINCT x) FROM unnest(invoice_ids) AS x) THEN
		RAISE EXCEPTION 'cannot % invoices: an invoice of the selection changed status meanwhile', action
			USING ERRCODE = 'serialization_failure', HINT = 'Nothing was changed; try again.';
	END IF;
END
$$;
COMMENT ON FUNCTION billing_internal.require_all(bigint[], bigint, text) IS
	'internal: refuses a bulk action that changed fewer invoices than selected';
REVOKE ALL ON FUNCTION billing_internal.require_all(bigint[], bigint, text) FROM PUBLIC;

-- billing_internal.invoice_series_year: the series an invoice is numbered in: the
-- year of its invoice date (a date of the brand's calendar, so the year in
-- the brand's time zone) when the brand's series restarts yearly, else 0
CREATE OR REPLACE FUNCTION billing_internal.invoice_series_year(yearly_reset boolean, invoice_date date) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN yearly_reset THEN extract(year FROM invoice_date)::integer ELSE 0 END;
COMMENT ON FUNCTION billing_internal.invoice_series_year(boolean, date) IS
	'internal: the invoice number series of an invoice date: its year when the brand resets yearly, else 0';
REVOKE ALL ON FUNCTION billing_internal.invoice_series_year(boolean, date) FROM PUBLIC;

-- billing_internal.invoice_number_text: the number as printed: the prefix (NULL:
-- the brand's code), a hyphen, the year and a hyphen (a yearly series),
-- and the counter padded with zeros to the brand's digits (a longer
-- counter in full): ACME-2026-000123
CREATE OR REPLACE FUNCTION billing_internal.invoice_number_text(prefix text, brand_code text, year integer, counter bigint,
                                                       digits integer) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN coalesce(prefix, brand_code) || '-'
       || CASE WHEN year > 0 THEN year::text || '-' ELSE '' END
       || CASE WHEN length(counter::text) >= digits THEN counter::text ELSE lpad(counter::text, digits, '0') END;
COMMENT ON FUNCTION billing_internal.invoice_number_text(text, text, integer, bigint, integer) IS
	'internal: an invoice number as printed: prefix (or the brand code), -, the year and - of a yearly series, the zero-padded counter';
REVOKE ALL ON FUNCTION billing_internal.invoice_number_text(text, text, integer, bigint, integer) FROM PUBLIC;

-- The actions return their rows (billing.invoice_summary, in id order)
-- straight from their RETURNING, by RETURN QUERY, whose rows and sort go
-- to disk past work_mem, then count them (ROW_COUNT) for require_all: a
-- call on a million invoices keeps no array of them in memory (collected
-- as billing.invoice[], 1,000,000 deleted drafts took 1.4 GB of backend
-- memory, test/bench/issue.sh at BILLING_BENCH_SCALE=10).

-- billing.confirm_invoices turns drafts (or quarantined invoices) into
-- billing invoices and adds purchases + tax - deposit to each buyer's
-- balance, in the same transaction.  Each invoice it confirms gets the
-- next number of its brand's series (billing.invoice_series), in invoice
-- id order: the series' counter rows are taken FOR UPDATE (in brand and
-- year order, each wait bounded by billing.lock_timeout) and moved in the
-- confirming transaction, so confirmers of one series take turns and a
-- rollback gives the numbers back: no gaps, no number given twice.  An
-- invoice already confirmed keeps its number.
CREATE OR REPLACE FUNCTION billing.confirm_invoices(VARIADIC invoice_ids bigint[]) RETURNS SETOF billing.invoice_summary
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER SET billing.api_write = on SET search_path = pg_catalog, pg_temp
SET work_mem = '16MB' AS $$
DECLARE
	done bigint;
	already bigint[];
	series_brand bigint[];
	series_year integer[];
	series_n bigint[];
	series_before bigint[];
	caller_lock_timeout text := current_setting('lock_timeout');
	waited_for text;
BEGIN
	PERFORM billing_internal.use_run_work_mem();
	-- a confirmed invoice is accepted as done: a retry after a lost reply
	-- (or a selection that overlaps) confirms the rest and reports it
	PERFORM billing_internal.lock_invoices(invoice_ids, ARRAY['draft', 'quarantined', 'confirmed'], 'confirm');
	SELECT array_agg(i.id ORDER BY i.id) INTO already FROM billing.invoice i
	WHERE i.id IN (SELECT unnest(invoice_ids)) AND i.status = 'confirmed';
	-- the series of the invoices to number (an invoice's brand and date
	-- never change), made at 0 when new, then locked in order: the lock
	-- is the counter row's, held to the end of the transaction
	SELECT array_agg(w.brand_id ORDER BY w.brand_id, w.year), array_agg(w.year ORDER BY w.brand_id, w.year),
	       array_agg(w.n ORDER BY w.brand_id, w.year)
	INTO series_brand, series_year, series_n
	FROM (SELECT i.brand_id, billing_internal.invoice_series_year(br.invoice_number_yearly_reset, i.invoice_date) AS year,
	             count(*) AS n
	      FROM billing.invoice i JOIN billing.brand br ON br.id = i.brand_id
	      WHERE i.id IN (SELECT unnest(invoice_ids)) AND i.status IN ('draft', 'quarantined')
	      GROUP BY 1, 2) AS w;
	IF series_brand IS NOT NULL THEN
		PERFORM set_config('lock_timeout', current_setting('billing.lock_timeout'), true);
		BEGIN
			INSERT INTO billing.invoice_series (brand_id, year, last_number)
			SELECT w.brand_id, w.year, 0 FROM unnest(series_brand, series_year) AS w(brand_id, year)
			ORDER BY w.brand_id, w.year
			ON CONFLICT (brand_id, year) DO NOTHING;
			PERFORM FROM billing.invoice_series s
			WHERE (s.brand_id, s.year) IN (SELECT * FROM unnest(series_brand, series_year))
			ORDER BY s.brand_id, s.year
			FOR UPDATE OF s;
		EXCEPTION WHEN lock_not_available THEN
			SELECT string_agg(br.code || CASE WHEN w.year > 0 THEN ' ' || w.year ELSE '' END, ', '
			                  ORDER BY w.brand_id, w.year)
			INTO waited_for
			FROM unnest(series_brand, series_year) AS w(brand_id, year) JOIN billing.brand br ON br.id = w.brand_id;
			RAISE EXCEPTION 'the invoice number series of % stayed locked longer than billing.lock_timeout (%)',
				waited_for, current_setting('billing.lock_timeout')
				USING ERRCODE = 'lock_not_available',
				      DETAIL = 'Another transaction is confirming invoices of the same series and has not ended; nothing was confirmed.',
				      HINT = 'Confirm again when that transaction has ended (pg_locks shows who holds the row), or raise billing.lock_timeout.';
		END;
		PERFORM set_config('lock_timeout', caller_lock_timeout, true);
		-- take the numbers: each counter moves by its invoices at once
		WITH moved AS (
			UPDATE billing.invoice_series s SET last_number = s.last_number + w.n
			FROM unnest(series_brand, series_year, series_n) AS w(brand_id, year, n)
			WHERE s.brand_id = w.brand_id AND s.year = w.year
			RETURNING s.brand_id, s.year, s.last_number - w.n AS before
		)
		SELECT array_agg(m.brand_id), array_agg(m.year), array_agg(m.before)
		INTO series_brand, series_year, series_before FROM moved m;
	END IF;
	RETURN QUERY
	WITH numbered AS (
		SELECT i.buyer_id, i.id,
		       billing_internal.invoice_number_text(br.invoice_number_prefix, br.code, w.year,
		           w.before + row_number() OVER (PARTITION BY w.brand_id, w.year ORDER BY i.id),
		           br.invoice_number_digits) AS invoice_number
		FROM billing.invoice i
		JOIN billing.brand br ON br.id = i.brand_id
		JOIN unnest(series_brand, series_year, series_before) AS w(brand_id, year, before)
		  ON w.brand_id = i.brand_id
		 AND w.year = billing_internal.invoice_series_year(br.invoice_number_yearly_reset, i.invoice_date)
		WHERE i.id IN (SELECT unnest(invoice_ids)) AND i.status IN ('draft', 'quarantined')
	), confirmed AS (
		UPDATE billing.invoice i SET status = 'confirmed', status_reason = NULL, confirmed_at = now(),
		                             invoice_number = n.invoice_number
		FROM numbered n
		WHERE i.buyer_id = n.buyer_id AND i.id = n.id AND i.status IN ('draft', 'quarantined')
		RETURNING i.id, i.invoice_number, i.buyer_id, i.status, i.total, i.currency, i.purchases, i.tax, i.deposit,
		          i.brand_id
	), issued AS (
		-- the register of the brand's numbers: a number given twice fails here
		INSERT INTO billing.issued_invoice_number (brand_id, invoice_number, buyer_id, invoice_id)
		SELECT c.brand_id, c.invoice_number, c.buyer_id, c.id FROM confirmed c
	), balance AS (
		UPDATE billing.buyer b SET billing_balance = b.billing_balance + c.change
		FROM (SELECT buyer_id, sum(purchases + tax - deposit) AS change
		      FROM confirmed GROUP BY buyer_id) AS c
		WHERE b.id = c.buyer_id
	)
	-- with the invoices that were confirmed already, as they are
	SELECT c.id, c.invoice_number, b.code, c.status, c.total, c.currency
	FROM (SELECT c.id, c.invoice_number, c.buyer_id, c.status, c.total, c.currency FROM confirmed c
	      UNION ALL
	      SELECT i.id, i.invoice_number, i.buyer_id, i.status, i.total, i.currency
	      FROM billing.invoice i WHERE i.id = ANY (already)) AS c
	JOIN billing.buyer b ON b.id = c.buyer_id
	ORDER BY c.id;
	GET DIAGNOSTICS done = ROW_COUNT;
	-- fewer confirmed than numbered (a status changed meanwhile) is refused
	-- with the whole call, numbers included
	PERFORM billing_internal.require_all(invoice_ids, done, 'confirm');
	IF already IS NOT NULL THEN
		RAISE NOTICE '% already confirmed, left as %', 
			CASE WHEN cardinality(already) = 1 THEN 'invoice ' || already[1] ELSE 'invoices ' || array_to_string(already, ', ') END,
			CASE WHEN cardinality(already) = 1 THEN 'it was' ELSE 'they were' END;
	END IF;
END
$$;
COMMENT ON FUNCTION billing.confirm_invoices(bigint[]) IS
	'confirms drafts or quarantined invoices, all or nothing: each gets the next number of its brand''s series, and purchases + tax - deposit go to each buyer''s balance; an invoice already confirmed is reported and keeps its number';
REVOKE ALL ON FUNCTION billing.confirm_invoices(bigint[]) FROM PUBLIC;

-- billing.delete_drafts deletes drafts with their tax lines and links; their
-- documents become eligible again.  Returns the deleted drafts.
CREATE OR REPLACE FUNCTION billing.delete_drafts(VARIADIC invoice_ids bigint[]) RETURNS SETOF billing.invoice_summary
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER SET billing.api_write = on SET search_path = pg_catalog, pg_temp
SET work_mem = '16MB' AS $$
DECLARE
	done bigint;
BEGIN
	PERFORM billing_internal.use_run_work_mem();
	PERFORM billing_internal.lock_invoices(invoice_ids, ARRAY['draft'], 'delete');
	DELETE FROM billing.document_link l USING billing.invoice i
	WHERE i.id IN (SELECT unnest(invoice_ids)) AND i.status = 'draft' AND l.buyer_id = i.buyer_id AND l.invoice_id = i.id;
	DELETE FROM billing.invoice_tax_line t USING billing.invoice i
	WHERE i.id IN (SELECT unnest(invoice_ids)) AND i.status = 'draft' AND t.buyer_id = i.buyer_id AND t.invoice_id = i.id;
	RETURN QUERY
	WITH deleted AS (
		DELETE FROM billing.invoice i WHERE i.id IN (SELECT unnest(invoice_ids)) AND i.status = 'draft'
		RETURNING i.id, i.invoice_number, i.buyer_id, i.status, i.total, i.currency
	)
	SELECT c.id, c.invoice_number, b.code, 'deleted'::text, c.total, c.currency
	FROM deleted c JOIN billing.buyer b ON b.id = c.buyer_id ORDER BY c.id;
	GET DIAGNOSTICS done = ROW_COUNT;
	PERFORM billing_internal.require_all(invoice_ids, done, 'delete');
END
$$;
COMMENT ON FUNCTION billing.delete_drafts(bigint[]) IS
	'deletes drafts with their tax lines and links, all or nothing; their documents become eligible again';
REVOKE ALL ON FUNCTION billing.delete_drafts(bigint[]) FROM PUBLIC;

-- billing.quarantine_invoices sets drafts aside for checking
CREATE OR REPLACE FUNCTION billing.quarantine_invoices(reason text, VARIADIC invoice_ids bigint[]) RETURNS SETOF billing.invoice_summary
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER SET billing.api_write = on SET search_path = pg_catalog, pg_temp
SET work_mem = '16MB' AS $$
DECLARE
	done bigint;
BEGIN
	PERFORM billing_internal.use_run_work_mem();
	PERFORM billing_internal.lock_invoices(invoice_ids, ARRAY['draft'], 'quarantine');
	RETURN QUERY
	WITH changed AS (
		UPDATE billing.invoice i SET status = 'quarantined', status_reason = reason
		WHERE i.id IN (SELECT unnest(invoice_ids)) AND i.status = 'draft'
		RETURNING i.id, i.invoice_number, i.buyer_id, i.status, i.total, i.currency
	)
	SELECT c.id, c.invoice_number, b.code, c.status, c.total, c.currency
	FROM changed c JOIN billing.buyer b ON b.id = c.buyer_id ORDER BY c.id;
	GET DIAGNOSTICS done = ROW_COUNT;
	PERFORM billing_internal.require_all(invoice_ids, done, 'quarantine');
END
$$;
COMMENT ON FUNCTION billing.quarantine_invoices(text, bigint[]) IS
	'sets drafts aside for checking, with an optional reason, all or nothing';
REVOKE ALL ON FUNCTION billing.quarantine_invoices(text, bigint[]) FROM PUBLIC;

-- billing.reject_invoices refuses drafts or quarantined invoices, with a reason
CREATE OR REPLACE FUNCTION billing.reject_invoices(reason text, VARIADIC invoice_ids bigint[]) RETURNS SETOF billing.invoice_summary
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER SET billing.api_write = on SET search_path = pg_catalog, pg_temp
SET work_mem = '16MB' AS $$
DECLARE
	done bigint;
BEGIN
	PERFORM billing_internal.use_run_work_mem();
	IF reason IS NULL OR btrim(reason) = '' THEN
		RAISE EXCEPTION 'rejecting invoices needs a reason'
			USING ERRCODE = 'invalid_parameter_value', HINT = 'Say why, for the record: reject_invoices(''wrong prices'', 7, 8).';
	END IF;
	PERFORM billing_internal.lock_invoices(invoice_ids, ARRAY['draft', 'quarantined'], 'reject');
	RETURN QUERY
	WITH changed AS (
		UPDATE billing.invoice i SET status = 'rejected', status_reason = reason
		WHERE i.id IN (SELECT unnest(invoice_ids)) AND i.status IN ('draft', 'quarantined')
		RETURNING i.id, i.invoice_number, i.buyer_id, i.status, i.total, i.currency
	)
	SELECT c.id, c.invoice_number, b.code, c.status, c.total, c.currency
	FROM changed c JOIN billing.buyer b ON b.id = c.buyer_id ORDER BY c.id;
	GET DIAGNOSTICS done = ROW_COUNT;
	PERFORM billing_internal.require_all(invoice_ids, done, 'reject');
END
$$;
COMMENT ON FUNCTION billing.reject_invoices(text, bigint[]) IS
	'rejects drafts or quarantined invoices with a reason (required), all or nothing';
REVOKE ALL ON FUNCTION billing.reject_invoices(text, bigint[]) FROM PUBLIC;

-- billing.cancel_invoices cancels unconfirmed invoices and frees their
-- documents for a later run; a confirmed invoice is corrected by a credit
-- note instead
CREATE OR REPLACE FUNCTION billing.cancel_invoices(VARIADIC invoice_ids bigint[]) RETURNS SETOF billing.invoice_summary
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER SET billing.api_write = on SET search_path = pg_catalog, pg_temp
SET work_mem = '16MB' AS $$
DECLARE
	done bigint;
BEGIN
	PERFORM billing_internal.use_run_work_mem();
	PERFORM billing_internal.lock_invoices(invoice_ids, ARRAY['draft', 'quarantined', 'rejected'], 'cancel');
	DELETE FROM billing.document_link l USING billing.invoice i
	WHERE i.id IN (SELECT unnest(invoice_ids)) AND i.status IN ('draft', 'quarantined', 'rejected')
	  AND l.buyer_id = i.buyer_id AND l.invoice_id = i.id;
	RETURN QUERY
	WITH changed AS (
		UPDATE billing.invoice i SET status = 'cancelled'
		WHERE i.id IN (SELECT unnest(invoice_ids)) AND i.status IN ('draft', 'quarantined', 'rejected')
		RETURNING i.id, i.invoice_number, i.buyer_id, i.status, i.total, i.currency
	)
	SELECT c.id, c.invoice_number, b.code, c.status, c.total, c.currency
	FROM changed c JOIN billing.buyer b ON b.id = c.buyer_id ORDER BY c.id;
	GET DIAGNOSTICS done = ROW_COUNT;
	PERFORM billing_internal.require_all(invoice_ids, done, 'cancel');
END
$$;
COMMENT ON FUNCTION billing.cancel_invoices(bigint[]) IS
	'cancels unconfirmed invoices, all or nothing, and frees their documents for a later run';
REVOKE ALL ON FUNCTION billing.cancel_invoices(bigint[]) FROM PUBLIC;
