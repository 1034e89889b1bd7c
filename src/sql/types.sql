-- src/sql/types.sql: billing.cycle and billing.due_rule, C types of 4 bytes
-- passed by value, with casts, operators and operator classes (run once:
-- the Makefile's SQL_RUN_ONCE; their comments are in types_comments.sql)

CREATE TYPE billing.cycle;

CREATE FUNCTION billing.cycle_in(cstring) RETURNS billing.cycle
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION billing.cycle_out(billing.cycle) RETURNS cstring
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION billing.cycle_recv(internal) RETURNS billing.cycle
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION billing.cycle_send(billing.cycle) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE billing.cycle (
	INPUT = billing.cycle_in,
	OUTPUT = billing.cycle_out,
	RECEIVE = billing.cycle_recv,
	SEND = billing.cycle_send,
	INTERNALLENGTH = 4,
	PASSEDBYVALUE,
	ALIGNMENT = int4,
	STORAGE = plain
);

CREATE TYPE billing.due_rule;

CREATE FUNCTION billing.due_rule_in(cstring) RETURNS billing.due_rule
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION billing.due_rule_out(billing.due_rule) RETURNS cstring
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION billing.due_rule_recv(internal) RETURNS billing.due_rule
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION billing.due_rule_send(billing.due_rule) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE billing.due_rule (
	INPUT = billing.due_rule_in,
	OUTPUT = billing.due_rule_out,
	RECEIVE = billing.due_rule_recv,
	SEND = billing.due_rule_send,
	INTERNALLENGTH = 4,
	PASSEDBYVALUE,
	ALIGNMENT = int4,
	STORAGE = plain
);

CREATE CAST (billing.cycle AS text) WITH INOUT AS ASSIGNMENT;
CREATE CAST (text AS billing.cycle) WITH INOUT;
CREATE CAST (billing.due_rule AS text) WITH INOUT AS ASSIGNMENT;
CREATE CAST (text AS billing.due_rule) WITH INOUT;

-- Comparison.  Both types are an int32 whose order is the order we want
-- (kind, then parameter), so PostgreSQL's own int4 routines serve them.
CREATE FUNCTION billing.cycle_eq(billing.cycle, billing.cycle) RETURNS boolean
	AS 'int4eq' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION billing.cycle_ne(billing.cycle, billing.cycle) RETURNS boolean
	AS 'int4ne' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION billing.cycle_lt(billing.cycle, billing.cycle) RETURNS boolean
	AS 'int4lt' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION billing.cycle_le(billing.cycle, billing.cycle) RETURNS boolean
	AS 'int4le' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION billing.cycle_gt(billing.cycle, billing.cycle) RETURNS boolean
	AS 'int4gt' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION billing.cycle_ge(billing.cycle, billing.cycle) RETURNS boolean
	AS 'int4ge' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION billing.cycle_cmp(billing.cycle, billing.cycle) RETURNS integer
	AS 'btint4cmp' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION billing.cycle_hash(billing.cycle) RETURNS integer
	AS 'hashint4' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;

CREATE OPERATOR billing.= (LEFTARG = billing.cycle, RIGHTARG = billing.cycle,
	FUNCTION = billing.cycle_eq, COMMUTATOR = OPERATOR(billing.=),
	NEGATOR = OPERATOR(billing.<>), RESTRICT = eqsel, JOIN = eqjoinsel,
	HASHES, MERGES);
CREATE OPERATOR billing.<> (LEFTARG = billing.cycle, RIGHTARG = billing.cycle,
	FUNCTION = billing.cycle_ne, COMMUTATOR = OPERATOR(billing.<>),
	NEGATOR = OPERATOR(billing.=), RESTRICT = neqsel, JOIN = neqjoinsel);
CREATE OPERATOR billing.< (LEFTARG = billing.cycle, RIGHTARG = billing.cycle,
	FUNCTION = billing.cycle_lt, COMMUTATOR = OPERATOR(billing.>),
	NEGATOR = OPERATOR(billing.>=), RESTRICT = scalarltsel, JOIN = scalarltjoinsel);
CREATE OPERATOR billing.<= (LEFTARG = billing.cycle, RIGHTARG = billing.cycle,
	FUNCTION = billing.cycle_le, COMMUTATOR = OPERATOR(billing.>=),
	NEGATOR = OPERATOR(billing.>), RESTRICT = scalarlesel, JOIN = scalarlejoinsel);
CREATE OPERATOR billing.> (LEFTARG = billing.cycle, RIGHTARG = billing.cycle,
	FUNCTION = billing.cycle_gt, COMMUTATOR = OPERATOR(billing.<),
	NEGATOR = OPERATOR(billing.<=), RESTRICT = scalargtsel, JOIN = scalargtjoinsel);
CREATE OPERATOR billing.>= (LEFTARG = billing.cycle, RIGHTARG = billing.cycle,
	FUNCTION = billing.cycle_ge, COMMUTATOR = OPERATOR(billing.<=),
	NEGATOR = OPERATOR(billing.<), RESTRICT = scalargesel, JOIN = scalargejoinsel);

CREATE OPERATOR CLASS billing.cycle_ops DEFAULT FOR TYPE billing.cycle USING btree AS
	OPERATOR 1 billing.<, OPERATOR 2 billing.<=, OPERATOR 3 billing.=,
	OPERATOR 4 billing.>=, OPERATOR 5 billing.>,
	FUNCTION 1 billing.cycle_cmp(billing.cycle, billing.cycle);
CREATE OPERATOR CLASS billing.cycle_hash_ops DEFAULT FOR TYPE billing.cycle USING hash AS
	OPERATOR 1 billing.=,
	FUNCTION 1 billing.cycle_hash(billing.cycle);

CREATE FUNCTION billing.due_rule_eq(billing.due_rule, billing.due_rule) RETURNS boolean
	AS 'int4eq' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION billing.due_rule_ne(billing.due_rule, billing.due_rule) RETURNS boolean
	AS 'int4ne' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION billing.due_rule_lt(billing.due_rule, billing.due_rule) RETURNS boolean
	AS 'int4lt' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION billing.due_rule_le(billing.due_rule, billing.due_rule) RETURNS boolean
	AS 'int4le' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION billing.due_rule_gt(billing.due_rule, billing.due_rule) RETURNS boolean
	AS 'int4gt' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION billing.due_rule_ge(billing.due_rule, billing.due_rule) RETURNS boolean
	AS 'int4ge' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION billing.due_rule_cmp(billing.due_rule, billing.due_rule) RETURNS integer
	AS 'btint4cmp' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION billing.due_rule_hash(billing.due_rule) RETURNS integer
	AS 'hashint4' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;

CREATE OPERATOR billing.= (LEFTARG = billing.due_rule, RIGHTARG = billing.due_rule,
	FUNCTION = billing.due_rule_eq, COMMUTATOR = OPERATOR(billing.=),
	NEGATOR = OPERATOR(billing.<>), RESTRICT = eqsel, JOIN = eqjoinsel,
	HASHES, MERGES);
CREATE OPERATOR billing.<> (LEFTARG = billing.due_rule, RIGHTARG = billing.due_rule,
	FUNCTION = billing.due_rule_ne, COMMUTATOR = OPERATOR(billing.<>),
	NEGATOR = OPERATOR(billing.=), RESTRICT = neqsel, JOIN = neqjoinsel);
CREATE OPERATOR billing.< (LEFTARG = billing.due_rule, RIGHTARG = billing.due_rule,
	FUNCTION = billing.due_rule_lt, COMMUTATOR = OPERATOR(billing.>),
	NEGATOR = OPERATOR(billing.>=), RESTRICT = scalarltsel, JOIN = scalarltjoinsel);
CREATE OPERATOR billing.<= (LEFTARG = billing.due_rule, RIGHTARG = billing.due_rule,
	FUNCTION = billing.due_rule_le, COMMUTATOR = OPERATOR(billing.>=),
	NEGATOR = OPERATOR(billing.>), RESTRICT = scalarlesel, JOIN = scalarlejoinsel);
CREATE OPERATOR billing.> (LEFTARG = billing.due_rule, RIGHTARG = billing.due_rule,
	FUNCTION = billing.due_rule_gt, COMMUTATOR = OPERATOR(billing.<),
	NEGATOR = OPERATOR(billing.<=), RESTRICT = scalargtsel, JOIN = scalargtjoinsel);
CREATE OPERATOR billing.>= (LEFTARG = billing.due_rule, RIGHTARG = billing.due_rule,
	FUNCTION = billing.due_rule_ge, COMMUTATOR = OPERATOR(billing.<=),
	NEGATOR = OPERATOR(billing.<), RESTRICT = scalargesel, JOIN = scalargejoinsel);

CREATE OPERATOR CLASS billing.due_rule_ops DEFAULT FOR TYPE billing.due_rule USING btree AS
	OPERATOR 1 billing.<, OPERATOR 2 billing.<=, OPERATOR 3 billing.=,
	OPERATOR 4 billing.>=, OPERATOR 5 billing.>,
	FUNCTION 1 billing.due_rule_cmp(billing.due_rule, billing.due_rule);
CREATE OPERATOR CLASS billing.due_rule_hash_ops DEFAULT FOR TYPE billing.due_rule USING hash AS
	OPERATOR 1 billing.=,
	FUNCTION 1 billing.due_rule_hash(billing.due_rule);
