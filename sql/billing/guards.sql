-- sql/billing/guards.sql: the triggers that keep the tables' rules

-- The schedule's rules, checked before the constraints so that each refusal
-- says what is wrong in a clerk's words (the constraints stay as a backstop).
CREATE OR REPLACE FUNCTION billing.schedule_check() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF EXISTS (SELECT 1 FROM billing.schedule s
	           WHERE s.brand_id = NEW.brand_id AND s.code = NEW.code AND s.id <> NEW.id) THEN
		RAISE EXCEPTION 'billing schedule code "%" already exists in this brand', NEW.code
			USING ERRCODE = 'unique_violation',
			      HINT = 'Schedule codes identify a schedule within its brand; choose another code.';
	END IF;
	-- the same function as the constraint schedule_issue_delay_check (checks.sql)
	PERFORM billing.check_issue_delay(NEW.issue_delay, NEW.code);
	IF NEW.override_due_rule AND NEW.due_rule IS NULL THEN
		RAISE EXCEPTION 'billing schedule "%" overrides the payment due rule but has no due rule', NEW.code
			USING ERRCODE = 'check_violation',
			      HINT = 'Set due_rule (for example month+1:eom or net:30), or set override_due_rule to false.';
	END IF;
	IF NOT NEW.override_due_rule AND NEW.due_rule IS NOT NULL THEN
		RAISE EXCEPTION 'billing schedule "%" has due rule "%" but does not override the buyers'' due rules',
			NEW.code, NEW.due_rule
			USING ERRCODE = 'check_violation',
			      HINT = 'Set override_due_rule to true to use the schedule''s due rule, or leave due_rule empty to use each buyer''s.';
	END IF;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION billing.schedule_check() IS
	'trigger: refuses a duplicate code, an issue delay out of range and a due rule without its override, in a clerk''s words';
CREATE OR REPLACE TRIGGER schedule_check BEFORE INSERT OR UPDATE ON billing.schedule
	FOR EACH ROW EXECUTE FUNCTION billing.schedule_check();

-- Applying a schedule stamps when: drafts start with the first period whose
-- issue moment comes after it (the seed's "at the point when application to
-- the Buyer is completed").
CREATE OR REPLACE FUNCTION billing.buyer_stamp_schedule() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF NEW.schedule_id IS NULL THEN
		NEW.schedule_applied_at := NULL;
	ELSIF TG_OP = 'INSERT' THEN
		NEW.schedule_applied_at := coalesce(NEW.schedule_applied_at, now());
	ELSIF NEW.schedule_id IS DISTINCT FROM OLD.schedule_id
	      AND NEW.schedule_applied_at IS NOT DISTINCT FROM OLD.schedule_applied_at THEN
		NEW.schedule_applied_at := now();
	END IF;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION billing.buyer_stamp_schedule() IS
	'trigger: stamps schedule_applied_at when a buyer''s schedule is set or changed';
CREATE OR REPLACE TRIGGER buyer_stamp_schedule BEFORE INSERT OR UPDATE OF schedule_id, schedule_applied_at
	ON billing.buyer FOR EACH ROW EXECUTE FUNCTION billing.buyer_stamp_schedule();

-- Invoices are made only by runs, from rows that exist, so they carry no
-- foreign keys: five checks per invoice cost more than a second per hundred
-- thousand drafts.  Instead, what an invoice points at cannot be deleted
-- while the invoice exists (brands and schedules are held by their runs:
-- references.sql).
CREATE OR REPLACE FUNCTION billing.refuse_delete_when_invoiced() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	invoice bigint;
BEGIN
	EXECUTE format('SELECT i.id FROM billing.invoice i WHERE i.%I = $1 LIMIT 1', TG_ARGV[0])
	INTO invoice USING OLD.id;
	IF invoice IS NOT NULL THEN
		RAISE EXCEPTION 'cannot delete % %: invoice % refers to it', TG_TABLE_NAME, OLD.id, invoice
			USING ERRCODE = 'foreign_key_violation',
			      HINT = 'Invoices are kept for the record; cancel them instead of deleting what they refer to.';
	END IF;
	RETURN OLD;
END
$$;
COMMENT ON FUNCTION billing.refuse_delete_when_invoiced() IS
	'trigger: refuses deleting a buyer, bank account or run that an invoice refers to';
CREATE OR REPLACE TRIGGER buyer_invoiced BEFORE DELETE ON billing.buyer
	FOR EACH ROW EXECUTE FUNCTION billing.refuse_delete_when_invoiced('buyer_id');
CREATE OR REPLACE TRIGGER bank_account_invoiced BEFORE DELETE ON billing.bank_account
	FOR EACH ROW EXECUTE FUNCTION billing.refuse_delete_when_invoiced('bank_account_id');
CREATE OR REPLACE TRIGGER invoice_run_invoiced BEFORE DELETE ON billing.invoice_run
	FOR EACH ROW EXECUTE FUNCTION billing.refuse_delete_when_invoiced('run_id');

-- A document on an invoice is frozen: to correct it, delete the draft first
-- (the seed's rule that a draft's amounts are never edited in place).  The
-- guard takes the row of the buyer's schedule FOR SHARE (a run holds it FOR
-- NO KEY UPDATE: src/run.c), so it waits for a run that may be linking the
-- document and then sees that run's links.  SECURITY DEFINER so that the
-- writer of a document needs no UPDATE right on schedules; a trigger
-- function cannot be called otherwise, so the lock is taken only for a
-- document the caller may change.
CREATE OR REPLACE FUNCTION billing.document_guard() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	schedule bigint;
	invoice bigint;
