# test/citus/nodes.sh: one Citus coordinator and two workers on this
# machine, for the Citus suite (run.sh) and the Citus benchmark
# (test/bench/citus.sh).  Source it after test/lib.sh, from the checkout's
# root.  BILLING_CITUS_DIR (default /tmp/billing-citus), BILLING_CITUS_PORT
# (default 56401, and the two ports after it), BILLING_CITUS_SHARDS (shards
# per distributed table, default 4: the machine is small).
BASE=${BILLING_CITUS_DIR:-/tmp/billing-citus}
PORT=${BILLING_CITUS_PORT:-56401}
SHARDS=${BILLING_CITUS_SHARDS:-4}
nodes="c:$PORT w1:$((PORT + 1)) w2:$((PORT + 2))"

# psql_on PORT DB ...: psql as postgres over TCP on localhost (how the
# nodes reach each other too)
psql_on() {
	local port=$1 db=$2
	shift 2
	as_pg "$PG_BIN/psql" -X -q -h localhost -p "$port" -U postgres -d "$db" -v ON_ERROR_STOP=1 "$@"
}
stop_all() {
	for n in $nodes; do cluster_stop "$BASE-${n%%:*}"; done
}

# start_nodes: the three clusters, with billing preloaded after Citus (its
# planner hook must run before Citus's: src/planner.c)
start_nodes() {
	for n in $nodes; do
		cluster_start "$BASE-${n%%:*}" "${n##*:}" "listen_addresses = 'localhost'
shared_preload_libraries = 'citus,pg_cron,billing'
citus.shard_count = $SHARDS
max_connections = 60" || return 1
	done
}

# make_db DB: one database per purpose, Citus in it on every node, the
# workers added: the nodes then get billing from the coordinator's CREATE
# EXTENSION
make_db() {
	local db=$1 p
	for n in $nodes; do
		p=${n##*:}
		psql_on "$p" postgres -c "CREATE DATABASE $db" || return 1
		psql_on "$p" "$db" -c "CREATE EXTENSION citus" || return 1
	done
	psql_on "$PORT" "$db" -c "SELECT citus_set_coordinator_host('localhost', $PORT)" \
		-c "SELECT citus_add_node('localhost', $((PORT + 1)))" \
		-c "SELECT citus_add_node('localhost', $((PORT + 2)))" \
		-c "CREATE EXTENSION billing" >/dev/null
}

# place_for_real DB: billing's tables placed on Citus for good in a
# throwaway database, as distribute() will once citus_missing() is empty:
# the unique keys Citus refuses dropped (plan step 2), then citus_place_all
place_for_real() {
	cat test/citus/refused_keys.sql - <<'SQL' | psql_on "$PORT" "$1" -f -
SELECT pg_temp.drop_refused_unique_keys();
SELECT * FROM billing_internal.citus_place_all(current_setting('citus.shard_count')::integer) WHERE kind = 'keys';
SQL
}
