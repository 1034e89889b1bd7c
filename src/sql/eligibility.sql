-- src/sql/eligibility.sql: which documents a draft may take

-- billing_internal.uninvoiced_documents: the documents a run may still bill, whatever
-- their period and buyer: not on any invoice, not closed for good by a
-- cancelled run, and (delivery invoices) billable.  The one definition of
-- the seed's eligibility rule: runs and previews (billing_internal.draft_rows) call
-- it, the view billing.uninvoiced_document shows it.
--
-- since_document_id: only documents from this id on, and only links to
-- them are looked at.  Documents get ids in the order they are written, so
-- a run passes the smallest id of its period's documents and the link
-- lookup reads only recent links through the BRIN index on
-- document_link (document_id): a run stays as fast with years of invoiced
-- history as without.  A document committed later with a smaller id is
-- simply left for the next run; the links' primary key still guards
-- against billing anything twice.  0 looks at everything.
--
-- A SQL-standard body: parsed and bound when the extension is installed,
-- whatever the caller's search_path, and still inlined into the caller's
-- statement (LANGUAGE sql, STABLE, neither STRICT nor SET).  Executable by
-- PUBLIC: it reads with the caller's rights, and the security_invoker view
-- below is made of it.
CREATE OR REPLACE FUNCTION billing_internal.uninvoiced_documents(since_document_id bigint)
RETURNS SETOF billing.document LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
	SELECT d.*
	FROM billing.document d
	WHERE d.id >= uninvoiced_documents.since_document_id
	  AND (d.billable OR d.kind <> 'delivery_invoice')
	  AND NOT d.never_invoice
	  AND NOT EXISTS (SELECT 1 FROM billing.document_link l
	                  WHERE l.buyer_id = d.buyer_id
	                    AND l.document_id = d.id
	                    AND l.document_id >= uninvoiced_documents.since_document_id);
END;
COMMENT ON FUNCTION billing_internal.uninvoiced_documents(bigint) IS
	'documents from since_document_id on that a run may still bill: on no invoice, not closed for good, billable (deliveries); the eligibility rule';
GRANT EXECUTE ON FUNCTION billing_internal.uninvoiced_documents(bigint) TO PUBLIC;

-- billing.uninvoiced_document: every document a run may still bill (the
-- rule above over all documents).  It reads with the caller's rights
-- (security_invoker), so it shows no more than the caller may see of
-- billing.document.
CREATE OR REPLACE VIEW billing.uninvoiced_document WITH (security_invoker = true) AS
SELECT d.*
FROM billing_internal.uninvoiced_documents(0) AS d;
COMMENT ON VIEW billing.uninvoiced_document IS
	'documents a run may still bill: on no invoice, not closed for good, and billable (deliveries)';
