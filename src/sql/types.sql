-- src/sql/types.sql: billing.cycle and billing.due_rule, C types of 4 bytes
-- passed by value, with casts, operators and operator classes (run once)

CREATE TYPE billing.cycle;

CREATE FUNCTION billing_internal.cycle_in(cstring) RETURNS billing.cycle
	AS 'MODULE_PATHNAME', 'billing_cycle_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION billing_internal.cycle_out(billing.cycle) RETURNS cstring
	AS 'MODULE_PATHNAME', 'billing_cycle_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION billing_internal.cycle_recv(internal) RETURNS billing.cycle
	AS 'MODULE_PATHNAME', 'billing_cycle_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION billing_internal.cycle_send(billing.cycle) RETURNS bytea
	AS 'MODULE_PATHNAME', 'billing_cycle_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION billing_internal.cycle_in(cstring) IS
	'input function of billing.cycle: parses daily, weekly:mon, monthly:20, monthly:eom, yearly:60, yearly:eoy (any case, blanks around the colon allowed)';
GRANT EXECUTE ON FUNCTION billing_internal.cycle_in(cstring) TO PUBLIC;
COMMENT ON FUNCTION billing_internal.cycle_out(billing.cycle) IS
	'output function of billing.cycle: its canonical text form';
GRANT EXECUTE ON FUNCTION billing_internal.cycle_out(billing.cycle) TO PUBLIC;
COMMENT ON FUNCTION billing_internal.cycle_recv(internal) IS
	'binary input function of billing.cycle (COPY BINARY, binary protocol); refuses an invalid encoding';
GRANT EXECUTE ON FUNCTION billing_internal.cycle_recv(internal) TO PUBLIC;
COMMENT ON FUNCTION billing_internal.cycle_send(billing.cycle) IS
	'binary output function of billing.cycle';
GRANT EXECUTE ON FUNCTION billing_internal.cycle_send(billing.cycle) TO PUBLIC;

CREATE TYPE billing.cycle (
	INPUT = billing_internal.cycle_in,
	OUTPUT = billing_internal.cycle_out,
	RECEIVE = billing_internal.cycle_recv,
	SEND = billing_internal.cycle_send,
	INTERNALLENGTH = 4,
	PASSEDBYVALUE,
	ALIGNMENT = int4,
	STORAGE = plain
);
COMMENT ON TYPE billing.cycle IS
	'recurrence and cut-off of a billing schedule: daily, weekly:mon..sun, monthly:1..30, monthly:eom, yearly:1..363, yearly:eoy';

CREATE TYPE billing.due_rule;

CREATE FUNCTION billing_internal.due_rule_in(cstring) RETURNS billing.due_rule
	AS 'MODULE_PATHNAME', 'billing_due_rule_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION billing_internal.due_rule_out(billing.due_rule) RETURNS cstring
	AS 'MODULE_PATHNAME', 'billing_due_rule_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION billing_internal.due_rule_recv(internal) RETURNS billing.due_rule
	AS 'MODULE_PATHNAME', 'billing_due_rule_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION billing_internal.due_rule_send(billing.due_rule) RETURNS bytea
	AS 'MODULE_PATHNAME', 'billing_due_rule_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION billing_internal.due_rule_in(cstring) IS
	'input function of billing.due_rule: parses net:30, month+1:eom, month+2:10 (any case, blanks around the colon allowed)';
GRANT EXECUTE ON FUNCTION billing_internal.due_rule_in(cstring) TO PUBLIC;
COMMENT ON FUNCTION billing_internal.due_rule_out(billing.due_rule) IS
	'output function of billing.due_rule: its canonical text form';
GRANT EXECUTE ON FUNCTION billing_internal.due_rule_out(billing.due_rule) TO PUBLIC;
COMMENT ON FUNCTION billing_internal.due_rule_recv(internal) IS
	'binary input function of billing.due_rule (COPY BINARY, binary protocol); refuses an invalid encoding';
GRANT EXECUTE ON FUNCTION billing_internal.due_rule_recv(internal) TO PUBLIC;
COMMENT ON FUNCTION billing_internal.due_rule_send(billing.due_rule) IS
	'binary output function of billing.due_rule';
GRANT EXECUTE ON FUNCTION billing_internal.due_rule_send(billing.due_rule) TO PUBLIC;