BEGIN
	IF TG_OP = 'UPDATE' AND (NEW.buyer_id, NEW.brand_id, NEW.kind, NEW.document_date,
	                         NEW.billable, NEW.amount, NEW.tax_rate)
	     IS NOT DISTINCT FROM (OLD.buyer_id, OLD.brand_id, OLD.kind, OLD.document_date,
	                           OLD.billable, OLD.amount, OLD.tax_rate) THEN
		RETURN NEW;
	END IF;
	SELECT b.schedule_id INTO schedule FROM billing.buyer b WHERE b.id = OLD.buyer_id;
	IF schedule IS NOT NULL THEN
		PERFORM 1 FROM billing.schedule s WHERE s.id = schedule FOR SHARE;
	END IF;
	SELECT l.invoice_id INTO invoice FROM billing.document_link l
	WHERE l.buyer_id = OLD.buyer_id AND l.document_id = OLD.id;
	IF FOUND THEN
		RAISE EXCEPTION '% "%" is on invoice % and cannot be %', OLD.kind, OLD.reference, invoice,
			CASE TG_OP WHEN 'DELETE' THEN 'deleted' ELSE 'changed' END
			USING ERRCODE = 'object_not_in_prerequisite_state',
			      HINT = 'Delete the draft invoice first with billing.delete_drafts(), then correct the document.';
	END IF;
	IF TG_OP = 'DELETE' THEN
		RETURN OLD;
	END IF;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION billing.document_guard() IS
	'trigger: a document on an invoice cannot be changed or deleted (delete the draft first); waits for a run of its buyer''s schedule';
CREATE OR REPLACE TRIGGER document_guard BEFORE UPDATE OR DELETE ON billing.document
	FOR EACH ROW EXECUTE FUNCTION billing.document_guard();

-- An amount must fit its brand's currency (no sen in yen, no tenth of a
-- cent in euros).  Checked once per statement over the new rows: the
-- brands' scales are read first, then the new rows are checked once per
-- distinct scale with the scale and its brands as parameters, so a bulk
-- load of a million documents pays a scan or two, not a lookup per row,
-- and the transition table is never joined with another table (which a
-- distributed planner cannot do).
CREATE OR REPLACE FUNCTION billing.document_currency_check() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	per_scale record;
	bad record;
	brand billing.brand;
BEGIN
	FOR per_scale IN
		SELECT b.currency_scale, array_agg(b.id ORDER BY b.id) AS brand_ids
		FROM billing.brand b GROUP BY b.currency_scale ORDER BY b.currency_scale
	LOOP
		SELECT d.reference, d.kind, d.amount, d.brand_id INTO bad
		FROM new_documents d
		WHERE d.brand_id = ANY (per_scale.brand_ids)
		  AND d.amount <> round(d.amount, per_scale.currency_scale)
		LIMIT 1;
		IF FOUND THEN
			SELECT * INTO brand FROM billing.brand b WHERE b.id = bad.brand_id;
			RAISE EXCEPTION '% "%" has amount %, finer than % allows', bad.kind, bad.reference, bad.amount, brand.currency
				USING ERRCODE = 'check_violation',
				      DETAIL = format('%s amounts have %s decimal places.', brand.currency, brand.currency_scale),
				      HINT = 'Round the amount to the currency''s minor unit before recording it.';
		END IF;
	END LOOP;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION billing.document_currency_check() IS
	'trigger: once per statement, refuses document amounts finer than the brand''s currency';
CREATE OR REPLACE TRIGGER document_currency_on_insert AFTER INSERT ON billing.document
	REFERENCING NEW TABLE AS new_documents
	FOR EACH STATEMENT EXECUTE FUNCTION billing.document_currency_check();
CREATE OR REPLACE TRIGGER document_currency_on_update AFTER UPDATE ON billing.document
	REFERENCING NEW TABLE AS new_documents
	FOR EACH STATEMENT EXECUTE FUNCTION billing.document_currency_check();
