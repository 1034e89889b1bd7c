-- src/sql/ids.sql: the ids of billing's rows, safe whichever node inserts.

-- billing_internal.next_id: the next id of a sequence on this node, the
-- default of every id column and how the run numbers its drafts.  nextval()
-- itself on plain PostgreSQL and on a Citus coordinator; (node group << 48)
-- + nextval() on a Citus worker, so that each node hands out ids of its own
-- range (src/ids.c, doc/citus.md).  The rights of nextval(): USAGE or
-- UPDATE on the sequence; EXECUTE for everyone, as every insert calls it.
CREATE OR REPLACE FUNCTION billing_internal.next_id(sequence regclass) RETURNS bigint
	AS 'MODULE_PATHNAME', 'billing_next_id' LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION billing_internal.next_id(regclass) IS
	'default of every id column: nextval(sequence), from a range of its own on each Citus worker ((node group << 48) + nextval)';
GRANT EXECUTE ON FUNCTION billing_internal.next_id(regclass) TO PUBLIC;
