-- src/sql/guards.sql: the triggers that keep the tables' rules

-- The schedule's rules, checked before the constraints so that each refusal
-- says what is wrong in a clerk's words (the constraints stay as a backstop).
CREATE OR REPLACE FUNCTION billing_internal.schedule_check() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF EXISTS (SELECT 1 FROM billing.schedule s
	           WHERE s.brand_id = NEW.brand_id AND s.code = NEW.code AND s.id <> NEW.id) THEN
		RAISE EXCEPTION 'billing schedule code "%" already exists in this brand', NEW.code
			USING ERRCODE = 'unique_violation',
			      HINT = 'Schedule codes identify a schedule within its brand; choose another code.';
	END IF;
	-- the same function as the constraint schedule_issue_delay_check (checks.sql)
	PERFORM billing_internal.check_issue_delay(NEW.issue_delay, NEW.code);
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
COMMENT ON FUNCTION billing_internal.schedule_check() IS
	'trigger: refuses a duplicate code, an issue delay out of range and a due rule without its override, in a clerk''s words';
REVOKE ALL ON FUNCTION billing_internal.schedule_check() FROM PUBLIC;
CREATE OR REPLACE TRIGGER schedule_check BEFORE INSERT OR UPDATE ON billing.schedule
	FOR EACH ROW EXECUTE FUNCTION billing_internal.schedule_check();

