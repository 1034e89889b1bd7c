-- src/sql/types_comments.sql: the comments of the types of types.sql, their
-- functions, casts, operators and operator classes.  types.sql runs once (a
-- later version can only ALTER a type); these statements are safe to repeat,
-- so an upgrade re-runs them like every re-runnable source (Makefile).

COMMENT ON FUNCTION billing.cycle_in(cstring) IS
	'input function of billing.cycle: parses daily, weekly:mon, monthly:20, monthly:eom, yearly:60, yearly:eoy (any case, blanks around the colon allowed)';
COMMENT ON FUNCTION billing.cycle_out(billing.cycle) IS
	'output function of billing.cycle: its canonical text form';
COMMENT ON FUNCTION billing.cycle_recv(internal) IS
	'binary input function of billing.cycle (COPY BINARY, binary protocol); refuses an invalid encoding';
COMMENT ON FUNCTION billing.cycle_send(billing.cycle) IS
	'binary output function of billing.cycle';

COMMENT ON TYPE billing.cycle IS
	'recurrence and cut-off of a billing schedule: daily, weekly:mon..sun, monthly:1..30, monthly:eom, yearly:1..363, yearly:eoy';

COMMENT ON FUNCTION billing.due_rule_in(cstring) IS
	'input function of billing.due_rule: parses net:30, month+1:eom, month+2:10 (any case, blanks around the colon allowed)';
COMMENT ON FUNCTION billing.due_rule_out(billing.due_rule) IS
	'output function of billing.due_rule: its canonical text form';
COMMENT ON FUNCTION billing.due_rule_recv(internal) IS
	'binary input function of billing.due_rule (COPY BINARY, binary protocol); refuses an invalid encoding';
COMMENT ON FUNCTION billing.due_rule_send(billing.due_rule) IS
	'binary output function of billing.due_rule';

COMMENT ON TYPE billing.due_rule IS
	'payment due rule: net:N (days after the invoice date), month+N:D or month+N:eom (day of the month N months after the cut-off)';

COMMENT ON CAST (billing.cycle AS text) IS
	'the canonical text form of a cycle (assignment cast: a cycle can be stored in a text column)';
COMMENT ON CAST (text AS billing.cycle) IS
	'parses a cycle from text, with the same rules and errors as its input function';
COMMENT ON CAST (billing.due_rule AS text) IS
	'the canonical text form of a due rule (assignment cast: a due rule can be stored in a text column)';
COMMENT ON CAST (text AS billing.due_rule) IS
	'parses a due rule from text, with the same rules and errors as its input function';

COMMENT ON FUNCTION billing.cycle_eq(billing.cycle, billing.cycle) IS
	'implementation of the = operator of billing.cycle';
COMMENT ON FUNCTION billing.cycle_ne(billing.cycle, billing.cycle) IS
	'implementation of the <> operator of billing.cycle';
COMMENT ON FUNCTION billing.cycle_lt(billing.cycle, billing.cycle) IS
	'implementation of the < operator of billing.cycle';
COMMENT ON FUNCTION billing.cycle_le(billing.cycle, billing.cycle) IS
	'implementation of the <= operator of billing.cycle';
COMMENT ON FUNCTION billing.cycle_gt(billing.cycle, billing.cycle) IS
	'implementation of the > operator of billing.cycle';
COMMENT ON FUNCTION billing.cycle_ge(billing.cycle, billing.cycle) IS
	'implementation of the >= operator of billing.cycle';
COMMENT ON FUNCTION billing.cycle_cmp(billing.cycle, billing.cycle) IS
	'btree comparison of billing.cycle: -1, 0 or 1; cycles order by kind (daily, weekly, monthly, yearly), then by weekday or day';
COMMENT ON FUNCTION billing.cycle_hash(billing.cycle) IS
	'hash of billing.cycle, for hash joins, hash aggregates and hash indexes';

