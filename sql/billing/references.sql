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

-- billing.refuse_dangling raises the error of a child row whose parent is
-- missing
CREATE OR REPLACE FUNCTION billing.refuse_dangling(child text, parent text, parent_table text)
RETURNS void LANGUAGE plpgsql VOLATILE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	RAISE EXCEPTION '% refers to %, which does not exist', child, parent
		USING ERRCODE = 'foreign_key_violation',
		      HINT = format('Create it first, or use one listed by SELECT * FROM billing.%s.', parent_table);
END
$$;
COMMENT ON FUNCTION billing.refuse_dangling(text, text, text) IS
	'raises foreign_key_violation: a row refers to a parent row that does not exist';

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

-- billing.refuse_adoption raises the error of a new parent row whose id is
-- already named by rows of another brand
CREATE OR REPLACE FUNCTION billing.refuse_adoption(parent text, child text)
RETURNS void LANGUAGE plpgsql VOLATILE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	RAISE EXCEPTION '% cannot be created: % of another brand already refers to its id', parent, child
		USING ERRCODE = 'foreign_key_violation',
		      HINT = 'Correct the row that refers to a missing parent first.';
END
$$;
COMMENT ON FUNCTION billing.refuse_adoption(text, text) IS
	'raises foreign_key_violation: a new row would become the parent of rows of another brand';

------------------------------------------------------------------------------
-- Child side: each row's references exist (or their table is still empty).
------------------------------------------------------------------------------

-- brand_id of schedules, bank accounts, members and buyers
CREATE OR REPLACE FUNCTION billing.brand_reference_check() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF TG_OP = 'UPDATE' AND NEW.brand_id IS NOT DISTINCT FROM OLD.brand_id THEN
		RETURN NEW;
	END IF;
	PERFORM 1 FROM billing.brand p WHERE p.id = NEW.brand_id FOR KEY SHARE;
	IF NOT FOUND THEN
		-- one snapshot: its table is still empty, or it came meanwhile (then lock it)
		IF EXISTS (SELECT 1 FROM billing.brand) AND NOT EXISTS (SELECT 1 FROM billing.brand p WHERE p.id = NEW.brand_id) THEN
			PERFORM billing.refuse_dangling(format('%s "%s"', replace(TG_TABLE_NAME, '_', ' '), NEW.code),
			                                format('brand %s', NEW.brand_id), 'brand');
		END IF;
		PERFORM 1 FROM billing.brand p WHERE p.id = NEW.brand_id FOR KEY SHARE;
	END IF;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION billing.brand_reference_check() IS
	'trigger: the brand of a schedule, bank account, member or buyer exists (or no brand is loaded yet)';
CREATE OR REPLACE TRIGGER schedule_brand_reference BEFORE INSERT OR UPDATE OF brand_id ON billing.schedule
	FOR EACH ROW EXECUTE FUNCTION billing.brand_reference_check();
CREATE OR REPLACE TRIGGER bank_account_brand_reference BEFORE INSERT OR UPDATE OF brand_id ON billing.bank_account
	FOR EACH ROW EXECUTE FUNCTION billing.brand_reference_check();
CREATE OR REPLACE TRIGGER member_brand_reference BEFORE INSERT OR UPDATE OF brand_id ON billing.member
	FOR EACH ROW EXECUTE FUNCTION billing.brand_reference_check();
CREATE OR REPLACE TRIGGER buyer_brand_reference BEFORE INSERT OR UPDATE OF brand_id ON billing.buyer
	FOR EACH ROW EXECUTE FUNCTION billing.brand_reference_check();
COMMENT ON TRIGGER schedule_brand_reference ON billing.schedule IS 'the schedule''s brand exists';
COMMENT ON TRIGGER bank_account_brand_reference ON billing.bank_account IS 'the bank account''s brand exists';
COMMENT ON TRIGGER member_brand_reference ON billing.member IS 'the member''s brand exists';
COMMENT ON TRIGGER buyer_brand_reference ON billing.buyer IS 'the buyer''s brand exists';

