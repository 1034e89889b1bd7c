-- c_conventions: the C library as contrib writes it (issue 13, item 6):
-- billing_ symbols, guard triggers told what their table holds, and run
-- entry points that know their SQL's version without asking the catalog.
-- Leaves nothing behind (its objects are dropped or rolled back).
SET client_min_messages = warning;
SET timezone = 'UTC';

-- every C function of this version's SQL calls a billing_ symbol (the
-- symbols of the released scripts stay in the library for them)
SELECT p.oid::regprocedure AS c_function_without_billing_symbol, p.prosrc
FROM pg_proc p
JOIN pg_language l ON l.oid = p.prolang AND l.lanname = 'c'
JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
JOIN pg_extension e ON e.oid = d.refobjid AND d.refclassid = 'pg_extension'::regclass
WHERE e.extname = 'billing' AND p.prosrc NOT LIKE 'billing\_%'
ORDER BY p.oid::regprocedure::text;

-- every guard trigger names what its table holds
SELECT t.tgrelid::regclass AS guarded_table, t.tgname, t.tgnargs,
       convert_from(substring(t.tgargs FROM 1 FOR length(t.tgargs) - 1), 'UTF8') AS holds
FROM pg_trigger t
WHERE t.tgfoid = 'billing_internal.guard_records'::regproc
ORDER BY t.tgrelid::regclass::text, t.tgname;

-- the guard goes by the trigger's argument, not by the table's name: a
-- table named buyer, guarded as a record, has every row change refused;
-- guarded as balances, only a changed balance
CREATE SCHEMA regress_cconv;
CREATE TABLE regress_cconv.buyer (id int, code text, billing_balance numeric, opening_balance numeric);
INSERT INTO regress_cconv.buyer VALUES (1, 'B1', 300, 0);
CREATE TRIGGER guard_row BEFORE UPDATE ON regress_cconv.buyer
	FOR EACH ROW EXECUTE FUNCTION billing_internal.guard_records('record');
UPDATE regress_cconv.buyer SET code = 'B2';
DROP TRIGGER guard_row ON regress_cconv.buyer;
CREATE TRIGGER guard_row BEFORE UPDATE ON regress_cconv.buyer
	FOR EACH ROW EXECUTE FUNCTION billing_internal.guard_records('balance');
UPDATE regress_cconv.buyer SET code = 'B2';
-- the same datum is no change; another is
UPDATE regress_cconv.buyer SET billing_balance = billing_balance, opening_balance = opening_balance;
UPDATE regress_cconv.buyer SET billing_balance = 301;
UPDATE regress_cconv.buyer SET opening_balance = 1;
SELECT code, billing_balance, opening_balance FROM regress_cconv.buyer;
-- a guard trigger without its argument, or with one it does not know, is
-- an error, not a guess from the table's name
CREATE TRIGGER guard_bare BEFORE UPDATE ON regress_cconv.buyer
	FOR EACH ROW EXECUTE FUNCTION billing_internal.guard_records();
UPDATE regress_cconv.buyer SET code = 'B3';
DROP TRIGGER guard_bare ON regress_cconv.buyer;
CREATE TRIGGER guard_bad BEFORE UPDATE ON regress_cconv.buyer
	FOR EACH ROW EXECUTE FUNCTION billing_internal.guard_records('invoices');
UPDATE regress_cconv.buyer SET code = 'B3';
DROP SCHEMA regress_cconv CASCADE;

-- a run of this version's SQL takes no catalog probe: a function named as
-- 0.2's billing.schedule_lock_key (what the library of 0.2 looked for to
-- tell an old database) does not make it take 0.2's advisory schedule key
-- ('bill' = 1651076204)
BEGIN;
INSERT INTO billing.brand (code, name) VALUES ('CCV', 'Conventions KK');
INSERT INTO billing.schedule (brand_id, code, name, cycle) SELECT id, 'CEOM', 'CEOM', 'monthly:eom'
FROM billing.brand WHERE code = 'CCV';
INSERT INTO billing.buyer (brand_id, code, name, schedule_id, schedule_applied_at)
SELECT b.id, 'CB1', 'Buyer 1', s.id, '2026-09-01'
FROM billing.brand b JOIN billing.schedule s ON s.brand_id = b.id WHERE b.code = 'CCV';
CREATE FUNCTION billing.schedule_lock_key(bigint) RETURNS bigint LANGUAGE sql AS 'SELECT 0::bigint';
SELECT count(*) >= 0 AS issued FROM billing.issue_drafts(as_of => '2026-11-05') AS r;
SELECT count(*) AS advisory_schedule_keys FROM pg_locks
WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND classid = 1651076204;
ROLLBACK;
