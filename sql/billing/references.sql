-- sql/billing/references.sql: the references between the extension's
-- tables, kept by triggers instead of foreign keys, so that a parallel
-- restore (pg_restore -j) works.
--
-- Every table of the extension is an extension configuration table: pg_dump
-- dumps its rows, and pg_restore loads them into the tables that CREATE
-- EXTENSION has made, with their constraints already in place.  pg_dump
-- sorts the data of configuration tables by their foreign keys, which a
-- serial restore follows; but the archive's TABLE DATA entries depend only on
-- their own table, so pg_restore -j loads them in any order, each in its own
-- transaction (largest first), and a foreign key check fails on a child
-- loaded before its parent.  No constraint mode helps: a deferred check runs
-- at the end of the same one-table transaction, and NOT VALID still checks
-- new rows.
--
-- So the references are checked by triggers with the same meaning, and one
-- allowance: a child row may name a parent that is missing while the
-- parent's table is empty (nothing is loaded there yet, as in a restore;
-- another restore worker's rows are invisible until its table is complete).
-- Once a parent table has a row, every reference to it must exist.  A parent
-- row may only be created for references that agree with it (a buyer
-- pointing at schedule 7 of brand 1 is not adopted by schedule 7 of brand 2).
-- Parents that are referred to cannot be deleted or change their key; a
-- run's log lines and notifications go with it.  The checks lock the parent
-- row FOR KEY SHARE and run as the extension owner (they must see every
-- brand's rows whatever the caller may see).

-- billing.refuse_referenced raises the error of a parent row that is still
-- referred to
CREATE OR REPLACE FUNCTION billing.refuse_referenced(op text, parent text, child text)
RETURNS void LANGUAGE plpgsql VOLATILE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	RAISE EXCEPTION 'cannot % %: % refers to it', lower(op), parent, child
		USING ERRCODE = 'foreign_key_violation',
		      HINT = 'Delete or move what refers to it first; records of runs and invoices are kept.';
END
$$;
COMMENT ON FUNCTION billing.refuse_referenced(text, text, text) IS
	'raises foreign_key_violation: a row that others refer to cannot be deleted or change its key';

------------------------------------------------------------------------------
-- Child side: each row's references exist (or their table is still empty).
------------------------------------------------------------------------------

-- billing.reference_check(parent, name column, child column, parent column
-- [, child column, parent column]): the parent row named by the child's
-- columns exists in billing.parent, locked FOR KEY SHARE; src/references.c
CREATE OR REPLACE FUNCTION billing.reference_check() RETURNS trigger
	AS 'MODULE_PATHNAME', 'reference_check' LANGUAGE C;
COMMENT ON FUNCTION billing.reference_check() IS
	'trigger (parent, name column, child column, parent column, ...): the row''s parent exists (or its table is still empty)';

CREATE OR REPLACE TRIGGER schedule_brand_reference AFTER INSERT OR UPDATE OF brand_id ON billing.schedule
	FOR EACH ROW EXECUTE FUNCTION billing.reference_check('brand', 'code', 'brand_id', 'id');
CREATE OR REPLACE TRIGGER bank_account_brand_reference AFTER INSERT OR UPDATE OF brand_id ON billing.bank_account
	FOR EACH ROW EXECUTE FUNCTION billing.reference_check('brand', 'code', 'brand_id', 'id');
CREATE OR REPLACE TRIGGER member_brand_reference AFTER INSERT OR UPDATE OF brand_id ON billing.member
	FOR EACH ROW EXECUTE FUNCTION billing.reference_check('brand', 'code', 'brand_id', 'id');
CREATE OR REPLACE TRIGGER buyer_brand_reference AFTER INSERT OR UPDATE OF brand_id ON billing.buyer
	FOR EACH ROW EXECUTE FUNCTION billing.reference_check('brand', 'code', 'brand_id', 'id');
CREATE OR REPLACE TRIGGER buyer_schedule_reference AFTER INSERT OR UPDATE OF brand_id, schedule_id ON billing.buyer
	FOR EACH ROW EXECUTE FUNCTION billing.reference_check('schedule', 'code', 'schedule_id', 'id', 'brand_id', 'brand_id');
CREATE OR REPLACE TRIGGER buyer_bank_account_reference AFTER INSERT OR UPDATE OF brand_id, default_bank_account_id
	ON billing.buyer FOR EACH ROW
	EXECUTE FUNCTION billing.reference_check('bank_account', 'code', 'default_bank_account_id', 'id', 'brand_id', 'brand_id');
CREATE OR REPLACE TRIGGER document_buyer_reference AFTER INSERT OR UPDATE OF buyer_id, brand_id ON billing.document
	FOR EACH ROW EXECUTE FUNCTION billing.reference_check('buyer', 'reference', 'buyer_id', 'id', 'brand_id', 'brand_id');
CREATE OR REPLACE TRIGGER invoice_run_brand_reference AFTER INSERT OR UPDATE OF brand_id ON billing.invoice_run
	FOR EACH ROW EXECUTE FUNCTION billing.reference_check('brand', 'id', 'brand_id', 'id');
CREATE OR REPLACE TRIGGER invoice_run_schedule_reference AFTER INSERT OR UPDATE OF schedule_id ON billing.invoice_run
	FOR EACH ROW EXECUTE FUNCTION billing.reference_check('schedule', 'id', 'schedule_id', 'id');
CREATE OR REPLACE TRIGGER run_log_run_reference AFTER INSERT OR UPDATE OF run_id ON billing.run_log
	FOR EACH ROW EXECUTE FUNCTION billing.reference_check('invoice_run', 'id', 'run_id', 'id');
CREATE OR REPLACE TRIGGER notification_run_reference AFTER INSERT OR UPDATE OF run_id ON billing.notification
	FOR EACH ROW EXECUTE FUNCTION billing.reference_check('invoice_run', 'id', 'run_id', 'id');
CREATE OR REPLACE TRIGGER notification_member_reference AFTER INSERT OR UPDATE OF member_id ON billing.notification
	FOR EACH ROW EXECUTE FUNCTION billing.reference_check('member', 'id', 'member_id', 'id');
COMMENT ON TRIGGER schedule_brand_reference ON billing.schedule IS 'the schedule''s brand exists';
COMMENT ON TRIGGER bank_account_brand_reference ON billing.bank_account IS 'the bank account''s brand exists';
COMMENT ON TRIGGER member_brand_reference ON billing.member IS 'the member''s brand exists';
COMMENT ON TRIGGER buyer_brand_reference ON billing.buyer IS 'the buyer''s brand exists';
COMMENT ON TRIGGER buyer_schedule_reference ON billing.buyer IS 'the buyer''s schedule exists in its brand';
COMMENT ON TRIGGER buyer_bank_account_reference ON billing.buyer IS 'the buyer''s default bank account exists in its brand';
COMMENT ON TRIGGER document_buyer_reference ON billing.document IS 'the document''s buyer exists in its brand';
COMMENT ON TRIGGER invoice_run_brand_reference ON billing.invoice_run IS 'the run''s brand exists';
COMMENT ON TRIGGER invoice_run_schedule_reference ON billing.invoice_run IS 'the run''s schedule exists';
COMMENT ON TRIGGER run_log_run_reference ON billing.run_log IS 'the log line''s run exists';
COMMENT ON TRIGGER notification_run_reference ON billing.notification IS 'the notification''s run exists';
COMMENT ON TRIGGER notification_member_reference ON billing.notification IS 'the member notified exists';

-- billing.adoption_check(child, name column, child column, child brand
-- column): a new schedule, bank account or buyer does not take over rows of
-- another brand that named its id while its table was empty; src/references.c
CREATE OR REPLACE FUNCTION billing.adoption_check() RETURNS trigger
	AS 'MODULE_PATHNAME', 'adoption_check' LANGUAGE C;
COMMENT ON FUNCTION billing.adoption_check() IS
	'trigger (child, name column, child column, child brand column): a new row adopts no reference of another brand';
CREATE OR REPLACE TRIGGER schedule_adoption AFTER INSERT OR UPDATE OF id, brand_id ON billing.schedule
	FOR EACH ROW EXECUTE FUNCTION billing.adoption_check('buyer', 'code', 'schedule_id', 'brand_id');
CREATE OR REPLACE TRIGGER bank_account_adoption AFTER INSERT OR UPDATE OF id, brand_id ON billing.bank_account
	FOR EACH ROW EXECUTE FUNCTION billing.adoption_check('buyer', 'code', 'default_bank_account_id', 'brand_id');
CREATE OR REPLACE TRIGGER buyer_adoption AFTER INSERT OR UPDATE OF id, brand_id ON billing.buyer
	FOR EACH ROW EXECUTE FUNCTION billing.adoption_check('document', 'reference', 'buyer_id', 'brand_id');
COMMENT ON TRIGGER schedule_adoption ON billing.schedule IS 'a new schedule takes over no buyer of another brand';
COMMENT ON TRIGGER bank_account_adoption ON billing.bank_account IS 'a new bank account takes over no buyer of another brand';
COMMENT ON TRIGGER buyer_adoption ON billing.buyer IS 'a new buyer takes over no document of another brand';

------------------------------------------------------------------------------
-- Parent side: a row referred to keeps its key and is not deleted.  AFTER
-- triggers: the check
-- sees rows that concurrent transactions committed while this one waited
-- for their FOR KEY SHARE locks.
------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION billing.brand_referenced() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	child text;
BEGIN
	IF TG_OP = 'UPDATE' AND NEW.id = OLD.id THEN
		RETURN NULL;
	END IF;
	SELECT format('schedule "%s"', s.code) INTO child FROM billing.schedule s WHERE s.brand_id = OLD.id LIMIT 1;
	IF child IS NULL THEN
		SELECT format('buyer "%s"', b.code) INTO child FROM billing.buyer b WHERE b.brand_id = OLD.id LIMIT 1;
	END IF;
	IF child IS NULL THEN
		SELECT format('bank account "%s"', a.code) INTO child FROM billing.bank_account a WHERE a.brand_id = OLD.id LIMIT 1;
	END IF;
	IF child IS NULL THEN
		SELECT format('member "%s"', m.code) INTO child FROM billing.member m WHERE m.brand_id = OLD.id LIMIT 1;
	END IF;
	IF child IS NULL THEN
		SELECT format('invoice run %s', r.id) INTO child FROM billing.invoice_run r WHERE r.brand_id = OLD.id LIMIT 1;
	END IF;
	IF child IS NOT NULL THEN
		PERFORM billing.refuse_referenced(TG_OP, format('brand "%s"', OLD.code), child);
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION billing.brand_referenced() IS
	'trigger: a brand that schedules, buyers, bank accounts, members or runs belong to is kept';
CREATE OR REPLACE TRIGGER brand_referenced AFTER DELETE OR UPDATE OF id ON billing.brand
	FOR EACH ROW EXECUTE FUNCTION billing.brand_referenced();
COMMENT ON TRIGGER brand_referenced ON billing.brand IS 'a brand that rows belong to is kept';

CREATE OR REPLACE FUNCTION billing.schedule_referenced() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	child text;
BEGIN
	IF TG_OP = 'DELETE' OR (NEW.id, NEW.brand_id) IS DISTINCT FROM (OLD.id, OLD.brand_id) THEN
		SELECT format('buyer "%s"', b.code) INTO child FROM billing.buyer b
		WHERE b.schedule_id = OLD.id AND b.brand_id = OLD.brand_id LIMIT 1;
		IF child IS NULL THEN
			SELECT format('invoice run %s', r.id) INTO child FROM billing.invoice_run r
			WHERE r.schedule_id = OLD.id LIMIT 1;
		END IF;
		IF child IS NOT NULL THEN
			PERFORM billing.refuse_referenced(TG_OP, format('schedule "%s"', OLD.code), child);
		END IF;
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION billing.schedule_referenced() IS
	'trigger: a schedule that buyers or runs refer to is kept';
CREATE OR REPLACE TRIGGER schedule_referenced AFTER DELETE OR UPDATE OF id, brand_id ON billing.schedule
	FOR EACH ROW EXECUTE FUNCTION billing.schedule_referenced();
COMMENT ON TRIGGER schedule_referenced ON billing.schedule IS 'a schedule that buyers or runs refer to is kept';

CREATE OR REPLACE FUNCTION billing.bank_account_referenced() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	child text;
BEGIN
	IF TG_OP = 'DELETE' OR (NEW.id, NEW.brand_id) IS DISTINCT FROM (OLD.id, OLD.brand_id) THEN
		SELECT format('buyer "%s"', b.code) INTO child FROM billing.buyer b
		WHERE b.default_bank_account_id = OLD.id AND b.brand_id = OLD.brand_id LIMIT 1;
		IF child IS NOT NULL THEN
			PERFORM billing.refuse_referenced(TG_OP, format('bank account "%s"', OLD.code), child);
		END IF;
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION billing.bank_account_referenced() IS
	'trigger: a bank account that buyers default to is kept';
CREATE OR REPLACE TRIGGER bank_account_referenced AFTER DELETE OR UPDATE OF id, brand_id
	ON billing.bank_account FOR EACH ROW EXECUTE FUNCTION billing.bank_account_referenced();
COMMENT ON TRIGGER bank_account_referenced ON billing.bank_account IS 'a bank account that buyers default to is kept';

CREATE OR REPLACE FUNCTION billing.buyer_referenced() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	child text;
BEGIN
	IF TG_OP = 'DELETE' OR (NEW.id, NEW.brand_id) IS DISTINCT FROM (OLD.id, OLD.brand_id) THEN
		SELECT format('%s "%s"', d.kind, d.reference) INTO child FROM billing.document d
		WHERE d.buyer_id = OLD.id AND d.brand_id = OLD.brand_id LIMIT 1;
		IF child IS NOT NULL THEN
			PERFORM billing.refuse_referenced(TG_OP, format('buyer "%s"', OLD.code), child);
		END IF;
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION billing.buyer_referenced() IS
	'trigger: a buyer with documents is kept';
CREATE OR REPLACE TRIGGER buyer_referenced AFTER DELETE OR UPDATE OF id, brand_id
	ON billing.buyer FOR EACH ROW EXECUTE FUNCTION billing.buyer_referenced();
COMMENT ON TRIGGER buyer_referenced ON billing.buyer IS 'a buyer with documents is kept';

CREATE OR REPLACE FUNCTION billing.member_referenced() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	child text;
BEGIN
	IF TG_OP = 'UPDATE' AND NEW.id = OLD.id THEN
		RETURN NULL;
	END IF;
	SELECT format('notification %s', n.id) INTO child FROM billing.notification n WHERE n.member_id = OLD.id LIMIT 1;
	IF child IS NOT NULL THEN
		PERFORM billing.refuse_referenced(TG_OP, format('member "%s"', OLD.code), child);
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION billing.member_referenced() IS 'trigger: a member with notifications is kept';
CREATE OR REPLACE TRIGGER member_referenced AFTER DELETE OR UPDATE OF id ON billing.member
	FOR EACH ROW EXECUTE FUNCTION billing.member_referenced();
COMMENT ON TRIGGER member_referenced ON billing.member IS 'a member with notifications is kept';

-- a run's log lines and notifications go with it (a run with invoices is
-- kept by invoice_run_invoiced)
CREATE OR REPLACE FUNCTION billing.invoice_run_referenced() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	child text;
BEGIN
	IF TG_OP = 'DELETE' THEN
		DELETE FROM billing.run_log l WHERE l.run_id = OLD.id;
		DELETE FROM billing.notification n WHERE n.run_id = OLD.id;
	ELSIF NEW.id <> OLD.id THEN
		SELECT format('run log line %s', l.id) INTO child FROM billing.run_log l WHERE l.run_id = OLD.id LIMIT 1;
		IF child IS NULL THEN
			SELECT format('notification %s', n.id) INTO child FROM billing.notification n WHERE n.run_id = OLD.id LIMIT 1;
		END IF;
		IF child IS NOT NULL THEN
			PERFORM billing.refuse_referenced(TG_OP, format('invoice run %s', OLD.id), child);
		END IF;
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION billing.invoice_run_referenced() IS
	'trigger: a deleted run takes its log lines and notifications with it; a run with them keeps its id';