CREATE TYPE billing.due_rule (
	INPUT = billing_internal.due_rule_in,
	OUTPUT = billing_internal.due_rule_out,
	RECEIVE = billing_internal.due_rule_recv,
	SEND = billing_internal.due_rule_send,
	INTERNALLENGTH = 4,
	PASSEDBYVALUE,
	ALIGNMENT = int4,
	STORAGE = plain
);
COMMENT ON TYPE billing.due_rule IS
	'payment due rule: net:N (days after the invoice date), month+N:D or month+N:eom (day of the month N months after the cut-off)';

CREATE CAST (billing.cycle AS text) WITH INOUT AS ASSIGNMENT;
CREATE CAST (text AS billing.cycle) WITH INOUT;
CREATE CAST (billing.due_rule AS text) WITH INOUT AS ASSIGNMENT;
CREATE CAST (text AS billing.due_rule) WITH INOUT;
COMMENT ON CAST (billing.cycle AS text) IS
	'the canonical text form of a cycle (assignment cast: a cycle can be stored in a text column)';
COMMENT ON CAST (text AS billing.cycle) IS
	'parses a cycle from text, with the same rules and errors as its input function';
COMMENT ON CAST (billing.due_rule AS text) IS
	'the canonical text form of a due rule (assignment cast: a due rule can be stored in a text column)';
COMMENT ON CAST (text AS billing.due_rule) IS
	'parses a due rule from text, with the same rules and errors as its input function';

-- Comparison.  Both types are an int32 whose order is the order we want
-- (kind, then parameter), so PostgreSQL's own int4 routines serve them.
CREATE FUNCTION billing_internal.cycle_eq(billing.cycle, billing.cycle) RETURNS boolean
	AS 'int4eq' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION billing_internal.cycle_ne(billing.cycle, billing.cycle) RETURNS boolean
	AS 'int4ne' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION billing_internal.cycle_lt(billing.cycle, billing.cycle) RETURNS boolean
	AS 'int4lt' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION billing_internal.cycle_le(billing.cycle, billing.cycle) RETURNS boolean
	AS 'int4le' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION billing_internal.cycle_gt(billing.cycle, billing.cycle) RETURNS boolean
	AS 'int4gt' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION billing_internal.cycle_ge(billing.cycle, billing.cycle) RETURNS boolean
	AS 'int4ge' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION billing_internal.cycle_cmp(billing.cycle, billing.cycle) RETURNS integer
	AS 'btint4cmp' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION billing_internal.cycle_hash(billing.cycle) RETURNS integer
	AS 'hashint4' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
COMMENT ON FUNCTION billing_internal.cycle_eq(billing.cycle, billing.cycle) IS
	'implementation of the = operator of billing.cycle';
GRANT EXECUTE ON FUNCTION billing_internal.cycle_eq(billing.cycle, billing.cycle) TO PUBLIC;
COMMENT ON FUNCTION billing_internal.cycle_ne(billing.cycle, billing.cycle) IS
	'implementation of the <> operator of billing.cycle';
GRANT EXECUTE ON FUNCTION billing_internal.cycle_ne(billing.cycle, billing.cycle) TO PUBLIC;
COMMENT ON FUNCTION billing_internal.cycle_lt(billing.cycle, billing.cycle) IS
	'implementation of the < operator of billing.cycle';
GRANT EXECUTE ON FUNCTION billing_internal.cycle_lt(billing.cycle, billing.cycle) TO PUBLIC;
COMMENT ON FUNCTION billing_internal.cycle_le(billing.cycle, billing.cycle) IS
	'implementation of the <= operator of billing.cycle';
GRANT EXECUTE ON FUNCTION billing_internal.cycle_le(billing.cycle, billing.cycle) TO PUBLIC;
COMMENT ON FUNCTION billing_internal.cycle_gt(billing.cycle, billing.cycle) IS
	'implementation of the > operator of billing.cycle';
GRANT EXECUTE ON FUNCTION billing_internal.cycle_gt(billing.cycle, billing.cycle) TO PUBLIC;
COMMENT ON FUNCTION billing_internal.cycle_ge(billing.cycle, billing.cycle) IS
	'implementation of the >= operator of billing.cycle';