-- a buyer's schedule and default bank account, in its own brand
CREATE OR REPLACE FUNCTION billing.buyer_reference_check() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF NEW.schedule_id IS NOT NULL
	   AND (TG_OP = 'INSERT' OR (NEW.brand_id, NEW.schedule_id) IS DISTINCT FROM (OLD.brand_id, OLD.schedule_id)) THEN
		PERFORM 1 FROM billing.schedule p WHERE p.id = NEW.schedule_id AND p.brand_id = NEW.brand_id FOR KEY SHARE;
		IF NOT FOUND THEN
			-- one snapshot: its table is still empty, or it came meanwhile (then lock it)
			IF EXISTS (SELECT 1 FROM billing.schedule) AND NOT EXISTS (SELECT 1 FROM billing.schedule p WHERE p.id = NEW.schedule_id AND p.brand_id = NEW.brand_id) THEN
				PERFORM billing.refuse_dangling(format('buyer "%s"', NEW.code),
				                                format('schedule %s of brand %s', NEW.schedule_id, NEW.brand_id),
				                                'schedule');
			END IF;
			PERFORM 1 FROM billing.schedule p WHERE p.id = NEW.schedule_id AND p.brand_id = NEW.brand_id FOR KEY SHARE;
		END IF;
	END IF;
	IF NEW.default_bank_account_id IS NOT NULL
	   AND (TG_OP = 'INSERT' OR (NEW.brand_id, NEW.default_bank_account_id)
	                            IS DISTINCT FROM (OLD.brand_id, OLD.default_bank_account_id)) THEN
		PERFORM 1 FROM billing.bank_account p WHERE p.id = NEW.default_bank_account_id AND p.brand_id = NEW.brand_id FOR KEY SHARE;
		IF NOT FOUND THEN
			-- one snapshot: its table is still empty, or it came meanwhile (then lock it)
			IF EXISTS (SELECT 1 FROM billing.bank_account) AND NOT EXISTS (SELECT 1 FROM billing.bank_account p WHERE p.id = NEW.default_bank_account_id AND p.brand_id = NEW.brand_id) THEN
				PERFORM billing.refuse_dangling(format('buyer "%s"', NEW.code),
				                                format('bank account %s of brand %s', NEW.default_bank_account_id,
				                                       NEW.brand_id),
				                                'bank_account');
			END IF;
			PERFORM 1 FROM billing.bank_account p WHERE p.id = NEW.default_bank_account_id AND p.brand_id = NEW.brand_id FOR KEY SHARE;
		END IF;
	END IF;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION billing.buyer_reference_check() IS
	'trigger: a buyer''s schedule and default bank account exist in its brand (or none is loaded yet)';
CREATE OR REPLACE TRIGGER buyer_reference BEFORE INSERT OR UPDATE OF brand_id, schedule_id, default_bank_account_id
	ON billing.buyer FOR EACH ROW EXECUTE FUNCTION billing.buyer_reference_check();
COMMENT ON TRIGGER buyer_reference ON billing.buyer IS 'the buyer''s schedule and bank account exist in its brand';

