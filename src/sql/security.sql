-- src/sql/security.sql: who may do what.  The caller and its brands,
-- brand grants, the write guard on records, row level security on every
-- table that holds brand data, and the API functions that run as the
-- extension's owner.  README.md, "Security", has the DBA's recipe.

------------------------------------------------------------------------------
-- The caller and its brands.
--
-- The API functions run as the extension's owner (SECURITY DEFINER), so
-- inside them current_user is the owner.  The caller they check is the role
-- current outside any SECURITY DEFINER call: current_user as the session set
-- it by logging in, SET ROLE or SET SESSION AUTHORIZATION.  Row level
-- security, for what a role reads and writes itself, uses current_user, as
-- PostgreSQL does; at the outer level the two are the same role.
------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION billing_internal.calling_role() RETURNS regrole
	AS 'MODULE_PATHNAME', 'billing_calling_role' LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION billing_internal.calling_role() IS
	'the role that called into billing: current_user outside any SECURITY DEFINER function (login, SET ROLE, SET SESSION AUTHORIZATION)';
GRANT EXECUTE ON FUNCTION billing_internal.calling_role() TO PUBLIC;

-- Each granted brand has a role of its own, billing_brand_<id>_<database
-- tag> (src/brand_wall.c), whose members are the roles granted the brand:
-- a role sees a brand when it has the privileges of one of them.  The
-- brand walls read that from the catalog alone, so they read no table (on
-- Citus a policy is evaluated on the shard, doc/citus.md).  The grant
-- table, billing.brand_grant, is the record of who granted what and when;
-- grant_brand and revoke_brand keep the two in step, and billing.verify()
-- reports where they differ.
CREATE OR REPLACE FUNCTION billing_internal.brand_role_name(brand_id bigint) RETURNS name
	AS 'MODULE_PATHNAME', 'billing_brand_role_name' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION billing_internal.brand_role_name(bigint) IS
	'the name of the role whose members see a brand: billing_brand_<id>_<first 8 hex digits of md5(current_database())>';
REVOKE ALL ON FUNCTION billing_internal.brand_role_name(bigint) FROM PUBLIC;

CREATE OR REPLACE FUNCTION billing_internal.brand_of_role(role_name name) RETURNS bigint
	AS 'MODULE_PATHNAME', 'billing_brand_of_role' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION billing_internal.brand_of_role(name) IS
	'the id of the brand whose role this is in the current database (brand_role_name read back), or NULL';
REVOKE ALL ON FUNCTION billing_internal.brand_of_role(name) FROM PUBLIC;

CREATE OR REPLACE FUNCTION billing_internal.visible_brands() RETURNS bigint[]
	AS 'MODULE_PATHNAME', 'billing_visible_brands' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION billing_internal.visible_brands() IS
	'ids of the brands current_user sees (a member of a brand''s role, or with the privileges of one): what the brand walls test; reads only the catalog';
GRANT EXECUTE ON FUNCTION billing_internal.visible_brands() TO PUBLIC;

CREATE OR REPLACE FUNCTION billing_internal.role_brands(role oid) RETURNS bigint[]
	AS 'MODULE_PATHNAME', 'billing_role_brands' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION billing_internal.role_brands(oid) IS
	'ids of the brands a given role sees, as visible_brands() says of current_user';
GRANT EXECUTE ON FUNCTION billing_internal.role_brands(oid) TO PUBLIC;

-- billing_internal.caller_brands: the ids of the brands the caller may see
-- (as the brand walls say, for the calling role rather than the owner the
-- API runs as); NULL when the caller sees every brand (a superuser or a
-- role with BYPASSRLS, as row level security lets them)
CREATE OR REPLACE FUNCTION billing_internal.caller_brands() RETURNS bigint[]
LANGUAGE sql STABLE PARALLEL RESTRICTED SET search_path = pg_catalog, pg_temp AS $$
	SELECT CASE WHEN r.rolsuper OR r.rolbypassrls THEN NULL
	            ELSE billing_internal.role_brands(r.oid) END
	FROM pg_roles r WHERE r.oid = billing_internal.calling_role()::oid
$$;
COMMENT ON FUNCTION billing_internal.caller_brands() IS
	'ids of the brands the calling role may see (its grants and those of roles it is a member of); NULL: every brand (superuser, BYPASSRLS)';
