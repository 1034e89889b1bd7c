-- test/xml_reference.sql: billing.invoices_xml as it was up to c172ca5 (one
-- xmlelement per node), renamed billing_internal.invoices_xml_reference: the
-- bytes the C writer (src/invoice_xml.c) must give.  Not part of the
-- extension: test/t/018_xml_same_bytes.pl creates it in each database it checks.
-- Keep it as it is: it is the reference, not code to improve.
CREATE OR REPLACE FUNCTION billing_internal.invoices_xml_reference(VARIADIC invoice_ids bigint[])
RETURNS TABLE (invoice_id bigint, buyer_id bigint, xml xml)
LANGUAGE plpgsql STABLE PARALLEL RESTRICTED SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	brands bigint[] := billing_internal.caller_brands();
BEGIN
	RETURN QUERY
	WITH inv AS (
		SELECT i.*, sb.name AS brand_name, sb.legal_name, sb.registration_number,
		       sb.postal_code AS brand_postal_code, sb.prefecture AS brand_prefecture,
		       sb.city AS brand_city, sb.address_line AS brand_address_line,
		       sb.country AS brand_country, sb.peppol_scheme AS brand_peppol_scheme,
		       sb.peppol_id AS brand_peppol_id, sb.currency_scale AS scale,
		       sy.code AS buyer_code, sy.name AS buyer_name, sy.postal_code AS buyer_postal_code,
		       sy.prefecture AS buyer_prefecture, sy.city AS buyer_city,
		       sy.address_line AS buyer_address_line, sy.country AS buyer_country,
		       sy.peppol_scheme AS buyer_peppol_scheme, sy.peppol_id AS buyer_peppol_id,
		       sa.id AS account_id, sa.bank_name, sa.branch_name, sa.account_number,
		       sa.account_holder, sa.iban,
		       ln.lines, ln.line_xml, tx.subtotals
		FROM billing.invoice i
		JOIN billing.brand br ON br.id = i.brand_id
		JOIN billing.buyer bu ON bu.id = i.buyer_id AND bu.brand_id = i.brand_id
		LEFT JOIN billing.bank_account ba ON ba.id = i.bank_account_id AND ba.brand_id = i.brand_id
		-- A confirmed invoice: the master data version in force when it was
		-- confirmed; if that lacked what the XML needs (so it had no XML yet),
		-- the first later version that has it; the current row when no later
		-- version qualifies.
		LEFT JOIN LATERAL (SELECT v.data FROM billing.master_data_version v
		                   WHERE i.confirmed_at IS NOT NULL AND v.table_name = 'brand'
		                     AND v.row_id = i.brand_id AND v.valid_until > i.confirmed_at
		                     AND nullif(btrim(v.data->>'legal_name'), '') IS NOT NULL
		                     AND v.data->>'registration_number' IS NOT NULL
		                     AND nullif(btrim(v.data->>'address_line'), '') IS NOT NULL
		                     AND v.data->>'peppol_id' IS NOT NULL
		                   ORDER BY v.valid_until, v.id LIMIT 1) AS vbr ON true
		LEFT JOIN LATERAL (SELECT v.data FROM billing.master_data_version v
		                   WHERE i.confirmed_at IS NOT NULL AND v.table_name = 'buyer'
		                     AND v.row_id = i.buyer_id AND v.valid_until > i.confirmed_at
		                     AND nullif(btrim(v.data->>'address_line'), '') IS NOT NULL
		                     AND v.data->>'peppol_id' IS NOT NULL
		                   ORDER BY v.valid_until, v.id LIMIT 1) AS vby ON true
		LEFT JOIN LATERAL (SELECT v.data FROM billing.master_data_version v
		                   WHERE i.confirmed_at IS NOT NULL AND v.table_name = 'bank_account'
		                     AND v.row_id = i.bank_account_id AND v.valid_until > i.confirmed_at
		                   ORDER BY v.valid_until, v.id LIMIT 1) AS vba ON true
		CROSS JOIN LATERAL jsonb_populate_record(br, coalesce(vbr.data, '{}')) AS sb
		CROSS JOIN LATERAL jsonb_populate_record(bu, coalesce(vby.data, '{}')) AS sy
		LEFT JOIN LATERAL jsonb_populate_record(ba, coalesce(vba.data, '{}')) AS sa ON ba.id IS NOT NULL
		-- the lines: every linked document but payments, by date
		CROSS JOIN LATERAL (
			SELECT count(*)::integer AS lines,
			       xmlagg(xmlelement(name "cac:InvoiceLine",
			           xmlforest(d.line_no AS "cbc:ID", d.kind_label AS "cbc:Note"),
			           xmlelement(name "cbc:InvoicedQuantity", xmlattributes('H87' AS "unitCode"),
			                      CASE WHEN d.signed < 0 THEN -1 ELSE 1 END),
			           xmlelement(name "cbc:LineExtensionAmount", xmlattributes(i.currency AS "currencyID"),
			                      round(d.signed, br.currency_scale)),
			           xmlelement(name "cac:InvoicePeriod",
			               xmlforest(d.document_date AS "cbc:StartDate", d.document_date AS "cbc:EndDate")),
			           xmlelement(name "cac:DocumentReference", xmlforest(d.reference AS "cbc:ID")),
			           xmlelement(name "cac:Item",
			               xmlforest(d.item_name AS "cbc:Name"),
			               xmlelement(name "cac:ClassifiedTaxCategory",
			                   xmlforest(billing_internal.tax_category(d.tax_rate) AS "cbc:ID",
			                             trim_scale(d.tax_rate * 100) AS "cbc:Percent"),
			                   xmlelement(name "cac:TaxScheme", xmlforest('VAT' AS "cbc:ID")))),
			           xmlelement(name "cac:Price",
			               xmlelement(name "cbc:PriceAmount", xmlattributes(i.currency AS "currencyID"),
			                          round(abs(d.signed), br.currency_scale)),
			               xmlelement(name "cbc:BaseQuantity", xmlattributes('H87' AS "unitCode"), 1)))
			           ORDER BY d.line_no) AS line_xml
			FROM (SELECT d.document_date, d.reference, d.tax_rate,
			             CASE d.kind WHEN 'delivery_invoice' THEN d.amount ELSE -d.amount END AS signed,
			             CASE d.kind WHEN 'delivery_invoice' THEN '納品' WHEN 'return_note' THEN '返品'
			                         ELSE '値引' END AS kind_label,
			             coalesce(nullif(btrim(d.description), ''),
			                      CASE d.kind WHEN 'delivery_invoice' THEN '納品 ' WHEN 'return_note' THEN '返品 '
			                                  ELSE '値引 ' END || d.reference) AS item_name,
			             row_number() OVER (ORDER BY d.document_date, d.id) AS line_no
			      FROM billing.document_link l
			      JOIN billing.document d ON d.buyer_id = l.buyer_id AND d.id = l.document_id
			      WHERE l.buyer_id = i.buyer_id AND l.invoice_id = i.id
			        AND d.kind <> 'payment') AS d
		) AS ln
		-- the tax breakdown: the invoice's own tax lines
		CROSS JOIN LATERAL (
			SELECT xmlagg(xmlelement(name "cac:TaxSubtotal",
			           xmlelement(name "cbc:TaxableAmount", xmlattributes(i.currency AS "currencyID"),
			                      round(t.taxable_amount, br.currency_scale)),
			           xmlelement(name "cbc:TaxAmount", xmlattributes(i.currency AS "currencyID"),
			                      round(t.tax, br.currency_scale)),
			           xmlelement(name "cac:TaxCategory",
			               xmlforest(billing_internal.tax_category(t.tax_rate) AS "cbc:ID",
			                         trim_scale(t.tax_rate * 100) AS "cbc:Percent"),
			               xmlelement(name "cac:TaxScheme", xmlforest('VAT' AS "cbc:ID"))))
			           ORDER BY t.tax_rate DESC) AS subtotals
			FROM billing.invoice_tax_line t
			WHERE t.buyer_id = i.buyer_id AND t.invoice_id = i.id
		) AS tx
		WHERE i.id = ANY (invoice_ids)
		  AND (brands IS NULL OR i.brand_id = ANY (brands))
	), checked AS (
		SELECT inv.*,
		       billing_internal.xml_missing_brand(inv.legal_name, inv.registration_number, inv.brand_address_line,
		                                 inv.brand_peppol_id)
		       || billing_internal.xml_missing_buyer(inv.buyer_address_line, inv.buyer_peppol_id, inv.buyer_code) AS missing
		FROM inv
		WHERE inv.lines > 0
	)
	SELECT c.id, c.buyer_id,
	       CASE WHEN cardinality(c.missing) > 0 THEN billing_internal.refuse_incomplete_xml(c.id, c.missing) ELSE
	       xmlelement(name "Invoice",
	           xmlattributes('urn:oasis:names:specification:ubl:schema:xsd:Invoice-2' AS xmlns,
	                         'urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2' AS "xmlns:cac",
	                         'urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2' AS "xmlns:cbc"),
	           xmlforest('urn:peppol:pint:billing-1@jp-1' AS "cbc:CustomizationID",
	                     'urn:peppol:bis:billing' AS "cbc:ProfileID",
	                     coalesce(c.invoice_number, 'DRAFT-' || c.id) AS "cbc:ID",
	                     c.invoice_date AS "cbc:IssueDate",
	                     c.due_date AS "cbc:DueDate",
	                     380 AS "cbc:InvoiceTypeCode",
	                     c.currency AS "cbc:DocumentCurrencyCode"),
	           xmlelement(name "cac:InvoicePeriod",
	               xmlforest(lower(c.period) AS "cbc:StartDate", upper(c.period) - 1 AS "cbc:EndDate")),
	           xmlelement(name "cac:AccountingSupplierParty", xmlelement(name "cac:Party",
	               xmlelement(name "cbc:EndpointID", xmlattributes(c.brand_peppol_scheme AS "schemeID"),
	                          c.brand_peppol_id),
	               xmlelement(name "cac:PartyName", xmlforest(c.brand_name AS "cbc:Name")),
	               xmlelement(name "cac:PostalAddress",
	                   xmlforest(nullif(btrim(c.brand_address_line), '') AS "cbc:StreetName",
	                             nullif(btrim(c.brand_city), '') AS "cbc:CityName",
	                             nullif(btrim(c.brand_postal_code), '') AS "cbc:PostalZone",
	                             nullif(btrim(c.brand_prefecture), '') AS "cbc:CountrySubentity"),
	                   xmlelement(name "cac:Country", xmlforest(c.brand_country AS "cbc:IdentificationCode"))),
	               xmlelement(name "cac:PartyTaxScheme",
	                   xmlforest(c.registration_number AS "cbc:CompanyID"),
	                   xmlelement(name "cac:TaxScheme", xmlforest('VAT' AS "cbc:ID"))),
	               xmlelement(name "cac:PartyLegalEntity",
	                   xmlforest(btrim(c.legal_name) AS "cbc:RegistrationName")))),
	           xmlelement(name "cac:AccountingCustomerParty", xmlelement(name "cac:Party",
	               xmlelement(name "cbc:EndpointID", xmlattributes(c.buyer_peppol_scheme AS "schemeID"),
	                          c.buyer_peppol_id),
	               xmlelement(name "cac:PartyIdentification", xmlforest(c.buyer_code AS "cbc:ID")),
	               xmlelement(name "cac:PartyName", xmlforest(c.buyer_name AS "cbc:Name")),
	               xmlelement(name "cac:PostalAddress",
	                   xmlforest(nullif(btrim(c.buyer_address_line), '') AS "cbc:StreetName",
	                             nullif(btrim(c.buyer_city), '') AS "cbc:CityName",
	                             nullif(btrim(c.buyer_postal_code), '') AS "cbc:PostalZone",
	                             nullif(btrim(c.buyer_prefecture), '') AS "cbc:CountrySubentity"),
	                   xmlelement(name "cac:Country", xmlforest(c.buyer_country AS "cbc:IdentificationCode"))),
	               xmlelement(name "cac:PartyLegalEntity",
	                   xmlforest(c.buyer_name AS "cbc:RegistrationName")))),
	           CASE WHEN c.account_id IS NOT NULL THEN
	               xmlelement(name "cac:PaymentMeans",
	                   xmlelement(name "cbc:PaymentMeansCode", xmlattributes('Credit transfer' AS name), 30),
	                   xmlforest(coalesce(c.invoice_number, 'DRAFT-' || c.id) AS "cbc:PaymentID"),
	                   xmlelement(name "cac:PayeeFinancialAccount",
	                       xmlforest(coalesce(nullif(btrim(c.iban), ''), c.account_number) AS "cbc:ID",
	                                 c.account_holder AS "cbc:Name"),
	                       xmlelement(name "cac:FinancialInstitutionBranch",
	                           xmlforest(concat_ws(' ', c.bank_name, nullif(btrim(c.branch_name), '')) AS "cbc:Name"))))
	           END,
	           xmlelement(name "cac:TaxTotal",
	               xmlelement(name "cbc:TaxAmount", xmlattributes(c.currency AS "currencyID"),
	                          round(c.tax, c.scale)),
	               c.subtotals),
	           xmlelement(name "cac:LegalMonetaryTotal",
	               xmlelement(name "cbc:LineExtensionAmount", xmlattributes(c.currency AS "currencyID"),
	                          round(c.purchases, c.scale)),
	               xmlelement(name "cbc:TaxExclusiveAmount", xmlattributes(c.currency AS "currencyID"),
	                          round(c.purchases, c.scale)),
	               xmlelement(name "cbc:TaxInclusiveAmount", xmlattributes(c.currency AS "currencyID"),
	                          round(c.purchases + c.tax, c.scale)),
	               xmlelement(name "cbc:PayableAmount", xmlattributes(c.currency AS "currencyID"),
	                          round(c.purchases + c.tax, c.scale))),
	           c.line_xml)
	       END
	FROM checked c
	ORDER BY c.id;
END
$$;