GRANT EXECUTE ON FUNCTION billing_internal.cycle_ge(billing.cycle, billing.cycle) TO PUBLIC;
COMMENT ON FUNCTION billing_internal.cycle_cmp(billing.cycle, billing.cycle) IS
	'btree comparison of billing.cycle: -1, 0 or 1; cycles order by kind (daily, weekly, monthly, yearly), then by weekday or day';
GRANT EXECUTE ON FUNCTION billing_internal.cycle_cmp(billing.cycle, billing.cycle) TO PUBLIC;
COMMENT ON FUNCTION billing_internal.cycle_hash(billing.cycle) IS
	'hash of billing.cycle, for hash joins, hash aggregates and hash indexes';
GRANT EXECUTE ON FUNCTION billing_internal.cycle_hash(billing.cycle) TO PUBLIC;

CREATE OPERATOR billing.= (LEFTARG = billing.cycle, RIGHTARG = billing.cycle,
	FUNCTION = billing_internal.cycle_eq, COMMUTATOR = OPERATOR(billing.=),
	NEGATOR = OPERATOR(billing.<>), RESTRICT = eqsel, JOIN = eqjoinsel,
	HASHES, MERGES);
CREATE OPERATOR billing.<> (LEFTARG = billing.cycle, RIGHTARG = billing.cycle,
	FUNCTION = billing_internal.cycle_ne, COMMUTATOR = OPERATOR(billing.<>),
	NEGATOR = OPERATOR(billing.=), RESTRICT = neqsel, JOIN = neqjoinsel);
CREATE OPERATOR billing.< (LEFTARG = billing.cycle, RIGHTARG = billing.cycle,
	FUNCTION = billing_internal.cycle_lt, COMMUTATOR = OPERATOR(billing.>),
	NEGATOR = OPERATOR(billing.>=), RESTRICT = scalarltsel, JOIN = scalarltjoinsel);
CREATE OPERATOR billing.<= (LEFTARG = billing.cycle, RIGHTARG = billing.cycle,
	FUNCTION = billing_internal.cycle_le, COMMUTATOR = OPERATOR(billing.>=),
	NEGATOR = OPERATOR(billing.>), RESTRICT = scalarlesel, JOIN = scalarlejoinsel);
CREATE OPERATOR billing.> (LEFTARG = billing.cycle, RIGHTARG = billing.cycle,
	FUNCTION = billing_internal.cycle_gt, COMMUTATOR = OPERATOR(billing.<),
	NEGATOR = OPERATOR(billing.<=), RESTRICT = scalargtsel, JOIN = scalargtjoinsel);
CREATE OPERATOR billing.>= (LEFTARG = billing.cycle, RIGHTARG = billing.cycle,
	FUNCTION = billing_internal.cycle_ge, COMMUTATOR = OPERATOR(billing.<=),
	NEGATOR = OPERATOR(billing.<), RESTRICT = scalargesel, JOIN = scalargejoinsel);
COMMENT ON OPERATOR billing.= (billing.cycle, billing.cycle) IS 'equal';
COMMENT ON OPERATOR billing.<> (billing.cycle, billing.cycle) IS 'not equal';
COMMENT ON OPERATOR billing.< (billing.cycle, billing.cycle) IS 'less than';
COMMENT ON OPERATOR billing.<= (billing.cycle, billing.cycle) IS 'less than or equal';
COMMENT ON OPERATOR billing.> (billing.cycle, billing.cycle) IS 'greater than';
COMMENT ON OPERATOR billing.>= (billing.cycle, billing.cycle) IS 'greater than or equal';

CREATE OPERATOR CLASS billing.cycle_ops DEFAULT FOR TYPE billing.cycle USING btree AS
	OPERATOR 1 billing.<, OPERATOR 2 billing.<=, OPERATOR 3 billing.=,
	OPERATOR 4 billing.>=, OPERATOR 5 billing.>,
	FUNCTION 1 billing_internal.cycle_cmp(billing.cycle, billing.cycle);
CREATE OPERATOR CLASS billing.cycle_hash_ops DEFAULT FOR TYPE billing.cycle USING hash AS
	OPERATOR 1 billing.=,
	FUNCTION 1 billing_internal.cycle_hash(billing.cycle);