-- a document's buyer, in its own brand
CREATE OR REPLACE FUNCTION billing.document_reference_check() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF TG_OP = 'UPDATE' AND (NEW.buyer_id, NEW.brand_id) IS NOT DISTINCT FROM (OLD.buyer_id, OLD.brand_id) THEN
		RETURN NEW;
	END IF;
	PERFORM 1 FROM billing.buyer p WHERE p.id = NEW.buyer_id AND p.brand_id = NEW.brand_id FOR KEY SHARE;
	IF NOT FOUND THEN
		-- one snapshot: its table is still empty, or it came meanwhile (then lock it)
		IF EXISTS (SELECT 1 FROM billing.buyer) AND NOT EXISTS (SELECT 1 FROM billing.buyer p WHERE p.id = NEW.buyer_id AND p.brand_id = NEW.brand_id) THEN
			PERFORM billing.refuse_dangling(format('%s "%s"', NEW.kind, NEW.reference),
			                                format('buyer %s of brand %s', NEW.buyer_id, NEW.brand_id), 'buyer');
		END IF;
		PERFORM 1 FROM billing.buyer p WHERE p.id = NEW.buyer_id AND p.brand_id = NEW.brand_id FOR KEY SHARE;
	END IF;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION billing.document_reference_check() IS
	'trigger: a document''s buyer exists in its brand (or no buyer is loaded yet)';
CREATE OR REPLACE TRIGGER document_reference BEFORE INSERT OR UPDATE OF buyer_id, brand_id
	ON billing.document FOR EACH ROW EXECUTE FUNCTION billing.document_reference_check();
COMMENT ON TRIGGER document_reference ON billing.document IS 'the document''s buyer exists in its brand';

-- a run's brand and schedule
CREATE OR REPLACE FUNCTION billing.invoice_run_reference_check() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF TG_OP = 'UPDATE' AND (NEW.brand_id, NEW.schedule_id) IS NOT DISTINCT FROM (OLD.brand_id, OLD.schedule_id) THEN
		RETURN NEW;
	END IF;
	PERFORM 1 FROM billing.brand p WHERE p.id = NEW.brand_id FOR KEY SHARE;
	IF NOT FOUND THEN
		-- one snapshot: its table is still empty, or it came meanwhile (then lock it)
		IF EXISTS (SELECT 1 FROM billing.brand) AND NOT EXISTS (SELECT 1 FROM billing.brand p WHERE p.id = NEW.brand_id) THEN
			PERFORM billing.refuse_dangling(format('invoice run %s', NEW.id), format('brand %s', NEW.brand_id), 'brand');
		END IF;
		PERFORM 1 FROM billing.brand p WHERE p.id = NEW.brand_id FOR KEY SHARE;
	END IF;
	PERFORM 1 FROM billing.schedule p WHERE p.id = NEW.schedule_id FOR KEY SHARE;
	IF NOT FOUND THEN
		-- one snapshot: its table is still empty, or it came meanwhile (then lock it)
		IF EXISTS (SELECT 1 FROM billing.schedule) AND NOT EXISTS (SELECT 1 FROM billing.schedule p WHERE p.id = NEW.schedule_id) THEN
			PERFORM billing.refuse_dangling(format('invoice run %s', NEW.id), format('schedule %s', NEW.schedule_id),
			                                'schedule');
		END IF;
		PERFORM 1 FROM billing.schedule p WHERE p.id = NEW.schedule_id FOR KEY SHARE;
	END IF;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION billing.invoice_run_reference_check() IS
	'trigger: a run''s brand and schedule exist (or none is loaded yet)';
CREATE OR REPLACE TRIGGER invoice_run_reference BEFORE INSERT OR UPDATE OF brand_id, schedule_id
	ON billing.invoice_run FOR EACH ROW EXECUTE FUNCTION billing.invoice_run_reference_check();
COMMENT ON TRIGGER invoice_run_reference ON billing.invoice_run IS 'the run''s brand and schedule exist';

-- the run of a log line
CREATE OR REPLACE FUNCTION billing.run_log_reference_check() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF TG_OP = 'UPDATE' AND NEW.run_id IS NOT DISTINCT FROM OLD.run_id THEN
		RETURN NEW;
	END IF;
	PERFORM 1 FROM billing.invoice_run p WHERE p.id = NEW.run_id FOR KEY SHARE;
	IF NOT FOUND THEN
		-- one snapshot: its table is still empty, or it came meanwhile (then lock it)
		IF EXISTS (SELECT 1 FROM billing.invoice_run) AND NOT EXISTS (SELECT 1 FROM billing.invoice_run p WHERE p.id = NEW.run_id) THEN
			PERFORM billing.refuse_dangling(format('run log line %s', NEW.id), format('invoice run %s', NEW.run_id),
			                                'invoice_run');
		END IF;
		PERFORM 1 FROM billing.invoice_run p WHERE p.id = NEW.run_id FOR KEY SHARE;
	END IF;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION billing.run_log_reference_check() IS
	'trigger: the run of a log line exists (or no run is loaded yet)';