CREATE OR REPLACE TRIGGER invoice_run_referenced AFTER DELETE OR UPDATE OF id ON billing.invoice_run
	FOR EACH ROW EXECUTE FUNCTION billing.invoice_run_referenced();
COMMENT ON TRIGGER invoice_run_referenced ON billing.invoice_run IS 'a run''s log lines and notifications go with it';

REVOKE ALL ON FUNCTION billing.refuse_referenced(text, text, text), billing.reference_check(),
	billing.adoption_check(), billing.brand_referenced(), billing.schedule_referenced(),
	billing.bank_account_referenced(), billing.buyer_referenced(), billing.member_referenced(),
	billing.invoice_run_referenced()
	FROM PUBLIC;

------------------------------------------------------------------------------
-- TRUNCATE of a parent: a foreign key refused to empty a table that others
-- refer to (without CASCADE, which here would empty the children too); the
-- statement triggers below refuse it while a child table has rows.  Under
-- the maintenance switch a superuser can still reset the tables in any order.
------------------------------------------------------------------------------

-- billing.refuse_truncate_referenced(child...): BEFORE TRUNCATE trigger that
-- refuses while any of the named child tables has a row
CREATE OR REPLACE FUNCTION billing.refuse_truncate_referenced() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	child text;
	referred boolean;
