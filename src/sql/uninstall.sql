-- src/sql/uninstall.sql: DROP EXTENSION billing keeps the money.  The
-- tables are members of the extension, so dropping it drops every invoice
-- with them; this event trigger refuses it while any invoice exists, unless
-- a superuser first sets billing.allow_drop = on (README.md, "Uninstall").

CREATE OR REPLACE FUNCTION billing_internal.refuse_drop_with_invoices() RETURNS event_trigger
	AS 'MODULE_PATHNAME', 'billing_refuse_drop_with_invoices' LANGUAGE C;
COMMENT ON FUNCTION billing_internal.refuse_drop_with_invoices() IS
	'event trigger: refuses DROP EXTENSION billing (or a DROP SCHEMA or DROP OWNED that takes it) while invoices exist, unless billing.allow_drop is on';
REVOKE ALL ON FUNCTION billing_internal.refuse_drop_with_invoices() FROM PUBLIC;

-- An event trigger has no CREATE OR REPLACE: made anew by every install and
-- update script, as a member of the extension (and dropped with it)
DO $$
BEGIN
	IF EXISTS (SELECT FROM pg_catalog.pg_event_trigger WHERE evtname = 'billing_keep_invoices') THEN
		DROP EVENT TRIGGER billing_keep_invoices;
	END IF;
	CREATE EVENT TRIGGER billing_keep_invoices ON ddl_command_start
		WHEN TAG IN ('DROP EXTENSION', 'DROP SCHEMA', 'DROP OWNED')
		EXECUTE FUNCTION billing_internal.refuse_drop_with_invoices();
	COMMENT ON EVENT TRIGGER billing_keep_invoices IS
		'refuses dropping the billing extension while it holds invoices (billing.allow_drop overrides)';
END
$$;
