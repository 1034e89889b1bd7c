-- Settings that mean what they say (issue 11, item 9).  billing.maintenance
-- and billing.api_write take effect only for a superuser, however they
-- reached the session: ALTER DATABASE ... SET, ALTER ROLE ... SET, GRANT SET
-- ON PARAMETER, or a placeholder set before the library was loaded.
-- billing.run_work_mem is capped by the superuser's billing.max_run_work_mem,
-- and the billing prefix is reserved, so a misspelt setting is an error.
-- A tenant's role here holds UPDATE on billing.buyer (as the recipe's
-- application does) and tries to reset its buyer's billing balance, which
-- only confirmed invoices may move.
SET client_min_messages = warning;
\set regress_db :DBNAME

INSERT INTO billing.brand (code, name) VALUES ('SETS', 'Settings KK');
INSERT INTO billing.buyer (brand_id, code, name, billing_balance)
SELECT id, 'S1', 'Buyer 1', 500 FROM billing.brand WHERE code = 'SETS';
CREATE ROLE regress_set_tenant LOGIN;
GRANT USAGE ON SCHEMA billing TO regress_set_tenant;
GRANT SELECT, UPDATE ON billing.buyer TO regress_set_tenant;
SELECT billing.grant_brand('SETS', 'regress_set_tenant') AS granted;
SELECT count(*) AS log_before FROM billing.maintenance_log \gset

------------------------------------------------------------------------------
-- the prefix is reserved: a typo is an error, not a silent placeholder
------------------------------------------------------------------------------
SELECT billing_internal.calling_role() IS NOT NULL AS library_loaded;
SELECT * FROM err('SET billing.maintenence = on');
SELECT * FROM err('SET billing.api_writes = on');
SELECT current_setting('billing.maintenence', true) AS typo;

------------------------------------------------------------------------------
-- billing.maintenance reaches a tenant's session: it does nothing there
------------------------------------------------------------------------------
-- (1) ALTER DATABASE ... SET
ALTER DATABASE :"regress_db" SET billing.maintenance = on;
\c - regress_set_tenant
SELECT * FROM err('UPDATE billing.buyer SET billing_balance = 0 WHERE code = ''S1''');
SHOW billing.maintenance;
\c - postgres
ALTER DATABASE :"regress_db" RESET billing.maintenance;

-- (2) ALTER ROLE ... SET
ALTER ROLE regress_set_tenant SET billing.maintenance = on;
\c - regress_set_tenant
SELECT * FROM err('UPDATE billing.buyer SET billing_balance = 0 WHERE code = ''S1''');
SHOW billing.maintenance;
\c - postgres
ALTER ROLE regress_set_tenant RESET billing.maintenance;

-- (3) GRANT SET ON PARAMETER
GRANT SET ON PARAMETER billing.maintenance TO regress_set_tenant;
\c - regress_set_tenant
SET billing.maintenance = on;
SELECT * FROM err('UPDATE billing.buyer SET billing_balance = 0 WHERE code = ''S1''');
\c - postgres
REVOKE SET ON PARAMETER billing.maintenance FROM regress_set_tenant;

-- (4) a placeholder set before the library is loaded (the session's first
-- statement: nothing of billing has run yet)
\c - regress_set_tenant
SET billing.maintenance = on;
SELECT * FROM err('UPDATE billing.buyer SET billing_balance = 0 WHERE code = ''S1''');
\c - postgres

-- (5) a superuser session acting as the tenant (SET ROLE) does not lend it
SET billing.maintenance = on;
SET ROLE regress_set_tenant;
SELECT * FROM err('UPDATE billing.buyer SET billing_balance = 0 WHERE code = ''S1''');
RESET ROLE;
RESET billing.maintenance;

------------------------------------------------------------------------------
-- billing.api_write: GRANT SET ON PARAMETER lends it to no one.  The tenant
-- sets it in a SECURITY DEFINER function of its own, the one place its
-- check hook accepted it from.
------------------------------------------------------------------------------
GRANT SET ON PARAMETER billing.api_write TO regress_set_tenant;
\c - regress_set_tenant
CREATE FUNCTION pg_temp.reset_balance() RETURNS void
LANGUAGE sql SECURITY DEFINER SET billing.api_write = on
AS $$ UPDATE billing.buyer SET billing_balance = 0 WHERE code = 'S1' $$;
-- before the library is loaded (a placeholder, checked when it loads) ...
SELECT * FROM err('SELECT pg_temp.reset_balance()');
-- ... and after
SELECT * FROM err('SELECT pg_temp.reset_balance()');
\c - postgres
REVOKE SET ON PARAMETER billing.api_write FROM regress_set_tenant;

-- nothing moved the balance, and nothing was logged as maintenance
SELECT code, billing_balance FROM billing.buyer WHERE code = 'S1';
SELECT count(*) - :log_before AS maintenance_logged FROM billing.maintenance_log;

-- a superuser's own session still repairs, logged
SET billing.maintenance = on;
UPDATE billing.buyer SET billing_balance = 400 WHERE code = 'S1';
RESET billing.maintenance;
SELECT count(*) - :log_before AS maintenance_logged FROM billing.maintenance_log;
SELECT table_name, operation FROM billing.maintenance_log ORDER BY logged_at DESC LIMIT 1;
SELECT code, billing_balance FROM billing.buyer WHERE code = 'S1';

------------------------------------------------------------------------------
-- billing.run_work_mem: at most billing.max_run_work_mem, which only a
-- superuser sets
------------------------------------------------------------------------------
SET SESSION AUTHORIZATION regress_set_tenant;
SELECT * FROM err('SET billing.run_work_mem = ''2000GB''');
SELECT * FROM err('SET billing.max_run_work_mem = ''4TB''');
SELECT * FROM err('ALTER ROLE CURRENT_USER SET billing.run_work_mem = ''2000GB''');
SET billing.run_work_mem = '64MB';
SHOW billing.run_work_mem;
RESET SESSION AUTHORIZATION;
-- a superuser raises the cap first, then the setting
SET billing.max_run_work_mem = '4GB';
SET billing.run_work_mem = '2GB';
SHOW billing.run_work_mem;
RESET billing.run_work_mem;
RESET billing.max_run_work_mem;

-- clean up
SELECT billing.revoke_brand('SETS', 'regress_set_tenant') AS revoked;
DROP OWNED BY regress_set_tenant;
DROP ROLE regress_set_tenant;