BEGIN
	IF current_setting('billing.maintenance', true) = 'on' THEN
		RETURN NULL;
	END IF;
	FOREACH child IN ARRAY TG_ARGV LOOP
		EXECUTE format('SELECT EXISTS (SELECT 1 FROM billing.%I)', child) INTO referred;
		IF referred THEN
			RAISE EXCEPTION 'cannot truncate %: % refers to its rows', TG_TABLE_NAME, child
				USING ERRCODE = 'foreign_key_violation',
				      HINT = 'Delete the rows that nothing refers to instead; a superuser can SET billing.maintenance = on for a logged reset.';
		END IF;
	END LOOP;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION billing.refuse_truncate_referenced() IS
	'trigger (child tables...): TRUNCATE of a table others refer to is refused while they have rows, as a foreign key would';
CREATE OR REPLACE TRIGGER brand_truncate_referenced BEFORE TRUNCATE ON billing.brand
	FOR EACH STATEMENT EXECUTE FUNCTION billing.refuse_truncate_referenced(
		'schedule', 'bank_account', 'member', 'buyer', 'document', 'invoice_run');
CREATE OR REPLACE TRIGGER schedule_truncate_referenced BEFORE TRUNCATE ON billing.schedule
	FOR EACH STATEMENT EXECUTE FUNCTION billing.refuse_truncate_referenced('buyer', 'invoice_run');
