-- sql/updates/0.1--0.2.sql: the changes to run-once objects (tables, types)
-- from 0.1 to 0.2.  sql/assemble.sh puts this in place of the tables in
-- billing--0.1--0.2.sql; functions, triggers, views, comments and grants are
-- re-created from sql/billing/ after it.

-- issue 8: the master data a qualified invoice needs, the run's own actions
-- (disable/enable, process), and earlier master data for confirmed invoices'
-- XML.  The same columns and constraints as in sql/billing/tables.sql.
ALTER TABLE billing.brand
	ADD COLUMN legal_name text,
	ADD COLUMN registration_number text CONSTRAINT brand_registration_number_format
		CHECK (registration_number ~ '^T[0-9]{13}$'),
	ADD COLUMN postal_code text,
	ADD COLUMN prefecture text,
	ADD COLUMN city text,
	ADD COLUMN address_line text,
	ADD COLUMN country text NOT NULL DEFAULT 'JP' CONSTRAINT brand_country_format CHECK (country ~ '^[A-Z]{2}$'),
	ADD COLUMN peppol_scheme text,
	ADD COLUMN peppol_id text,
	ADD CONSTRAINT brand_peppol_endpoint CHECK ((peppol_scheme IS NULL) = (peppol_id IS NULL)
		AND (peppol_scheme IS NULL OR (peppol_scheme ~ '^[0-9]{4}$' AND peppol_id ~ '^[^[:space:]]+$')));
ALTER TABLE billing.buyer
	ADD COLUMN postal_code text,
	ADD COLUMN prefecture text,
	ADD COLUMN city text,
	ADD COLUMN address_line text,
	ADD COLUMN country text NOT NULL DEFAULT 'JP' CONSTRAINT buyer_country_format CHECK (country ~ '^[A-Z]{2}$'),
	ADD COLUMN peppol_scheme text,
	ADD COLUMN peppol_id text,
	ADD CONSTRAINT buyer_peppol_endpoint CHECK ((peppol_scheme IS NULL) = (peppol_id IS NULL)
		AND (peppol_scheme IS NULL OR (peppol_scheme ~ '^[0-9]{4}$' AND peppol_id ~ '^[^[:space:]]+$')));
ALTER TABLE billing.document ADD COLUMN description text;
ALTER TABLE billing.invoice_run
	ADD COLUMN enabled boolean NOT NULL DEFAULT true,
	ADD COLUMN validated_at timestamptz,
	ADD COLUMN validated_by text;

CREATE SEQUENCE billing.master_data_version_id_seq;
CREATE TABLE billing.master_data_version (
	id bigint PRIMARY KEY DEFAULT nextval('billing.master_data_version_id_seq'),
	table_name text NOT NULL CONSTRAINT master_data_version_table
		CHECK (table_name IN ('brand', 'buyer', 'bank_account')),
	row_id bigint NOT NULL,
	valid_until timestamptz NOT NULL,
	data jsonb NOT NULL
);
ALTER SEQUENCE billing.master_data_version_id_seq OWNED BY billing.master_data_version.id;
CREATE INDEX master_data_version_row_idx ON billing.master_data_version (table_name, row_id, valid_until);