CREATE OR REPLACE TRIGGER run_log_reference BEFORE INSERT OR UPDATE OF run_id
	ON billing.run_log FOR EACH ROW EXECUTE FUNCTION billing.run_log_reference_check();
COMMENT ON TRIGGER run_log_reference ON billing.run_log IS 'the log line''s run exists';

-- the run of a notification and the member notified
CREATE OR REPLACE FUNCTION billing.notification_reference_check() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF TG_OP = 'UPDATE' AND (NEW.run_id, NEW.member_id) IS NOT DISTINCT FROM (OLD.run_id, OLD.member_id) THEN
		RETURN NEW;
	END IF;
	PERFORM 1 FROM billing.invoice_run p WHERE p.id = NEW.run_id FOR KEY SHARE;
	IF NOT FOUND THEN
		-- one snapshot: its table is still empty, or it came meanwhile (then lock it)
		IF EXISTS (SELECT 1 FROM billing.invoice_run) AND NOT EXISTS (SELECT 1 FROM billing.invoice_run p WHERE p.id = NEW.run_id) THEN
			PERFORM billing.refuse_dangling(format('notification %s', NEW.id), format('invoice run %s', NEW.run_id),
			                                'invoice_run');
		END IF;
		PERFORM 1 FROM billing.invoice_run p WHERE p.id = NEW.run_id FOR KEY SHARE;
	END IF;
	PERFORM 1 FROM billing.member p WHERE p.id = NEW.member_id FOR KEY SHARE;
	IF NOT FOUND THEN
		-- one snapshot: its table is still empty, or it came meanwhile (then lock it)
		IF EXISTS (SELECT 1 FROM billing.member) AND NOT EXISTS (SELECT 1 FROM billing.member p WHERE p.id = NEW.member_id) THEN
			PERFORM billing.refuse_dangling(format('notification %s', NEW.id), format('member %s', NEW.member_id),
			                                'member');
		END IF;
		PERFORM 1 FROM billing.member p WHERE p.id = NEW.member_id FOR KEY SHARE;
	END IF;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION billing.notification_reference_check() IS
	'trigger: the run of a notification and the member notified exist (or none is loaded yet)';
CREATE OR REPLACE TRIGGER notification_reference BEFORE INSERT OR UPDATE OF run_id, member_id
	ON billing.notification FOR EACH ROW EXECUTE FUNCTION billing.notification_reference_check();
COMMENT ON TRIGGER notification_reference ON billing.notification IS 'the notification''s run and member exist';

------------------------------------------------------------------------------
-- Parent side: a row referred to keeps its key and is not deleted; a new
-- row adopts no reference of another brand.  AFTER triggers: the check
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
	IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND (NEW.id, NEW.brand_id) IS DISTINCT FROM (OLD.id, OLD.brand_id)) THEN
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
	IF TG_OP <> 'DELETE' THEN
		SELECT format('buyer "%s"', b.code) INTO child FROM billing.buyer b
		WHERE b.schedule_id = NEW.id AND b.brand_id <> NEW.brand_id LIMIT 1;
		IF child IS NOT NULL THEN
			PERFORM billing.refuse_adoption(format('schedule "%s" (id %s)', NEW.code, NEW.id), child);
		END IF;
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION billing.schedule_referenced() IS
	'trigger: a schedule that buyers or runs refer to is kept; a new one adopts no buyer of another brand';