COMMENT ON OPERATOR CLASS billing.cycle_ops USING btree IS
	'default btree operator class of billing.cycle: indexes, ORDER BY, merge joins; cycles order by kind (daily, weekly, monthly, yearly), then by weekday or day';
COMMENT ON OPERATOR FAMILY billing.cycle_ops USING btree IS
	'btree operator family of billing.cycle, made by its operator class';
COMMENT ON OPERATOR CLASS billing.cycle_hash_ops USING hash IS
	'default hash operator class of billing.cycle: hash indexes, hash joins, GROUP BY and DISTINCT by hashing';
COMMENT ON OPERATOR FAMILY billing.cycle_hash_ops USING hash IS
	'hash operator family of billing.cycle, made by its operator class';

CREATE FUNCTION billing_internal.due_rule_eq(billing.due_rule, billing.due_rule) RETURNS boolean
	AS 'int4eq' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION billing_internal.due_rule_ne(billing.due_rule, billing.due_rule) RETURNS boolean
	AS 'int4ne' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION billing_internal.due_rule_lt(billing.due_rule, billing.due_rule) RETURNS boolean
	AS 'int4lt' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION billing_internal.due_rule_le(billing.due_rule, billing.due_rule) RETURNS boolean
	AS 'int4le' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION billing_internal.due_rule_gt(billing.due_rule, billing.due_rule) RETURNS boolean
	AS 'int4gt' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION billing_internal.due_rule_ge(billing.due_rule, billing.due_rule) RETURNS boolean
	AS 'int4ge' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION billing_internal.due_rule_cmp(billing.due_rule, billing.due_rule) RETURNS integer
	AS 'btint4cmp' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION billing_internal.due_rule_hash(billing.due_rule) RETURNS integer
	AS 'hashint4' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
COMMENT ON FUNCTION billing_internal.due_rule_eq(billing.due_rule, billing.due_rule) IS
	'implementation of the = operator of billing.due_rule';
GRANT EXECUTE ON FUNCTION billing_internal.due_rule_eq(billing.due_rule, billing.due_rule) TO PUBLIC;
COMMENT ON FUNCTION billing_internal.due_rule_ne(billing.due_rule, billing.due_rule) IS
	'implementation of the <> operator of billing.due_rule';
GRANT EXECUTE ON FUNCTION billing_internal.due_rule_ne(billing.due_rule, billing.due_rule) TO PUBLIC;
COMMENT ON FUNCTION billing_internal.due_rule_lt(billing.due_rule, billing.due_rule) IS
	'implementation of the < operator of billing.due_rule';
GRANT EXECUTE ON FUNCTION billing_internal.due_rule_lt(billing.due_rule, billing.due_rule) TO PUBLIC;
COMMENT ON FUNCTION billing_internal.due_rule_le(billing.due_rule, billing.due_rule) IS
	'implementation of the <= operator of billing.due_rule';
GRANT EXECUTE ON FUNCTION billing_internal.due_rule_le(billing.due_rule, billing.due_rule) TO PUBLIC;
COMMENT ON FUNCTION billing_internal.due_rule_gt(billing.due_rule, billing.due_rule) IS
	'implementation of the > operator of billing.due_rule';
GRANT EXECUTE ON FUNCTION billing_internal.due_rule_gt(billing.due_rule, billing.due_rule) TO PUBLIC;
COMMENT ON FUNCTION billing_internal.due_rule_ge(billing.due_rule, billing.due_rule) IS
	'implementation of the >= operator of billing.due_rule';
GRANT EXECUTE ON FUNCTION billing_internal.due_rule_ge(billing.due_rule, billing.due_rule) TO PUBLIC;
COMMENT ON FUNCTION billing_internal.due_rule_cmp(billing.due_rule, billing.due_rule) IS
	'btree comparison of billing.due_rule: -1, 0 or 1; due rules order by kind (net, then month+N), then by months and days';
GRANT EXECUTE ON FUNCTION billing_internal.due_rule_cmp(billing.due_rule, billing.due_rule) TO PUBLIC;
COMMENT ON FUNCTION billing_internal.due_rule_hash(billing.due_rule) IS
	'hash of billing.due_rule, for hash joins, hash aggregates and hash indexes';
GRANT EXECUTE ON FUNCTION billing_internal.due_rule_hash(billing.due_rule) TO PUBLIC;

