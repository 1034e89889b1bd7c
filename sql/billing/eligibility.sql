-- sql/billing/eligibility.sql: which documents a draft may take

-- billing.uninvoiced_document: the documents a run may still bill, whatever
-- their period and buyer: not on any invoice, not closed for good by a
-- cancelled run, and (delivery invoices) billable.  The one definition of
-- the seed's eligibility rule, used by runs, previews and the document
-- status; a run adds its brand, its buyers and its period.  It reads with
-- the caller's rights (security_invoker), so it shows no more than the
-- caller may see of billing.document.
CREATE OR REPLACE VIEW billing.uninvoiced_document WITH (security_invoker = true) AS
SELECT d.*
FROM billing.document d
WHERE (d.billable OR d.kind OPERATOR(pg_catalog.<>) 'delivery_invoice')
  AND NOT d.never_invoice
  AND NOT EXISTS (SELECT 1 FROM billing.document_link l
                  WHERE l.buyer_id OPERATOR(pg_catalog.=) d.buyer_id
                    AND l.document_id OPERATOR(pg_catalog.=) d.id);
COMMENT ON VIEW billing.uninvoiced_document IS
	'documents a run may still bill: on no invoice, not closed for good, and billable (deliveries)';