CREATE OR REPLACE TRIGGER bank_account_truncate_referenced BEFORE TRUNCATE ON billing.bank_account
	FOR EACH STATEMENT EXECUTE FUNCTION billing.refuse_truncate_referenced('buyer');
CREATE OR REPLACE TRIGGER member_truncate_referenced BEFORE TRUNCATE ON billing.member
	FOR EACH STATEMENT EXECUTE FUNCTION billing.refuse_truncate_referenced('notification');
CREATE OR REPLACE TRIGGER buyer_truncate_referenced BEFORE TRUNCATE ON billing.buyer
	FOR EACH STATEMENT EXECUTE FUNCTION billing.refuse_truncate_referenced('document');
COMMENT ON TRIGGER brand_truncate_referenced ON billing.brand IS 'no TRUNCATE while the brand''s tables have rows';
COMMENT ON TRIGGER schedule_truncate_referenced ON billing.schedule IS 'no TRUNCATE while buyers or runs refer to schedules';
COMMENT ON TRIGGER bank_account_truncate_referenced ON billing.bank_account IS 'no TRUNCATE while buyers refer to bank accounts';
COMMENT ON TRIGGER member_truncate_referenced ON billing.member IS 'no TRUNCATE while notifications refer to members';
COMMENT ON TRIGGER buyer_truncate_referenced ON billing.buyer IS 'no TRUNCATE while documents refer to buyers';