CREATE OPERATOR billing.= (LEFTARG = billing.due_rule, RIGHTARG = billing.due_rule,
	FUNCTION = billing_internal.due_rule_eq, COMMUTATOR = OPERATOR(billing.=),
	NEGATOR = OPERATOR(billing.<>), RESTRICT = eqsel, JOIN = eqjoinsel,
	HASHES, MERGES);
CREATE OPERATOR billing.<> (LEFTARG = billing.due_rule, RIGHTARG = billing.due_rule,
	FUNCTION = billing_internal.due_rule_ne, COMMUTATOR = OPERATOR(billing.<>),
	NEGATOR = OPERATOR(billing.=), RESTRICT = neqsel, JOIN = neqjoinsel);
CREATE OPERATOR billing.< (LEFTARG = billing.due_rule, RIGHTARG = billing.due_rule,
	FUNCTION = billing_internal.due_rule_lt, COMMUTATOR = OPERATOR(billing.>),
	NEGATOR = OPERATOR(billing.>=), RESTRICT = scalarltsel, JOIN = scalarltjoinsel);
CREATE OPERATOR billing.<= (LEFTARG = billing.due_rule, RIGHTARG = billing.due_rule,
	FUNCTION = billing_internal.due_rule_le, COMMUTATOR = OPERATOR(billing.>=),
	NEGATOR = OPERATOR(billing.>), RESTRICT = scalarlesel, JOIN = scalarlejoinsel);
CREATE OPERATOR billing.> (LEFTARG = billing.due_rule, RIGHTARG = billing.due_rule,
	FUNCTION = billing_internal.due_rule_gt, COMMUTATOR = OPERATOR(billing.<),
	NEGATOR = OPERATOR(billing.<=), RESTRICT = scalargtsel, JOIN = scalargtjoinsel);
CREATE OPERATOR billing.>= (LEFTARG = billing.due_rule, RIGHTARG = billing.due_rule,
	FUNCTION = billing_internal.due_rule_ge, COMMUTATOR = OPERATOR(billing.<=),
	NEGATOR = OPERATOR(billing.<), RESTRICT = scalargesel, JOIN = scalargejoinsel);
COMMENT ON OPERATOR billing.= (billing.due_rule, billing.due_rule) IS 'equal';
COMMENT ON OPERATOR billing.<> (billing.due_rule, billing.due_rule) IS 'not equal';
COMMENT ON OPERATOR billing.< (billing.due_rule, billing.due_rule) IS 'less than';
COMMENT ON OPERATOR billing.<= (billing.due_rule, billing.due_rule) IS 'less than or equal';
COMMENT ON OPERATOR billing.> (billing.due_rule, billing.due_rule) IS 'greater than';
COMMENT ON OPERATOR billing.>= (billing.due_rule, billing.due_rule) IS 'greater than or equal';

CREATE OPERATOR CLASS billing.due_rule_ops DEFAULT FOR TYPE billing.due_rule USING btree AS
	OPERATOR 1 billing.<, OPERATOR 2 billing.<=, OPERATOR 3 billing.=,
	OPERATOR 4 billing.>=, OPERATOR 5 billing.>,
	FUNCTION 1 billing_internal.due_rule_cmp(billing.due_rule, billing.due_rule);
CREATE OPERATOR CLASS billing.due_rule_hash_ops DEFAULT FOR TYPE billing.due_rule USING hash AS
	OPERATOR 1 billing.=,
	FUNCTION 1 billing_internal.due_rule_hash(billing.due_rule);
COMMENT ON OPERATOR CLASS billing.due_rule_ops USING btree IS
	'default btree operator class of billing.due_rule: indexes, ORDER BY, merge joins; due rules order by kind (net, then month+N), then by months and days';
COMMENT ON OPERATOR FAMILY billing.due_rule_ops USING btree IS
	'btree operator family of billing.due_rule, made by its operator class';
COMMENT ON OPERATOR CLASS billing.due_rule_hash_ops USING hash IS
	'default hash operator class of billing.due_rule: hash indexes, hash joins, GROUP BY and DISTINCT by hashing';
COMMENT ON OPERATOR FAMILY billing.due_rule_hash_ops USING hash IS
	'hash operator family of billing.due_rule, made by its operator class';