GRANT EXECUTE ON FUNCTION billing_internal.caller_brands() TO PUBLIC;

-- billing_internal.keep_brand_membership: the grantee a member of the
-- brand's role (made NOLOGIN on first use), or not; true when it changed
CREATE OR REPLACE FUNCTION billing_internal.keep_brand_membership(brand_id bigint, grantee oid, member boolean)
RETURNS boolean
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	brand_role name := billing_internal.brand_role_name(brand_id);
	brand_role_oid oid;
	grantee_name name;
	intruders text;
BEGIN
	SELECT r.rolname INTO grantee_name FROM pg_roles r WHERE r.oid = grantee;
	IF NOT FOUND THEN
		RETURN false;
	END IF;
	SELECT r.oid INTO brand_role_oid FROM pg_roles r WHERE r.rolname = brand_role;
	IF member AND brand_role_oid IS NULL THEN
		EXECUTE format('CREATE ROLE %I NOLOGIN', brand_role);
		EXECUTE format('COMMENT ON ROLE %I IS %L', brand_role,
			format('billing: its members see brand %s of database %s; made by billing.grant_brand, changed by grant_brand and revoke_brand',
			       brand_id, current_database()));
		SELECT r.oid INTO brand_role_oid FROM pg_roles r WHERE r.rolname = brand_role;
	END IF;
	-- a role made before the brand's first grant (by someone with CREATEROLE)
	-- may hold members billing never granted: refused, not adopted
	IF member THEN
		SELECT string_agg(m.member::regrole::text, ', ' ORDER BY m.member::regrole::text) INTO intruders
		FROM pg_auth_members m
		WHERE m.roleid = brand_role_oid
		  AND NOT EXISTS (SELECT 1 FROM billing.brand_grant g
		                  WHERE g.brand_id = keep_brand_membership.brand_id AND g.grantee::oid = m.member);
		IF intruders IS NOT NULL THEN
			RAISE EXCEPTION 'role % has members that billing never granted brand %: %', brand_role,
				(SELECT b.code FROM billing.brand b WHERE b.id = keep_brand_membership.brand_id), intruders
				USING ERRCODE = 'object_not_in_prerequisite_state',
				      DETAIL = 'Its members see the brand''s rows; billing.grant_brand makes its members only from billing.brand_grant.',
				      HINT = format('REVOKE %I FROM %s; then grant again.  billing.verify() lists such memberships.', brand_role, intruders);
		END IF;
	END IF;
	IF brand_role_oid IS NULL
	   OR member = EXISTS (SELECT 1 FROM pg_auth_members m WHERE m.roleid = brand_role_oid AND m.member = grantee) THEN
		RETURN false;
	END IF;
	EXECUTE format(CASE WHEN member THEN 'GRANT %I TO %I' ELSE 'REVOKE %I FROM %I' END, brand_role, grantee_name);
	RETURN true;
END
$$;
COMMENT ON FUNCTION billing_internal.keep_brand_membership(bigint, oid, boolean) IS
	'makes a role a member of a brand''s role (creating it) or not; true when that changed';
REVOKE ALL ON FUNCTION billing_internal.keep_brand_membership(bigint, oid, boolean) FROM PUBLIC;

-- billing.grant_brand gives a role (and its members) a brand: its rows
-- through row level security, and its schedules, runs and invoices through
-- the functions.  Returns false when the role already had it.  Run again,
-- it puts back a membership lost (a database renamed, roles restored
-- elsewhere).
CREATE OR REPLACE FUNCTION billing.grant_brand(brand text, grantee regrole) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	granted bigint;
	recorded boolean;
BEGIN
	IF grantee IS NULL THEN
		RAISE EXCEPTION 'granting brand "%" needs a role', brand
			USING ERRCODE = 'null_value_not_allowed', HINT = 'SELECT billing.grant_brand(''ACME'', ''acme_app'').';
	END IF;
	SELECT b.id INTO granted FROM billing.brand b WHERE b.code = brand;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'brand "%" does not exist', coalesce(brand, 'NULL')
			USING ERRCODE = 'undefined_object', HINT = 'Brands are listed by SELECT code, name FROM billing.brand.';
	END IF;
	INSERT INTO billing.brand_grant (grantee, brand_id, granted_by)
	VALUES (grantee, granted, billing_internal.calling_role()::text)
	ON CONFLICT ON CONSTRAINT brand_grant_pkey DO NOTHING;
	recorded := FOUND;
	RETURN billing_internal.keep_brand_membership(granted, grantee::oid, true) OR recorded;