CREATE OR REPLACE TRIGGER schedule_referenced AFTER INSERT OR DELETE OR UPDATE OF id, brand_id ON billing.schedule
	FOR EACH ROW EXECUTE FUNCTION billing.schedule_referenced();
COMMENT ON TRIGGER schedule_referenced ON billing.schedule IS 'a schedule that buyers or runs refer to is kept';

CREATE OR REPLACE FUNCTION billing.bank_account_referenced() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	child text;
BEGIN
	IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND (NEW.id, NEW.brand_id) IS DISTINCT FROM (OLD.id, OLD.brand_id)) THEN
		SELECT format('buyer "%s"', b.code) INTO child FROM billing.buyer b
		WHERE b.default_bank_account_id = OLD.id AND b.brand_id = OLD.brand_id LIMIT 1;
		IF child IS NOT NULL THEN
			PERFORM billing.refuse_referenced(TG_OP, format('bank account "%s"', OLD.code), child);
		END IF;
	END IF;
	IF TG_OP <> 'DELETE' THEN
		SELECT format('buyer "%s"', b.code) INTO child FROM billing.buyer b
		WHERE b.default_bank_account_id = NEW.id AND b.brand_id <> NEW.brand_id LIMIT 1;
		IF child IS NOT NULL THEN
			PERFORM billing.refuse_adoption(format('bank account "%s" (id %s)', NEW.code, NEW.id), child);
		END IF;
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION billing.bank_account_referenced() IS
	'trigger: a bank account that buyers default to is kept; a new one adopts no buyer of another brand';
CREATE OR REPLACE TRIGGER bank_account_referenced AFTER INSERT OR DELETE OR UPDATE OF id, brand_id
	ON billing.bank_account FOR EACH ROW EXECUTE FUNCTION billing.bank_account_referenced();
COMMENT ON TRIGGER bank_account_referenced ON billing.bank_account IS 'a bank account that buyers default to is kept';

CREATE OR REPLACE FUNCTION billing.buyer_referenced() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	child text;
BEGIN
	IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND (NEW.id, NEW.brand_id) IS DISTINCT FROM (OLD.id, OLD.brand_id)) THEN
		SELECT format('%s "%s"', d.kind, d.reference) INTO child FROM billing.document d
		WHERE d.buyer_id = OLD.id AND d.brand_id = OLD.brand_id LIMIT 1;
		IF child IS NOT NULL THEN
			PERFORM billing.refuse_referenced(TG_OP, format('buyer "%s"', OLD.code), child);
		END IF;
	END IF;
	IF TG_OP <> 'DELETE' THEN
		SELECT format('%s "%s"', d.kind, d.reference) INTO child FROM billing.document d
		WHERE d.buyer_id = NEW.id AND d.brand_id <> NEW.brand_id LIMIT 1;
		IF child IS NOT NULL THEN
			PERFORM billing.refuse_adoption(format('buyer "%s" (id %s)', NEW.code, NEW.id), child);
		END IF;
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION billing.buyer_referenced() IS
	'trigger: a buyer with documents is kept; a new one adopts no document of another brand';
CREATE OR REPLACE TRIGGER buyer_referenced AFTER INSERT OR DELETE OR UPDATE OF id, brand_id
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

REVOKE ALL ON FUNCTION billing.refuse_dangling(text, text, text), billing.refuse_referenced(text, text, text),
	billing.refuse_adoption(text, text), billing.brand_reference_check(), billing.buyer_reference_check(),
	billing.document_reference_check(), billing.invoice_run_reference_check(),
	billing.run_log_reference_check(), billing.notification_reference_check(), billing.brand_referenced(), billing.schedule_referenced(),
	billing.bank_account_referenced(), billing.buyer_referenced(), billing.member_referenced(),
	billing.invoice_run_referenced()
	FROM PUBLIC;
