-- sql/billing/actions.sql: bulk actions on invoices, all or nothing, refusing what
-- the status forbids

-- billing.lock_invoices locks the selected invoices (in id order, so two
-- bulk actions cannot deadlock) and refuses the whole selection when one is
-- missing or in a status the action does not allow
CREATE OR REPLACE FUNCTION billing.lock_invoices(invoice_ids bigint[], allowed text[], action text)
RETURNS void LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	missing bigint[];
	bad record;
BEGIN
	IF invoice_ids IS NULL OR array_position(invoice_ids, NULL) IS NOT NULL THEN
		RAISE EXCEPTION 'cannot % invoices: the selection contains NULL', action
			USING ERRCODE = 'null_value_not_allowed', HINT = 'Pass an array of invoice ids.';
	END IF;
	PERFORM 1 FROM billing.invoice i WHERE i.id = ANY (invoice_ids) ORDER BY i.id FOR UPDATE;
	SELECT array_agg(DISTINCT x ORDER BY x) INTO missing
	FROM unnest(invoice_ids) AS x
	WHERE NOT EXISTS (SELECT 1 FROM billing.invoice i WHERE i.id = x);
	IF missing IS NOT NULL THEN
		RAISE EXCEPTION 'cannot % invoices: invoice % does not exist', action,
			array_to_string(missing, ', ')
			USING ERRCODE = 'no_data_found', HINT = 'Nothing was changed; remove the missing ids and try again.';
	END IF;
	SELECT i.id, i.status INTO bad FROM billing.invoice i
	WHERE i.id = ANY (invoice_ids) AND i.status <> ALL (allowed) ORDER BY i.id LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'cannot % invoice %: it is %', action, bad.id, bad.status
			USING ERRCODE = 'object_not_in_prerequisite_state',
			      DETAIL = format('Only %s invoices can be %s.', array_to_string(allowed, ' or '),
			                      CASE action WHEN 'delete' THEN 'deleted' ELSE action || 'ed' END),
			      HINT = 'Nothing was changed; leave that invoice out of the selection.';
	END IF;
END
$$;

-- billing.confirm_invoices turns drafts (or quarantined invoices) into
-- billing invoices and adds purchases + tax - deposit to each buyer's
-- balance, in the same transaction
CREATE OR REPLACE FUNCTION billing.confirm_invoices(invoice_ids bigint[]) RETURNS SETOF billing.invoice
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	PERFORM billing.lock_invoices(invoice_ids, ARRAY['draft', 'quarantined'], 'confirm');
	PERFORM 1 FROM billing.buyer b
	WHERE b.id IN (SELECT i.buyer_id FROM billing.invoice i WHERE i.id = ANY (invoice_ids))
	ORDER BY b.id FOR UPDATE;
	RETURN QUERY
	WITH confirmed AS (
		UPDATE billing.invoice i SET status = 'confirmed', status_reason = NULL, confirmed_at = now()
		WHERE i.id = ANY (invoice_ids)
		RETURNING i.*
	), balance AS (
		UPDATE billing.buyer b SET billing_balance = b.billing_balance + c.change
		FROM (SELECT buyer_id, sum(purchases + tax - deposit) AS change
		      FROM confirmed GROUP BY buyer_id) AS c
		WHERE b.id = c.buyer_id
	)
	SELECT * FROM confirmed ORDER BY id;
END
$$;

-- billing.delete_drafts deletes drafts with their tax lines and links; their
-- documents become eligible again.  Returns how many were deleted.
CREATE OR REPLACE FUNCTION billing.delete_drafts(invoice_ids bigint[]) RETURNS integer
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	deleted integer;
BEGIN
	PERFORM billing.lock_invoices(invoice_ids, ARRAY['draft'], 'delete');
	DELETE FROM billing.document_link l USING billing.invoice i
	WHERE i.id = ANY (invoice_ids) AND l.buyer_id = i.buyer_id AND l.invoice_id = i.id;
	DELETE FROM billing.invoice_tax_line t USING billing.invoice i
	WHERE i.id = ANY (invoice_ids) AND t.buyer_id = i.buyer_id AND t.invoice_id = i.id;
	DELETE FROM billing.invoice i WHERE i.id = ANY (invoice_ids);
	GET DIAGNOSTICS deleted = ROW_COUNT;
	RETURN deleted;
END
$$;

-- billing.quarantine_invoices sets drafts aside for checking
CREATE OR REPLACE FUNCTION billing.quarantine_invoices(invoice_ids bigint[], reason text) RETURNS SETOF billing.invoice
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	PERFORM billing.lock_invoices(invoice_ids, ARRAY['draft'], 'quarantine');
	RETURN QUERY UPDATE billing.invoice i SET status = 'quarantined', status_reason = reason
	WHERE i.id = ANY (invoice_ids) RETURNING i.*;
END
$$;

-- billing.reject_invoices refuses drafts or quarantined invoices, with a reason
CREATE OR REPLACE FUNCTION billing.reject_invoices(invoice_ids bigint[], reason text) RETURNS SETOF billing.invoice
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF reason IS NULL OR btrim(reason) = '' THEN
		RAISE EXCEPTION 'rejecting invoices needs a reason'
			USING ERRCODE = 'invalid_parameter_value', HINT = 'Say why, for the record: reject_invoices(ids, ''wrong prices'').';
	END IF;
	PERFORM billing.lock_invoices(invoice_ids, ARRAY['draft', 'quarantined'], 'reject');
	RETURN QUERY UPDATE billing.invoice i SET status = 'rejected', status_reason = reason
	WHERE i.id = ANY (invoice_ids) RETURNING i.*;
END
$$;

-- billing.cancel_invoices cancels unconfirmed invoices and frees their
-- documents for a later run; a confirmed invoice is corrected by a credit
-- note instead
CREATE OR REPLACE FUNCTION billing.cancel_invoices(invoice_ids bigint[]) RETURNS SETOF billing.invoice
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	PERFORM billing.lock_invoices(invoice_ids, ARRAY['draft', 'quarantined', 'rejected'], 'cancel');
	DELETE FROM billing.document_link l USING billing.invoice i
	WHERE i.id = ANY (invoice_ids) AND l.buyer_id = i.buyer_id AND l.invoice_id = i.id;
	RETURN QUERY UPDATE billing.invoice i SET status = 'cancelled'
	WHERE i.id = ANY (invoice_ids) RETURNING i.*;
END
$$;