-- Applying a schedule stamps when: drafts start with the first period whose
-- issue moment comes after it (the seed's "at the point when application to
-- the Buyer is completed").
--
-- A given schedule_applied_at is bounded, because issue_drafts plans every
-- period from the earliest one on (4714 BC made every brand's nightly call
-- fail; 2016 made 131 runs in one call):
--  - not before the schedule was created, less a year.  Back-dating is
--    legitimate (a buyer signed up last month is billed for that month's
--    period; a migration brings its buyers' past applications), and a year
--    reaches the last closed period of every cycle, yearly included.  To
--    bill further back on purpose, set the schedule's created_at back first:
--    the schedule then says since when it is meant to be in use.
--  - not in the future, allowing 5 minutes of clock skew between the
--    application's clock and the database's (an application that stamps
--    its own time).
-- A CHECK cannot read the schedule or the clock, hence this trigger.
CREATE OR REPLACE FUNCTION billing_internal.buyer_stamp_schedule() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	schedule billing.schedule;
	by_code bigint;
BEGIN
	-- the schedule by id or by code: the one given fills in the other
	IF TG_OP = 'INSERT' OR NEW.schedule_id IS DISTINCT FROM OLD.schedule_id
	   OR NEW.schedule_code IS DISTINCT FROM OLD.schedule_code THEN
		IF NEW.schedule_code IS NOT NULL
		   AND (TG_OP = 'INSERT' OR NEW.schedule_code IS DISTINCT FROM OLD.schedule_code) THEN
			SELECT s.id INTO by_code FROM billing.schedule s
			WHERE s.brand_id = NEW.brand_id AND s.code = NEW.schedule_code;
			IF by_code IS NULL THEN
				RAISE EXCEPTION 'buyer "%": billing schedule "%" does not exist in its brand', NEW.code, NEW.schedule_code
					USING ERRCODE = 'foreign_key_violation',
					      HINT = 'The brand''s schedules are listed by SELECT id, code, name FROM billing.schedule WHERE brand_id = ' || NEW.brand_id || '.';
			END IF;
			IF NEW.schedule_id IS NOT NULL AND NEW.schedule_id <> by_code
			   AND (TG_OP = 'INSERT' OR NEW.schedule_id IS DISTINCT FROM OLD.schedule_id) THEN
				RAISE EXCEPTION 'buyer "%": schedule_id % is not billing schedule "%"', NEW.code, NEW.schedule_id, NEW.schedule_code
					USING ERRCODE = 'check_violation',
					      HINT = 'Give the schedule by one of schedule_id or schedule_code.';
			END IF;
			NEW.schedule_id := by_code;
		ELSIF NEW.schedule_id IS NULL THEN
			NEW.schedule_code := NULL;
		ELSIF TG_OP = 'UPDATE' AND NEW.schedule_code IS NULL AND NEW.schedule_id = OLD.schedule_id THEN
			NEW.schedule_id := NULL;	-- the schedule taken away by its code
		ELSE
			NEW.schedule_code := (SELECT s.code FROM billing.schedule s
			                      WHERE s.brand_id = NEW.brand_id AND s.id = NEW.schedule_id);
			IF NEW.schedule_code IS NULL THEN
				RAISE EXCEPTION 'buyer "%": billing schedule % does not exist in its brand', NEW.code, NEW.schedule_id
					USING ERRCODE = 'foreign_key_violation',
					      HINT = 'The brand''s schedules are listed by SELECT id, code, name FROM billing.schedule WHERE brand_id = ' || NEW.brand_id || '.';
			END IF;
		END IF;
	END IF;
	IF NEW.schedule_id IS NULL THEN
		NEW.schedule_applied_at := NULL;
	ELSIF TG_OP = 'INSERT' THEN
		NEW.schedule_applied_at := coalesce(NEW.schedule_applied_at, now());
	ELSIF NEW.schedule_id IS DISTINCT FROM OLD.schedule_id
	      AND NEW.schedule_applied_at IS NOT DISTINCT FROM OLD.schedule_applied_at THEN
		NEW.schedule_applied_at := now();
	END IF;
	IF NEW.schedule_applied_at IS NULL
	   OR (TG_OP = 'UPDATE' AND (NEW.schedule_id, NEW.schedule_applied_at)
	                            IS NOT DISTINCT FROM (OLD.schedule_id, OLD.schedule_applied_at)) THEN
		RETURN NEW;
	END IF;
	IF NOT isfinite(NEW.schedule_applied_at) THEN
		RAISE EXCEPTION 'schedule_applied_at of buyer "%" must be a finite time, got %',
			NEW.code, NEW.schedule_applied_at
			USING ERRCODE = 'check_violation',
			      HINT = 'Leave schedule_applied_at out to stamp the present moment.';
	END IF;
	IF NEW.schedule_applied_at > clock_timestamp() + interval '5 minutes' THEN
		RAISE EXCEPTION 'schedule_applied_at % of buyer "%" is in the future', NEW.schedule_applied_at, NEW.code
			USING ERRCODE = 'check_violation',
			      DETAIL = 'A schedule is applied at the present moment or earlier; 5 minutes ahead are allowed for clock skew.',
			      HINT = 'Leave schedule_applied_at out to stamp the present moment, and set the schedule when the buyer is to start.';
	END IF;
	SELECT * INTO schedule FROM billing.schedule s WHERE s.id = NEW.schedule_id;
	IF NEW.schedule_applied_at < schedule.created_at - interval '1 year' THEN
		RAISE EXCEPTION 'schedule_applied_at % of buyer "%" is more than a year before billing schedule "%" was created',
			NEW.schedule_applied_at, NEW.code, schedule.code
			USING ERRCODE = 'check_violation',
			      DETAIL = format('The schedule was created at %s; an application may be back-dated by up to a year before that, to bill periods already closed.',
			                      schedule.created_at),
			      HINT = 'Apply it later, or, to bill older periods on purpose, first set the schedule''s created_at back to when it is meant to be in use.';
	END IF;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION billing_internal.buyer_stamp_schedule() IS
	'trigger: fills in a buyer''s schedule_id from schedule_code or the other way round, stamps schedule_applied_at when the schedule is set or changed, and keeps a given one from a year before the schedule was created up to now';
REVOKE ALL ON FUNCTION billing_internal.buyer_stamp_schedule() FROM PUBLIC;
CREATE OR REPLACE TRIGGER buyer_stamp_schedule BEFORE INSERT OR UPDATE OF schedule_id, schedule_code, schedule_applied_at
	ON billing.buyer FOR EACH ROW EXECUTE FUNCTION billing_internal.buyer_stamp_schedule();

-- Invoices carry no foreign key to their buyer or run (each check costs the
-- run more than 10%: tables.sql).  Instead, a buyer or run that an invoice
-- points at cannot be deleted while the invoice exists (their keys never
-- move: key_never_moves below).
CREATE OR REPLACE FUNCTION billing_internal.refuse_delete_when_invoiced() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	invoice bigint;
BEGIN
	-- On Citus the trigger fires on a shard of buyer or on a placement of
	-- invoice_run, where the distributed invoices cannot be read ("cannot
	-- execute a distributed query from a query on a shard").  A run row
	-- is deleted only by the billing functions (records_guard), and only
	-- a rerun that made no invoice (finish_run): there is nothing to
	-- check.  A buyer is not deleted there.
	IF billing_internal.on_citus() THEN
		IF TG_ARGV[0] = 'run_id' THEN
			RETURN OLD;
		END IF;
		RAISE EXCEPTION 'cannot delete buyer %: billing is on Citus, where buyers are kept', OLD.id
			USING ERRCODE = 'feature_not_supported',
			      DETAIL = 'Whether an invoice refers to the buyer cannot be checked from the buyer''s shard.',
			      HINT = 'Keep the buyer: one without a schedule (schedule_code NULL) gets no drafts.';
	END IF;
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
COMMENT ON FUNCTION billing_internal.refuse_delete_when_invoiced() IS
	'trigger: refuses deleting a buyer or run that an invoice refers to';
REVOKE ALL ON FUNCTION billing_internal.refuse_delete_when_invoiced() FROM PUBLIC;
CREATE OR REPLACE TRIGGER buyer_invoiced BEFORE DELETE ON billing.buyer
	FOR EACH ROW EXECUTE FUNCTION billing_internal.refuse_delete_when_invoiced('buyer_id');
CREATE OR REPLACE TRIGGER invoice_run_invoiced BEFORE DELETE ON billing.invoice_run
	FOR EACH ROW EXECUTE FUNCTION billing_internal.refuse_delete_when_invoiced('run_id');

-- billing_internal.local_copy: this node's copy (placement) of a Citus
-- reference table of billing, as the name of the shard table, or NULL when
-- this node holds none (a coordinator left out of Citus's metadata); a row
-- lock taken there is taken on this node only, outside Citus's locks on
-- the whole table.  Read where Citus is (a shard's trigger, the run on a
-- placed coordinator).
CREATE OR REPLACE FUNCTION billing_internal.local_copy(reference regclass) RETURNS text
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	copy text;
BEGIN
	EXECUTE 'SELECT pg_catalog.shard_name(s.logicalrelid, s.shardid)
	         FROM pg_catalog.pg_dist_shard s JOIN pg_catalog.pg_dist_placement p ON p.shardid = s.shardid
	         WHERE s.logicalrelid = $1 AND p.groupid = (SELECT g.groupid FROM pg_catalog.pg_dist_local_group g)'
		INTO copy USING reference;
	RETURN copy;
END
$$;
COMMENT ON FUNCTION billing_internal.local_copy(regclass) IS
	'internal: this node''s copy of a Citus reference table of billing, as its shard table''s name; NULL when this node has none';
REVOKE ALL ON FUNCTION billing_internal.local_copy(regclass) FROM PUBLIC;

-- billing_internal.wait_for_schedule_run: takes the schedule's row FOR
-- SHARE until the transaction ends, so that it waits for a run of the
-- schedule (which holds it FOR NO KEY UPDATE: src/run.c) and keeps one
-- from starting meanwhile.  On a Citus shard (on_shard) the row of this
-- node's copy, which a run locks on every copy.  Called by the guards of
-- documents and buyers, as the owner.
CREATE OR REPLACE FUNCTION billing_internal.wait_for_schedule_run(schedule_id bigint, on_shard boolean) RETURNS void
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	copy text;
BEGIN
	IF NOT on_shard THEN
		PERFORM 1 FROM billing.schedule s WHERE s.id = wait_for_schedule_run.schedule_id FOR SHARE;
		RETURN;
	END IF;
	-- through Citus, a FOR SHARE would lock the whole table and wait for
	-- every schedule's run
	copy := billing_internal.local_copy('billing.schedule');
	IF copy IS NULL THEN
		RAISE EXCEPTION 'billing.schedule has no copy on this node, so a run of schedule % cannot be waited for here', schedule_id
			USING ERRCODE = 'object_not_in_prerequisite_state',
			      HINT = 'Every node that holds billing''s shards holds a copy of its reference tables: see that this node is in Citus''s metadata (citus_add_node).';
	END IF;
	EXECUTE format('SELECT 1 FROM %s s WHERE s.id = $1 FOR SHARE', copy) USING schedule_id;
END
$$;
COMMENT ON FUNCTION billing_internal.wait_for_schedule_run(bigint, boolean) IS
	'internal: takes the schedule''s row FOR SHARE (on a Citus shard, this node''s copy): waits for a run of the schedule and keeps one from starting';
REVOKE ALL ON FUNCTION billing_internal.wait_for_schedule_run(bigint, boolean) FROM PUBLIC;

-- A buyer moved off a schedule, or onto one, waits for a run of either: a
-- run reads its buyers by schedule, and the document guard locks the
-- schedule a buyer has now, so a buyer moved off while its run is linking
-- its documents would let them be changed under that run.  SECURITY
-- DEFINER for the same reason as document_guard's.
CREATE OR REPLACE FUNCTION billing_internal.buyer_schedule_guard() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF NEW.schedule_id IS DISTINCT FROM OLD.schedule_id THEN
		IF OLD.schedule_id IS NOT NULL THEN
			PERFORM billing_internal.wait_for_schedule_run(OLD.schedule_id, TG_TABLE_NAME <> 'buyer');
		END IF;
		IF NEW.schedule_id IS NOT NULL THEN
			PERFORM billing_internal.wait_for_schedule_run(NEW.schedule_id, TG_TABLE_NAME <> 'buyer');
		END IF;
	END IF;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION billing_internal.buyer_schedule_guard() IS
	'trigger: a buyer moved between schedules waits for a run of the schedule it leaves and of the one it joins';
REVOKE ALL ON FUNCTION billing_internal.buyer_schedule_guard() FROM PUBLIC;
-- after buyer_stamp_schedule (which fills schedule_id from schedule_code)
CREATE OR REPLACE TRIGGER buyer_wait_for_run BEFORE UPDATE OF schedule_id, schedule_code ON billing.buyer
	FOR EACH ROW EXECUTE FUNCTION billing_internal.buyer_schedule_guard();
COMMENT ON TRIGGER buyer_wait_for_run ON billing.buyer IS
	'a buyer moved between schedules waits for a run of either';

-- A document on an invoice is frozen: to correct it, delete the draft first
-- (the seed's rule that a draft's amounts are never edited in place).
-- Frozen is everything a run read: its key, buyer, brand, kind, date,
-- billable flag, amount, rate and never_invoice; the one change allowed is
-- cancel_run (reopen => false) closing it for good, inside the API.  The
-- guard takes the row of the buyer's schedule FOR SHARE (a run holds it FOR
-- NO KEY UPDATE: src/run.c), so it waits for a run that may be linking the
-- document and then sees that run's links.  SECURITY DEFINER so that the
-- writer of a document needs no UPDATE right on schedules; a trigger
-- function cannot be called otherwise, so the lock is taken only for a
-- document the caller may change.
CREATE OR REPLACE FUNCTION billing_internal.document_guard() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	schedule bigint;
	invoice bigint;
	invoice_status text;
BEGIN
	IF TG_OP = 'UPDATE' AND (NEW.id, NEW.buyer_id, NEW.brand_id, NEW.kind, NEW.document_date,
	                         NEW.billable, NEW.amount, NEW.tax_rate)
	     IS NOT DISTINCT FROM (OLD.id, OLD.buyer_id, OLD.brand_id, OLD.kind, OLD.document_date,
	                           OLD.billable, OLD.amount, OLD.tax_rate)
	   AND (NEW.never_invoice = OLD.never_invoice
	        OR (NEW.never_invoice AND current_setting('billing.api_write', true) = 'on')) THEN
		RETURN NEW;
	END IF;
	SELECT b.schedule_id INTO schedule FROM billing.buyer b WHERE b.id = OLD.buyer_id;
	IF schedule IS NOT NULL THEN
		-- (on a Citus shard, document_NNNN: this node's copy of the row)
		PERFORM billing_internal.wait_for_schedule_run(schedule, TG_TABLE_NAME <> 'document');
	END IF;
	SELECT l.invoice_id, i.status INTO invoice, invoice_status FROM billing.document_link l
	JOIN billing.invoice i ON i.buyer_id = l.buyer_id AND i.id = l.invoice_id
	WHERE l.buyer_id = OLD.buyer_id AND l.document_id = OLD.id;
	IF FOUND THEN
		-- the way out depends on where the invoice stands
		RAISE EXCEPTION '% "%" is on % invoice % and cannot be %', OLD.kind, OLD.reference,
			invoice_status, invoice, CASE TG_OP WHEN 'DELETE' THEN 'deleted' ELSE 'changed' END
			USING ERRCODE = 'object_not_in_prerequisite_state',
			      HINT = CASE invoice_status
			        WHEN 'draft' THEN format('Delete the draft first, SELECT * FROM billing.delete_drafts(%s), then correct the document.', invoice)
			        WHEN 'confirmed' THEN 'A confirmed invoice is issued and keeps its documents: record the correction as a new document (a return_note or credit_note), which a later run bills.'
			        ELSE format('Cancel the invoice first, SELECT * FROM billing.cancel_invoices(%s) (its documents are freed), then correct the document.', invoice) END;
	END IF;
	IF TG_OP = 'DELETE' THEN
		RETURN OLD;
	END IF;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION billing_internal.document_guard() IS
	'trigger: a document on an invoice cannot be changed or deleted (the hint says how, by the invoice''s status); waits for a run of its buyer''s schedule';
REVOKE ALL ON FUNCTION billing_internal.document_guard() FROM PUBLIC;
CREATE OR REPLACE TRIGGER document_guard BEFORE UPDATE OR DELETE ON billing.document
	FOR EACH ROW EXECUTE FUNCTION billing_internal.document_guard();

-- A document takes its buyer's brand: an insert may leave brand_id out (a
-- foreign key can check the pair but not fill it in), and one that names
-- another brand is refused naming both.  Read with the inserting role's
-- rights: a buyer it cannot see does not exist for it.
CREATE OR REPLACE FUNCTION billing_internal.document_brand() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	buyer billing.buyer;
BEGIN
	-- On Citus the trigger fires on a shard of billing.document (named
	-- document_102008, say), where the lookup below is a distributed query
	-- of its own for every row, about 50 kB of memory a row kept to the
	-- end of the statement: a load of 100,000 documents took the worker's
	-- backend to 5 GB, and placing 1,000,000 got it killed for memory.  A
	-- brand_id given is checked there by the foreign key (buyer_id,
	-- brand_id) alone, on the shard.
	IF NEW.brand_id IS NOT NULL AND TG_TABLE_NAME <> 'document' THEN
		RETURN NEW;
	END IF;
	SELECT * INTO buyer FROM billing.buyer b WHERE b.id = NEW.buyer_id;
	IF NOT FOUND THEN
		IF NEW.brand_id IS NULL THEN
			RAISE EXCEPTION 'document "%" refers to buyer %, which does not exist', NEW.reference,
				coalesce(NEW.buyer_id::text, 'NULL')
				USING ERRCODE = 'foreign_key_violation',
				      HINT = 'Buyers are listed by SELECT id, code, name FROM billing.buyer.';
		END IF;
		RETURN NEW;		-- the foreign key names the missing buyer
	END IF;
	IF NEW.brand_id IS NULL THEN
		NEW.brand_id := buyer.brand_id;
	ELSIF NEW.brand_id <> buyer.brand_id THEN
		RAISE EXCEPTION 'document "%" gives brand_id %, but its buyer % ("%") is of brand %',
			NEW.reference, NEW.brand_id, buyer.id, buyer.code, buyer.brand_id
			USING ERRCODE = 'foreign_key_violation',
			      HINT = 'Leave brand_id out: a document takes its buyer''s brand.';
	END IF;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION billing_internal.document_brand() IS
	'trigger: a new document takes its buyer''s brand (brand_id may be left out); another brand is refused naming both';
REVOKE ALL ON FUNCTION billing_internal.document_brand() FROM PUBLIC;
CREATE OR REPLACE TRIGGER document_brand BEFORE INSERT ON billing.document
	FOR EACH ROW EXECUTE FUNCTION billing_internal.document_brand();
COMMENT ON TRIGGER document_brand ON billing.document IS
	'fills a new document''s brand_id from its buyer, or refuses a brand that is not the buyer''s';

-- An amount must fit its brand's currency (no sen in yen, no tenth of a
-- cent in euros).  Checked once per statement over the new rows: the
-- brands' scales are read first, then the new rows are checked once per
-- distinct scale with the scale and its brands as parameters, so a bulk
-- load of a million documents pays a scan or two, not a lookup per row,
-- and the transition table is never joined with another table (which a
-- distributed planner cannot do).
CREATE OR REPLACE FUNCTION billing_internal.document_currency_check() RETURNS trigger
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
COMMENT ON FUNCTION billing_internal.document_currency_check() IS
	'trigger: once per statement, refuses document amounts finer than the brand''s currency';
REVOKE ALL ON FUNCTION billing_internal.document_currency_check() FROM PUBLIC;
CREATE OR REPLACE TRIGGER document_currency_on_insert AFTER INSERT ON billing.document
	REFERENCING NEW TABLE AS new_documents
	FOR EACH STATEMENT EXECUTE FUNCTION billing_internal.document_currency_check();
CREATE OR REPLACE TRIGGER document_currency_on_update AFTER UPDATE ON billing.document
	REFERENCING NEW TABLE AS new_documents
	FOR EACH STATEMENT EXECUTE FUNCTION billing_internal.document_currency_check();

-- Keys never move: no primary key of the extension's tables changes, for
-- anyone, superuser included, so that nothing that refers to a row (an
-- invoice, a link, a log, an application's copy of the id) comes to mean
-- another one.  The foreign keys (ON UPDATE NO ACTION) keep the key of a
-- row others refer to; this keeps the key of every row, also of one nothing
-- refers to yet.  Under the maintenance switch a superuser may re-key a row
-- that nothing refers to; the change is logged (the record tables' own
-- guard logs theirs).  Where the record tables have no foreign key (an
-- invoice's buyer and run, a tax line's or link's invoice: tables.sql),
-- this trigger refuses for them even under the switch.  The trigger fires
-- only on an UPDATE that names a key column.
CREATE OR REPLACE FUNCTION billing_internal.refuse_key_change() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	old_row jsonb := to_jsonb(OLD);
	new_row jsonb := to_jsonb(NEW);
	old_key text[] := '{}';
	new_key text[] := '{}';
	col text;
	child text;
	-- a partition's rows are its parent's (the links, the tax lines)
	tbl text := coalesce((SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhparent
	                      WHERE i.inhrelid = TG_RELID), TG_TABLE_NAME);
BEGIN
	FOREACH col IN ARRAY TG_ARGV LOOP
		old_key := old_key || (old_row ->> col);
		new_key := new_key || (new_row ->> col);
	END LOOP;
	IF new_key IS NOT DISTINCT FROM old_key THEN
		RETURN NEW;
	END IF;
	IF current_setting('billing.maintenance', true) = 'on' THEN
		EXECUTE CASE tbl
			WHEN 'buyer' THEN 'SELECT ''invoice '' || i.id FROM billing.invoice i WHERE i.buyer_id = ($1).id LIMIT 1'
			WHEN 'invoice_run' THEN 'SELECT ''invoice '' || i.id FROM billing.invoice i WHERE i.run_id = ($1).id LIMIT 1'
			WHEN 'invoice' THEN 'SELECT ''a tax line'' FROM billing.invoice_tax_line t
				WHERE t.buyer_id = ($1).buyer_id AND t.invoice_id = ($1).id
				UNION ALL SELECT ''the link of document '' || l.document_id FROM billing.document_link l
				WHERE l.buyer_id = ($1).buyer_id AND l.invoice_id = ($1).id LIMIT 1'
			ELSE 'SELECT NULL::text' END
		INTO child USING OLD;
		IF child IS NOT NULL THEN
			RAISE EXCEPTION 'the key of a row of billing.% cannot change: (%) = (%): % refers to it', tbl,
				array_to_string(TG_ARGV, ', '), array_to_string(old_key, ', ', 'NULL'), child
				USING ERRCODE = 'foreign_key_violation',
				      HINT = 'A key that records refer to never changes, not even under billing.maintenance.';
		END IF;
		IF tbl NOT IN ('invoice', 'invoice_tax_line', 'document_link', 'invoice_run', 'run_log') THEN
			INSERT INTO billing.maintenance_log (table_name, operation, query)
			VALUES (tbl, 'UPDATE',
			        format('key (%s) = (%s) changed to (%s): %s', array_to_string(TG_ARGV, ', '),
			               array_to_string(old_key, ', '), array_to_string(new_key, ', '), current_query()));
		END IF;
		RETURN NEW;
	END IF;
	RAISE EXCEPTION 'the key of a row of billing.% cannot change: (%) = (%) would become (%)', tbl,
		array_to_string(TG_ARGV, ', '), array_to_string(old_key, ', ', 'NULL'), array_to_string(new_key, ', ', 'NULL')
		USING ERRCODE = 'object_not_in_prerequisite_state',
		      DETAIL = 'Invoices, document links, runs and applications refer to rows by their keys; a key that moved would make them refer to another row.',
		      HINT = 'Insert a new row with a new key instead.  A superuser can SET billing.maintenance = on for a logged repair of a row nothing refers to.';
END
$$;
COMMENT ON FUNCTION billing_internal.refuse_key_change() IS
	'trigger (key columns...): refuses a change of the row''s primary key, except a logged one under billing.maintenance';
REVOKE ALL ON FUNCTION billing_internal.refuse_key_change() FROM PUBLIC;
CREATE OR REPLACE TRIGGER key_never_moves BEFORE UPDATE OF id ON billing.brand
	FOR EACH ROW EXECUTE FUNCTION billing_internal.refuse_key_change('id');
CREATE OR REPLACE TRIGGER key_never_moves BEFORE UPDATE OF id ON billing.schedule
	FOR EACH ROW EXECUTE FUNCTION billing_internal.refuse_key_change('id');
CREATE OR REPLACE TRIGGER key_never_moves BEFORE UPDATE OF id ON billing.bank_account
	FOR EACH ROW EXECUTE FUNCTION billing_internal.refuse_key_change('id');
CREATE OR REPLACE TRIGGER key_never_moves BEFORE UPDATE OF id ON billing.buyer
	FOR EACH ROW EXECUTE FUNCTION billing_internal.refuse_key_change('id');
CREATE OR REPLACE TRIGGER key_never_moves BEFORE UPDATE OF buyer_id, id ON billing.document
	FOR EACH ROW EXECUTE FUNCTION billing_internal.refuse_key_change('buyer_id', 'id');
CREATE OR REPLACE TRIGGER key_never_moves BEFORE UPDATE OF id ON billing.invoice_run
	FOR EACH ROW EXECUTE FUNCTION billing_internal.refuse_key_change('id');
CREATE OR REPLACE TRIGGER key_never_moves BEFORE UPDATE OF id ON billing.run_log
	FOR EACH ROW EXECUTE FUNCTION billing_internal.refuse_key_change('id');
CREATE OR REPLACE TRIGGER key_never_moves BEFORE UPDATE OF buyer_id, id ON billing.invoice
	FOR EACH ROW EXECUTE FUNCTION billing_internal.refuse_key_change('buyer_id', 'id');
CREATE OR REPLACE TRIGGER key_never_moves BEFORE UPDATE OF buyer_id, invoice_id, tax_rate ON billing.invoice_tax_line
	FOR EACH ROW EXECUTE FUNCTION billing_internal.refuse_key_change('buyer_id', 'invoice_id', 'tax_rate');
CREATE OR REPLACE TRIGGER key_never_moves BEFORE UPDATE OF buyer_id, document_id ON billing.document_link
	FOR EACH ROW EXECUTE FUNCTION billing_internal.refuse_key_change('buyer_id', 'document_id');
CREATE OR REPLACE TRIGGER key_never_moves BEFORE UPDATE OF id ON billing.member
	FOR EACH ROW EXECUTE FUNCTION billing_internal.refuse_key_change('id');
CREATE OR REPLACE TRIGGER key_never_moves BEFORE UPDATE OF id ON billing.notification
	FOR EACH ROW EXECUTE FUNCTION billing_internal.refuse_key_change('id');
CREATE OR REPLACE TRIGGER key_never_moves BEFORE UPDATE OF grantee, brand_id ON billing.brand_grant
	FOR EACH ROW EXECUTE FUNCTION billing_internal.refuse_key_change('grantee', 'brand_id');
CREATE OR REPLACE TRIGGER key_never_moves BEFORE UPDATE OF id ON billing.master_data_version
	FOR EACH ROW EXECUTE FUNCTION billing_internal.refuse_key_change('id');
COMMENT ON TRIGGER key_never_moves ON billing.brand IS 'a brand''s id never changes';
COMMENT ON TRIGGER key_never_moves ON billing.schedule IS 'a schedule''s id never changes';
COMMENT ON TRIGGER key_never_moves ON billing.bank_account IS 'a bank account''s id never changes';
COMMENT ON TRIGGER key_never_moves ON billing.buyer IS 'a buyer''s id never changes';
COMMENT ON TRIGGER key_never_moves ON billing.document IS 'a document''s key (buyer_id, id) never changes';
COMMENT ON TRIGGER key_never_moves ON billing.invoice_run IS 'a run''s id never changes';
COMMENT ON TRIGGER key_never_moves ON billing.run_log IS 'a log line''s id never changes';
COMMENT ON TRIGGER key_never_moves ON billing.invoice IS 'an invoice''s key (buyer_id, id) never changes';
COMMENT ON TRIGGER key_never_moves ON billing.invoice_tax_line IS 'a tax line''s key never changes';
COMMENT ON TRIGGER key_never_moves ON billing.document_link IS 'a link''s key (buyer_id, document_id) never changes';
COMMENT ON TRIGGER key_never_moves ON billing.member IS 'a member''s id never changes';
COMMENT ON TRIGGER key_never_moves ON billing.notification IS 'a notification''s id never changes';
COMMENT ON TRIGGER key_never_moves ON billing.brand_grant IS 'a grant''s key (grantee, brand_id) never changes';
COMMENT ON TRIGGER key_never_moves ON billing.master_data_version IS 'a kept version''s id never changes';

-- What a rerun reads (issue 14, tables.sql billing_internal.rerun_hint):
-- once per statement, the buyers whose billing inputs it changed are noted
-- with the writing transaction, so that a rerun or preview of a period
-- reads those buyers only, not the whole period.  Noted: a document written
-- or changed; a link deleted (delete_drafts, cancel_invoices, cancel_run
-- reopening); an invoice that stops being live (cancelled, rejected,
-- deleted); a buyer written whose schedule, application or brand changed,
-- or whose balance became or stopped being zero (what makes a balance-only
-- draft).  Not noted: what a run writes (invoices, links), and a balance
-- that only changes its amount (a confirmation): a buyer with no reason to
-- get a draft gets none whatever its amount.  One insert per statement,
-- with the transition table only (never joined with another table).
-- With billing on Citus (billing_internal.on_citus; the trigger then fires
-- on the shards) nothing is noted: a hint's transaction id is the worker's
-- own, which says nothing of a run's snapshot on the coordinator, so
-- reruns there read their periods whole (rerun_buyers asks the same
-- function) and no trigger writes across nodes.
CREATE OR REPLACE FUNCTION billing_internal.note_rerun_hint() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF billing_internal.on_citus() THEN
		RETURN NULL;
	END IF;
	IF TG_ARGV[0] = 'no_longer_live' THEN
		INSERT INTO billing_internal.rerun_hint (buyer_id)
		SELECT DISTINCT c.buyer_id FROM changed_rows c
		WHERE c.status NOT IN ('draft', 'confirmed', 'quarantined')
		ON CONFLICT DO NOTHING;
	ELSIF TG_ARGV[0] = 'buyer_insert' THEN
		INSERT INTO billing_internal.rerun_hint (buyer_id)
		SELECT c.id FROM changed_rows c
		ON CONFLICT DO NOTHING;
	ELSIF TG_ARGV[0] = 'buyer_update' THEN
		INSERT INTO billing_internal.rerun_hint (buyer_id)
		SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
		WHERE (n.billing_balance = 0) IS DISTINCT FROM (o.billing_balance = 0)
		   OR (n.schedule_id, n.schedule_applied_at, n.brand_id)
		      IS DISTINCT FROM (o.schedule_id, o.schedule_applied_at, o.brand_id)
		ON CONFLICT DO NOTHING;
	ELSE
		INSERT INTO billing_internal.rerun_hint (buyer_id)
		SELECT DISTINCT c.buyer_id FROM changed_rows c
		ON CONFLICT DO NOTHING;
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION billing_internal.note_rerun_hint() IS
	'trigger: once per statement, notes the buyers whose billing inputs it changed (billing_internal.rerun_hint), for reruns that read only those';
REVOKE ALL ON FUNCTION billing_internal.note_rerun_hint() FROM PUBLIC;
CREATE OR REPLACE TRIGGER rerun_hint_on_insert AFTER INSERT ON billing.document
	REFERENCING NEW TABLE AS changed_rows
	FOR EACH STATEMENT EXECUTE FUNCTION billing_internal.note_rerun_hint();
CREATE OR REPLACE TRIGGER rerun_hint_on_update AFTER UPDATE ON billing.document
	REFERENCING NEW TABLE AS changed_rows
	FOR EACH STATEMENT EXECUTE FUNCTION billing_internal.note_rerun_hint();
CREATE OR REPLACE TRIGGER rerun_hint_on_delete AFTER DELETE ON billing.document_link
	REFERENCING OLD TABLE AS changed_rows
	FOR EACH STATEMENT EXECUTE FUNCTION billing_internal.note_rerun_hint();
CREATE OR REPLACE TRIGGER rerun_hint_on_update AFTER UPDATE ON billing.invoice
	REFERENCING NEW TABLE AS changed_rows
	FOR EACH STATEMENT EXECUTE FUNCTION billing_internal.note_rerun_hint('no_longer_live');
CREATE OR REPLACE TRIGGER rerun_hint_on_delete AFTER DELETE ON billing.invoice
	REFERENCING OLD TABLE AS changed_rows
	FOR EACH STATEMENT EXECUTE FUNCTION billing_internal.note_rerun_hint();
CREATE OR REPLACE TRIGGER rerun_hint_on_insert AFTER INSERT ON billing.buyer
	REFERENCING NEW TABLE AS changed_rows
	FOR EACH STATEMENT EXECUTE FUNCTION billing_internal.note_rerun_hint('buyer_insert');
CREATE OR REPLACE TRIGGER rerun_hint_on_update AFTER UPDATE ON billing.buyer
	REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION billing_internal.note_rerun_hint('buyer_update');
COMMENT ON TRIGGER rerun_hint_on_insert ON billing.document IS 'notes the buyers of new documents for reruns (billing_internal.rerun_hint)';
COMMENT ON TRIGGER rerun_hint_on_update ON billing.document IS 'notes the buyers of changed documents for reruns';
COMMENT ON TRIGGER rerun_hint_on_delete ON billing.document_link IS 'notes the buyers of reopened documents for reruns';
COMMENT ON TRIGGER rerun_hint_on_update ON billing.invoice IS 'notes the buyers of invoices cancelled or rejected for reruns';
COMMENT ON TRIGGER rerun_hint_on_delete ON billing.invoice IS 'notes the buyers of deleted drafts for reruns';
COMMENT ON TRIGGER rerun_hint_on_insert ON billing.buyer IS 'notes new buyers for reruns';
COMMENT ON TRIGGER rerun_hint_on_update ON billing.buyer IS 'notes buyers whose schedule, application, brand or zero balance changed, for reruns';

-- A TRUNCATE writes no hint: after one of the tables a run's reading rests
-- on (a reset by hand, under billing.maintenance), no run's snapshot is
-- used again and the next rerun of each period reads it whole.  (On
-- Citus nothing: reruns there read their periods whole anyway.)
CREATE OR REPLACE FUNCTION billing_internal.forget_run_snapshots() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF billing_internal.on_citus() THEN
		RETURN NULL;
	END IF;
	DELETE FROM billing_internal.run_snapshot;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION billing_internal.forget_run_snapshots() IS
	'trigger: after a TRUNCATE of what runs read, no run''s snapshot is used by a rerun again';
REVOKE ALL ON FUNCTION billing_internal.forget_run_snapshots() FROM PUBLIC;
CREATE OR REPLACE TRIGGER forget_run_snapshots AFTER TRUNCATE ON billing.document
	FOR EACH STATEMENT EXECUTE FUNCTION billing_internal.forget_run_snapshots();
CREATE OR REPLACE TRIGGER forget_run_snapshots AFTER TRUNCATE ON billing.document_link
	FOR EACH STATEMENT EXECUTE FUNCTION billing_internal.forget_run_snapshots();
CREATE OR REPLACE TRIGGER forget_run_snapshots AFTER TRUNCATE ON billing.invoice
	FOR EACH STATEMENT EXECUTE FUNCTION billing_internal.forget_run_snapshots();
CREATE OR REPLACE TRIGGER forget_run_snapshots AFTER TRUNCATE ON billing.invoice_run
	FOR EACH STATEMENT EXECUTE FUNCTION billing_internal.forget_run_snapshots();
CREATE OR REPLACE TRIGGER forget_run_snapshots AFTER TRUNCATE ON billing.buyer
	FOR EACH STATEMENT EXECUTE FUNCTION billing_internal.forget_run_snapshots();
COMMENT ON TRIGGER forget_run_snapshots ON billing.document IS 'after a TRUNCATE, reruns read their periods whole';
COMMENT ON TRIGGER forget_run_snapshots ON billing.document_link IS 'after a TRUNCATE, reruns read their periods whole';
COMMENT ON TRIGGER forget_run_snapshots ON billing.invoice IS 'after a TRUNCATE, reruns read their periods whole';
COMMENT ON TRIGGER forget_run_snapshots ON billing.invoice_run IS 'after a TRUNCATE, reruns read their periods whole';
COMMENT ON TRIGGER forget_run_snapshots ON billing.buyer IS 'after a TRUNCATE, reruns read their periods whole';