COMMENT ON OPERATOR billing.= (billing.cycle, billing.cycle) IS 'equal';
COMMENT ON OPERATOR billing.<> (billing.cycle, billing.cycle) IS 'not equal';
COMMENT ON OPERATOR billing.< (billing.cycle, billing.cycle) IS 'less than';
COMMENT ON OPERATOR billing.<= (billing.cycle, billing.cycle) IS 'less than or equal';
COMMENT ON OPERATOR billing.> (billing.cycle, billing.cycle) IS 'greater than';
COMMENT ON OPERATOR billing.>= (billing.cycle, billing.cycle) IS 'greater than or equal';

COMMENT ON OPERATOR CLASS billing.cycle_ops USING btree IS
	'default btree operator class of billing.cycle: indexes, ORDER BY, merge joins; cycles order by kind (daily, weekly, monthly, yearly), then by weekday or day';
COMMENT ON OPERATOR FAMILY billing.cycle_ops USING btree IS
	'btree operator family of billing.cycle, made by its operator class';
COMMENT ON OPERATOR CLASS billing.cycle_hash_ops USING hash IS
	'default hash operator class of billing.cycle: hash indexes, hash joins, GROUP BY and DISTINCT by hashing';
COMMENT ON OPERATOR FAMILY billing.cycle_hash_ops USING hash IS
	'hash operator family of billing.cycle, made by its operator class';

COMMENT ON FUNCTION billing.due_rule_eq(billing.due_rule, billing.due_rule) IS
	'implementation of the = operator of billing.due_rule';
COMMENT ON FUNCTION billing.due_rule_ne(billing.due_rule, billing.due_rule) IS
	'implementation of the <> operator of billing.due_rule';
COMMENT ON FUNCTION billing.due_rule_lt(billing.due_rule, billing.due_rule) IS
	'implementation of the < operator of billing.due_rule';
COMMENT ON FUNCTION billing.due_rule_le(billing.due_rule, billing.due_rule) IS
	'implementation of the <= operator of billing.due_rule';
COMMENT ON FUNCTION billing.due_rule_gt(billing.due_rule, billing.due_rule) IS
	'implementation of the > operator of billing.due_rule';
COMMENT ON FUNCTION billing.due_rule_ge(billing.due_rule, billing.due_rule) IS
	'implementation of the >= operator of billing.due_rule';
COMMENT ON FUNCTION billing.due_rule_cmp(billing.due_rule, billing.due_rule) IS
	'btree comparison of billing.due_rule: -1, 0 or 1; due rules order by kind (net, then month+N), then by months and days';
COMMENT ON FUNCTION billing.due_rule_hash(billing.due_rule) IS
	'hash of billing.due_rule, for hash joins, hash aggregates and hash indexes';

COMMENT ON OPERATOR billing.= (billing.due_rule, billing.due_rule) IS 'equal';
COMMENT ON OPERATOR billing.<> (billing.due_rule, billing.due_rule) IS 'not equal';
COMMENT ON OPERATOR billing.< (billing.due_rule, billing.due_rule) IS 'less than';
COMMENT ON OPERATOR billing.<= (billing.due_rule, billing.due_rule) IS 'less than or equal';
COMMENT ON OPERATOR billing.> (billing.due_rule, billing.due_rule) IS 'greater than';
COMMENT ON OPERATOR billing.>= (billing.due_rule, billing.due_rule) IS 'greater than or equal';

COMMENT ON OPERATOR CLASS billing.due_rule_ops USING btree IS
	'default btree operator class of billing.due_rule: indexes, ORDER BY, merge joins; due rules order by kind (net, then month+N), then by months and days';
COMMENT ON OPERATOR FAMILY billing.due_rule_ops USING btree IS
	'btree operator family of billing.due_rule, made by its operator class';
COMMENT ON OPERATOR CLASS billing.due_rule_hash_ops USING hash IS
	'default hash operator class of billing.due_rule: hash indexes, hash joins, GROUP BY and DISTINCT by hashing';
COMMENT ON OPERATOR FAMILY billing.due_rule_hash_ops USING hash IS
	'hash operator family of billing.due_rule, made by its operator class';