END
$$;
COMMENT ON FUNCTION billing.grant_brand(text, regrole) IS
	'gives a role (and its members) a brand: its rows and its schedules, runs and invoices; false when already granted';
REVOKE ALL ON FUNCTION billing.grant_brand(text, regrole) FROM PUBLIC;

-- billing.revoke_brand takes a brand away from a role.  Returns false when
-- the role did not have it.
CREATE OR REPLACE FUNCTION billing.revoke_brand(brand text, grantee regrole) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	revoked bigint;
	recorded boolean;
BEGIN
	SELECT b.id INTO revoked FROM billing.brand b WHERE b.code = brand;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'brand "%" does not exist', coalesce(brand, 'NULL')
			USING ERRCODE = 'undefined_object', HINT = 'Brands are listed by SELECT code, name FROM billing.brand.';
	END IF;
	DELETE FROM billing.brand_grant g WHERE g.grantee = revoke_brand.grantee AND g.brand_id = revoked;
	recorded := FOUND;
	RETURN billing_internal.keep_brand_membership(revoked, grantee::oid, false) OR recorded;
END
$$;
COMMENT ON FUNCTION billing.revoke_brand(text, regrole) IS
	'takes a brand away from a role; false when the role did not have it';
REVOKE ALL ON FUNCTION billing.revoke_brand(text, regrole) FROM PUBLIC;

