-- test/citus/readers.sql: the XML readers (plan step 9) on a database whose
-- tables run.sh placed with readers_setup.sql's rows, a run and a
-- confirmed invoice in them; run.sh runs it on a database where billing
-- stays local too, and the two outputs must be the same (and
-- expected/readers.out): invoice_xml, run_xml and invoices_xml as the
-- superuser, a confirmed invoice's XML from its master data version, an
-- invoice confirmed on the placed tables, and each brand's role reading
-- its own invoices' XML and not the other brand's.
\set VERBOSITY terse
SELECT i.id, b.code, i.status, i.invoice_number FROM billing.invoice i
JOIN billing.buyer b ON b.id = i.buyer_id ORDER BY i.id;
-- every invoice's XML, one call each (md5 of its bytes, its size)
SELECT format('SELECT %s AS invoice, md5(x::text), length(x::text) FROM billing.invoice_xml(%s) AS x', id, id)
FROM billing.invoice ORDER BY id \gexec
-- every run's XML
SELECT format('SELECT %s AS run, invoice_id, buyer, md5(xml::text) FROM billing.run_xml(%s) ORDER BY invoice_id', id, id)
FROM billing.invoice_run ORDER BY id \gexec
-- all invoices at once
SELECT invoice_id, buyer_id, md5(xml::text)
FROM billing.invoices_xml(VARIADIC (SELECT array_agg(id) FROM billing.invoice)) ORDER BY invoice_id;
-- the confirmed invoice of CA1 keeps the address it had when confirmed;
-- a draft has CA1's address now (none here: CA1's one invoice is confirmed)
SELECT i.id, position('梅田CA1' IN billing.invoice_xml(i.id)::text) > 0 AS address_when_confirmed,
       position('移転先' IN billing.invoice_xml(i.id)::text) > 0 AS address_now
FROM (SELECT min(i.id) AS id FROM billing.invoice i JOIN billing.buyer b ON b.id = i.buyer_id
      WHERE b.code = 'CA1') AS i;
-- the content escaped (the return's description)
SELECT position('返品 &lt;箱&gt; &amp; 袋' IN billing.invoice_xml(min(i.id))::text) > 0 AS escaped
FROM billing.invoice i JOIN billing.buyer b ON b.id = i.buyer_id WHERE b.code = 'CA1';
-- an invoice confirmed here: its number, then its XML
SELECT min(i.id) AS ca2 FROM billing.invoice i JOIN billing.buyer b ON b.id = i.buyer_id
WHERE b.code = 'CA2' AND i.status = 'draft' \gset
SELECT invoice_number, status FROM billing.confirm_invoices(:ca2);
SELECT md5(billing.invoice_xml(:ca2)::text), position('<cbc:ID>ACME-' IN billing.invoice_xml(:ca2)::text) > 0 AS numbered;
-- each brand's role (a login role: Citus connects to the workers as the
-- querying role) reads its brand's XML, and another brand's does not exist
CREATE ROLE billing_test_xml_acme LOGIN;
CREATE ROLE billing_test_xml_other LOGIN;
SELECT billing.grant_brand('ACME', 'billing_test_xml_acme'), billing.grant_brand('OTHER', 'billing_test_xml_other');
GRANT USAGE ON SCHEMA billing TO billing_test_xml_acme, billing_test_xml_other;
-- what the README's recipe grants billing_reader, of what the XML reads
GRANT SELECT ON billing.brand, billing.bank_account, billing.buyer, billing.document, billing.invoice,
	billing.invoice_tax_line, billing.document_link, billing.invoice_run, billing.master_data_version TO billing_test_xml_acme, billing_test_xml_other;
GRANT EXECUTE ON FUNCTION billing.invoice_xml, billing.run_xml, billing.invoices_xml
	TO billing_test_xml_acme, billing_test_xml_other;
SELECT max(r.id) AS acme_run FROM billing.invoice_run r JOIN billing.brand b ON b.id = r.brand_id
WHERE b.code = 'ACME' \gset
SELECT array_agg(id ORDER BY id) AS all_invoices FROM billing.invoice \gset
SET ROLE billing_test_xml_acme;
SELECT count(*) AS acme_run_xml, count(DISTINCT buyer) AS buyers FROM billing.run_xml(:acme_run);
SELECT invoice_id, md5(xml::text) FROM billing.invoices_xml(VARIADIC :'all_invoices'::bigint[]) ORDER BY invoice_id;
SELECT md5(billing.invoice_xml(:ca2)::text) AS own_invoice;
RESET ROLE;
SET ROLE billing_test_xml_other;
SELECT count(*) FROM billing.run_xml(:acme_run);
SELECT billing.invoice_xml(:ca2);
SELECT invoice_id, md5(xml::text) FROM billing.invoices_xml(VARIADIC :'all_invoices'::bigint[]) ORDER BY invoice_id;
RESET ROLE;
REVOKE ALL ON billing.brand, billing.bank_account, billing.buyer, billing.document, billing.invoice,
	billing.invoice_tax_line, billing.document_link, billing.invoice_run, billing.master_data_version FROM billing_test_xml_acme, billing_test_xml_other;
REVOKE USAGE ON SCHEMA billing FROM billing_test_xml_acme, billing_test_xml_other;
REVOKE EXECUTE ON FUNCTION billing.invoice_xml, billing.run_xml, billing.invoices_xml
	FROM billing_test_xml_acme, billing_test_xml_other;
SELECT billing.revoke_brand('ACME', 'billing_test_xml_acme'), billing.revoke_brand('OTHER', 'billing_test_xml_other');
DROP ROLE billing_test_xml_acme;
DROP ROLE billing_test_xml_other;