-- At every install and update: the brand roles' memberships are the grant
-- table's.  An update from 0.2 makes the roles of its grants; a new
-- install, in a database whose earlier billing was dropped, takes the
-- members away from the roles that install left (roles outlive DROP
-- EXTENSION, and the new brand 1 must not open to the old brand 1's roles).
DO $$
DECLARE
	g record;
BEGIN
	-- every member of a brand role of this database that the grant table
	-- does not name (a brand's grants go with it: none for a brand gone)
	FOR g IN SELECT r.rolname AS role_name, mr.rolname AS member_name
	         FROM pg_roles r JOIN pg_auth_members m ON m.roleid = r.oid JOIN pg_roles mr ON mr.oid = m.member
	         WHERE billing_internal.brand_of_role(r.rolname) IS NOT NULL
	           AND NOT EXISTS (SELECT 1 FROM billing.brand_grant x
	                           WHERE x.brand_id = billing_internal.brand_of_role(r.rolname) AND x.grantee::oid = m.member)
	LOOP
		EXECUTE format('REVOKE %I FROM %I', g.role_name, g.member_name);
	END LOOP;
	FOR g IN SELECT x.brand_id, x.grantee FROM billing.brand_grant x LOOP
		PERFORM billing_internal.keep_brand_membership(g.brand_id, g.grantee::oid, true);
	END LOOP;
END
$$;

-- runs record who asked for them: the calling role, not the owner that the
-- run functions execute as
ALTER TABLE billing.invoice_run ALTER COLUMN requested_by SET DEFAULT billing_internal.calling_role()::text;
COMMENT ON COLUMN billing.invoice_run.requested_by IS 'the role that called issue_drafts or rerun_invoice_run';

------------------------------------------------------------------------------
-- Records only the API can change (src/guard.c).  One statement trigger per
-- record table refuses INSERT made outside the billing functions (once per
-- statement: a run's million links pay one call) and logs every write made
-- under billing.maintenance; another refuses TRUNCATE (never one trigger for
-- both TRUNCATE and row events: Citus passes no ENABLE or DISABLE of such a
-- trigger to the shards); one row trigger refuses UPDATE and DELETE, naming
-- the invoice, run or link.
------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION billing_internal.guard_records() RETURNS trigger
	AS 'MODULE_PATHNAME', 'billing_guard_records' LANGUAGE C;
COMMENT ON FUNCTION billing_internal.guard_records() IS
	'trigger: refuses writes to invoices, tax lines, links, runs and run logs outside the billing functions; logs maintenance writes';
REVOKE ALL ON FUNCTION billing_internal.guard_records() FROM PUBLIC;

CREATE OR REPLACE TRIGGER records_guard BEFORE INSERT OR UPDATE OR DELETE ON billing.invoice
	FOR EACH STATEMENT EXECUTE FUNCTION billing_internal.guard_records('invoice');
CREATE OR REPLACE TRIGGER records_truncate_guard BEFORE TRUNCATE ON billing.invoice
	FOR EACH STATEMENT EXECUTE FUNCTION billing_internal.guard_records('invoice');
CREATE OR REPLACE TRIGGER records_guard_row BEFORE UPDATE OR DELETE ON billing.invoice
	FOR EACH ROW EXECUTE FUNCTION billing_internal.guard_records('invoice');
CREATE OR REPLACE TRIGGER records_guard BEFORE INSERT OR UPDATE OR DELETE ON billing.invoice_tax_line
	FOR EACH STATEMENT EXECUTE FUNCTION billing_internal.guard_records('tax_line');
CREATE OR REPLACE TRIGGER records_truncate_guard BEFORE TRUNCATE ON billing.invoice_tax_line
	FOR EACH STATEMENT EXECUTE FUNCTION billing_internal.guard_records('tax_line');
CREATE OR REPLACE TRIGGER records_guard_row BEFORE UPDATE OR DELETE ON billing.invoice_tax_line
	FOR EACH ROW EXECUTE FUNCTION billing_internal.guard_records('tax_line');
CREATE OR REPLACE TRIGGER records_guard BEFORE INSERT OR UPDATE OR DELETE ON billing.document_link
	FOR EACH STATEMENT EXECUTE FUNCTION billing_internal.guard_records('link');
CREATE OR REPLACE TRIGGER records_truncate_guard BEFORE TRUNCATE ON billing.document_link
	FOR EACH STATEMENT EXECUTE FUNCTION billing_internal.guard_records('link');
CREATE OR REPLACE TRIGGER records_guard_row BEFORE UPDATE OR DELETE ON billing.document_link
	FOR EACH ROW EXECUTE FUNCTION billing_internal.guard_records('link');
-- A partition of the links or the tax lines (tables.sql) takes the row
-- triggers of its parent as clones, but not its statement triggers, which
-- fire only for a statement naming the parent: these are a partition's
-- own, so that an INSERT or TRUNCATE naming the partition is refused as one
-- naming the parent is (and logged under billing.maintenance, as a restore
-- writes each partition's rows).  Row security on, with no policy: a role
-- given the partition by a GRANT still reads nothing of it; the rows are
-- read through the parent and its brand wall.  Made for each partition when
-- it is made (billing_internal.add_partitions), and below for those there
-- are.
CREATE OR REPLACE FUNCTION billing_internal.guard_partition(part regclass) RETURNS void
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	parent regclass := (SELECT i.inhparent FROM pg_inherits i WHERE i.inhrelid = part);
	kind text := CASE parent WHEN 'billing.document_link'::regclass THEN 'link'
	                         WHEN 'billing.invoice_tax_line'::regclass THEN 'tax_line' END;
	bound text := (SELECT pg_get_expr(c.relpartbound, c.oid) FROM pg_class c WHERE c.oid = part);
BEGIN
	IF kind IS NULL THEN
		RAISE EXCEPTION '% is not a partition of billing.document_link or billing.invoice_tax_line', part
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	EXECUTE format('CREATE OR REPLACE TRIGGER records_guard BEFORE INSERT OR UPDATE OR DELETE ON %s'
	               ' FOR EACH STATEMENT EXECUTE FUNCTION billing_internal.guard_records(%L)', part, kind);
	EXECUTE format('CREATE OR REPLACE TRIGGER records_truncate_guard BEFORE TRUNCATE ON %s'
	               ' FOR EACH STATEMENT EXECUTE FUNCTION billing_internal.guard_records(%L)', part, kind);
	IF kind = 'link' THEN
		EXECUTE format('CREATE OR REPLACE TRIGGER forget_run_snapshots AFTER TRUNCATE ON %s'
		               ' FOR EACH STATEMENT EXECUTE FUNCTION billing_internal.forget_run_snapshots()', part);
	END IF;
	EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', part);
	EXECUTE format('COMMENT ON TABLE %s IS %L', part,
	               format('the %s whose %s are %s (a partition of %s: read and written through it)',
	                      CASE kind WHEN 'link' THEN 'links of the documents' ELSE 'tax lines of the invoices' END,
	                      'ids', lower(bound), parent));
END
$$;
COMMENT ON FUNCTION billing_internal.guard_partition(regclass) IS
	'internal: gives a partition of billing.document_link or billing.invoice_tax_line the statement guards of its parent, and row security with no policy';
REVOKE ALL ON FUNCTION billing_internal.guard_partition(regclass) FROM PUBLIC;
SELECT billing_internal.guard_partition(i.inhrelid::regclass)
FROM pg_inherits i WHERE i.inhparent IN ('billing.document_link'::regclass, 'billing.invoice_tax_line'::regclass)
ORDER BY i.inhrelid;
CREATE OR REPLACE TRIGGER records_guard BEFORE INSERT OR UPDATE OR DELETE ON billing.invoice_run
	FOR EACH STATEMENT EXECUTE FUNCTION billing_internal.guard_records('run');
CREATE OR REPLACE TRIGGER records_truncate_guard BEFORE TRUNCATE ON billing.invoice_run
	FOR EACH STATEMENT EXECUTE FUNCTION billing_internal.guard_records('run');
CREATE OR REPLACE TRIGGER records_guard_row BEFORE UPDATE OR DELETE ON billing.invoice_run
	FOR EACH ROW EXECUTE FUNCTION billing_internal.guard_records('run');
CREATE OR REPLACE TRIGGER records_guard BEFORE INSERT OR UPDATE OR DELETE ON billing.run_log
	FOR EACH STATEMENT EXECUTE FUNCTION billing_internal.guard_records('run_log');
CREATE OR REPLACE TRIGGER records_truncate_guard BEFORE TRUNCATE ON billing.run_log
	FOR EACH STATEMENT EXECUTE FUNCTION billing_internal.guard_records('run_log');
CREATE OR REPLACE TRIGGER records_guard_row BEFORE UPDATE OR DELETE ON billing.run_log
	FOR EACH ROW EXECUTE FUNCTION billing_internal.guard_records('run_log');
-- the invoice number series move only when invoices are confirmed
CREATE OR REPLACE TRIGGER records_guard BEFORE INSERT OR UPDATE OR DELETE ON billing.invoice_series
	FOR EACH STATEMENT EXECUTE FUNCTION billing_internal.guard_records('record');
CREATE OR REPLACE TRIGGER records_truncate_guard BEFORE TRUNCATE ON billing.invoice_series
	FOR EACH STATEMENT EXECUTE FUNCTION billing_internal.guard_records('record');
CREATE OR REPLACE TRIGGER records_guard_row BEFORE UPDATE OR DELETE ON billing.invoice_series
	FOR EACH ROW EXECUTE FUNCTION billing_internal.guard_records('record');
-- and so do the numbers they give
CREATE OR REPLACE TRIGGER records_guard BEFORE INSERT OR UPDATE OR DELETE ON billing.issued_invoice_number
	FOR EACH STATEMENT EXECUTE FUNCTION billing_internal.guard_records('record');
CREATE OR REPLACE TRIGGER records_truncate_guard BEFORE TRUNCATE ON billing.issued_invoice_number
	FOR EACH STATEMENT EXECUTE FUNCTION billing_internal.guard_records('record');
CREATE OR REPLACE TRIGGER records_guard_row BEFORE UPDATE OR DELETE ON billing.issued_invoice_number
	FOR EACH ROW EXECUTE FUNCTION billing_internal.guard_records('record');
-- a buyer's balance moves only when its invoices are confirmed (an opening
-- balance is given on INSERT, and then never moves)
CREATE OR REPLACE TRIGGER balance_guard BEFORE UPDATE OF billing_balance, opening_balance ON billing.buyer
	FOR EACH STATEMENT EXECUTE FUNCTION billing_internal.guard_records('balance');
CREATE OR REPLACE TRIGGER balance_guard_row BEFORE UPDATE OF billing_balance, opening_balance ON billing.buyer
	FOR EACH ROW EXECUTE FUNCTION billing_internal.guard_records('balance');
-- TRUNCATE skips the row trigger that keeps linked documents (document_guard;
-- links have no foreign key to documents): refused, and logged under
-- maintenance.  (A buyer's TRUNCATE is refused by the foreign keys.)
CREATE OR REPLACE TRIGGER records_guard BEFORE TRUNCATE ON billing.document
	FOR EACH STATEMENT EXECUTE FUNCTION billing_internal.guard_records('linked_document');
-- the maintenance log is append-only (its rows come from the guard itself)
CREATE OR REPLACE TRIGGER records_guard BEFORE UPDATE OR DELETE ON billing.maintenance_log
	FOR EACH STATEMENT EXECUTE FUNCTION billing_internal.guard_records('record');
CREATE OR REPLACE TRIGGER records_truncate_guard BEFORE TRUNCATE ON billing.maintenance_log
	FOR EACH STATEMENT EXECUTE FUNCTION billing_internal.guard_records('record');
CREATE OR REPLACE TRIGGER records_guard_row BEFORE UPDATE OR DELETE ON billing.maintenance_log
	FOR EACH ROW EXECUTE FUNCTION billing_internal.guard_records('record');

-- The functions that write records set billing.api_write for their call
-- (a SECURITY DEFINER function's SET clause is the only SQL its check hook
-- accepts it from; C code of the extension uses billing_allow_api_write)
-- and run as the extension's owner with a pinned search_path: a caller
-- needs EXECUTE on them and no privilege on the records.  Each says so in
-- its own definition (SECURITY DEFINER SET billing.api_write = on).

------------------------------------------------------------------------------
-- Brands are walls: row level security on every table that holds brand
-- data.  A role sees (and writes, where it has the privilege) the rows of
-- the brands granted to it or to a role it is a member of.  The brand test
-- is brand_id = ANY (billing_internal.visible_brands()): no subquery and no
-- table read (Citus refuses both in a policy), the catalog's answer cached
-- per backend, and indexable.  Every such table holds its rows' brand
-- (tax lines and links their invoice's).  The extension's owner (a
-- superuser) and BYPASSRLS roles are not subject to them, as PostgreSQL
-- has it: runs execute as the owner and pay nothing for the walls.
------------------------------------------------------------------------------

ALTER TABLE billing.brand_grant ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS own_grants ON billing.brand_grant;
CREATE POLICY own_grants ON billing.brand_grant FOR SELECT
	USING (pg_catalog.pg_has_role(grantee::oid, 'USAGE'));

ALTER TABLE billing.brand ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS brand_wall ON billing.brand;
CREATE POLICY brand_wall ON billing.brand
	USING (id OPERATOR(pg_catalog.=) ANY (billing_internal.visible_brands()));

ALTER TABLE billing.schedule ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS brand_wall ON billing.schedule;
CREATE POLICY brand_wall ON billing.schedule
	USING (brand_id OPERATOR(pg_catalog.=) ANY (billing_internal.visible_brands()));

ALTER TABLE billing.bank_account ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS brand_wall ON billing.bank_account;
CREATE POLICY brand_wall ON billing.bank_account
	USING (brand_id OPERATOR(pg_catalog.=) ANY (billing_internal.visible_brands()));

ALTER TABLE billing.member ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS brand_wall ON billing.member;
CREATE POLICY brand_wall ON billing.member
	USING (brand_id OPERATOR(pg_catalog.=) ANY (billing_internal.visible_brands()));

ALTER TABLE billing.buyer ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS brand_wall ON billing.buyer;
CREATE POLICY brand_wall ON billing.buyer
	USING (brand_id OPERATOR(pg_catalog.=) ANY (billing_internal.visible_brands()));

ALTER TABLE billing.document ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS brand_wall ON billing.document;
CREATE POLICY brand_wall ON billing.document
	USING (brand_id OPERATOR(pg_catalog.=) ANY (billing_internal.visible_brands()));

ALTER TABLE billing.invoice ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS brand_wall ON billing.invoice;
CREATE POLICY brand_wall ON billing.invoice
	USING (brand_id OPERATOR(pg_catalog.=) ANY (billing_internal.visible_brands()));

ALTER TABLE billing.invoice_run ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS brand_wall ON billing.invoice_run;
CREATE POLICY brand_wall ON billing.invoice_run
	USING (brand_id OPERATOR(pg_catalog.=) ANY (billing_internal.visible_brands()));

ALTER TABLE billing.invoice_series ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS brand_wall ON billing.invoice_series;
CREATE POLICY brand_wall ON billing.invoice_series
	USING (brand_id OPERATOR(pg_catalog.=) ANY (billing_internal.visible_brands()));

ALTER TABLE billing.issued_invoice_number ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS brand_wall ON billing.issued_invoice_number;
CREATE POLICY brand_wall ON billing.issued_invoice_number
	USING (brand_id OPERATOR(pg_catalog.=) ANY (billing_internal.visible_brands()));

ALTER TABLE billing.invoice_tax_line ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS brand_wall ON billing.invoice_tax_line;
CREATE POLICY brand_wall ON billing.invoice_tax_line
	USING (brand_id OPERATOR(pg_catalog.=) ANY (billing_internal.visible_brands()));

ALTER TABLE billing.document_link ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS brand_wall ON billing.document_link;
CREATE POLICY brand_wall ON billing.document_link
	USING (brand_id OPERATOR(pg_catalog.=) ANY (billing_internal.visible_brands()));

ALTER TABLE billing.run_log ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS brand_wall ON billing.run_log;
CREATE POLICY brand_wall ON billing.run_log
	USING (brand_id OPERATOR(pg_catalog.=) ANY (billing_internal.visible_brands()));

ALTER TABLE billing.notification ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS brand_wall ON billing.notification;
CREATE POLICY brand_wall ON billing.notification
	USING (brand_id OPERATOR(pg_catalog.=) ANY (billing_internal.visible_brands()));

ALTER TABLE billing.invoice_mail ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS brand_wall ON billing.invoice_mail;
CREATE POLICY brand_wall ON billing.invoice_mail
	USING (brand_id OPERATOR(pg_catalog.=) ANY (billing_internal.visible_brands()));

-- earlier master data (xml.sql) follows the brand it belongs to: a brand's
-- own row, or the brand_id in a buyer's or bank account's row
ALTER TABLE billing.master_data_version ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS brand_wall ON billing.master_data_version;
CREATE POLICY brand_wall ON billing.master_data_version
	USING (CASE table_name WHEN 'brand' THEN row_id
	                       ELSE (data OPERATOR(pg_catalog.->>) 'brand_id')::bigint END
	       OPERATOR(pg_catalog.=) ANY (billing_internal.visible_brands()));
COMMENT ON POLICY brand_wall ON billing.master_data_version IS 'versions of the brands granted to the role, and of their buyers and bank accounts';

COMMENT ON POLICY own_grants ON billing.brand_grant IS 'a role sees the grants of the roles it is a member of';
COMMENT ON POLICY brand_wall ON billing.brand IS 'the brands granted to the role (billing.brand_grant)';
COMMENT ON POLICY brand_wall ON billing.schedule IS 'rows of the brands granted to the role';
COMMENT ON POLICY brand_wall ON billing.bank_account IS 'rows of the brands granted to the role';
COMMENT ON POLICY brand_wall ON billing.member IS 'rows of the brands granted to the role';
COMMENT ON POLICY brand_wall ON billing.buyer IS 'rows of the brands granted to the role';
COMMENT ON POLICY brand_wall ON billing.document IS 'rows of the brands granted to the role';
COMMENT ON POLICY brand_wall ON billing.invoice IS 'rows of the brands granted to the role';
COMMENT ON POLICY brand_wall ON billing.invoice_run IS 'rows of the brands granted to the role';
COMMENT ON POLICY brand_wall ON billing.invoice_series IS 'the series of the brands granted to the role';
COMMENT ON POLICY brand_wall ON billing.issued_invoice_number IS 'the numbers of the brands granted to the role';
COMMENT ON POLICY brand_wall ON billing.invoice_tax_line IS 'tax lines of the buyers the role sees';
COMMENT ON POLICY brand_wall ON billing.document_link IS 'links of the buyers the role sees';
COMMENT ON POLICY brand_wall ON billing.run_log IS 'log lines of the runs of the brands granted to the role';
COMMENT ON POLICY brand_wall ON billing.notification IS 'notifications of the runs of the brands granted to the role';
COMMENT ON POLICY brand_wall ON billing.invoice_mail IS 'mails of the brands granted to the role';
