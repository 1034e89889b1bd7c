#!/usr/bin/env bash
# test/run_all.sh: every test suite of billing on a throwaway cluster.
#
#   sudo bash test/run_all.sh
#
# Installs the Debian packages it needs, builds with warnings as errors,
# runs cppcheck on src/ (one suite), installs the extension, starts a cluster with pg_cron preloaded, runs the
# pg_regress suites (and again in reverse order), the isolation specs and the TAP tests, stops the cluster,
# runs the load test with its invariants (test/load/run.sh, 15 s, on a
# cluster of its own) and ends with one line "N passed, N failed" (exit 1 on
# any failure).
set -uo pipefail
source "$(dirname "$0")/lib.sh"
cd "$BILLING_ROOT"

install_packages || exit 1
build_and_install || { echo "0 passed, 1 failed"; exit 1; }

CLUSTER=${BILLING_TEST_DIR:-/tmp/billing-test-cluster}
PORT=${BILLING_TEST_PORT:-54329}
cluster_start "$CLUSTER" "$PORT" || { echo "0 passed, 1 failed"; exit 1; }
trap 'cluster_stop "$CLUSTER"' EXIT

export PGHOST=$CLUSTER PGPORT=$PORT PGUSER=postgres
passed=0
failed=0

# static analysis of the C sources: one suite, failed on any finding
echo "== cppcheck on src/"
if run_cppcheck > test/out-cppcheck.log 2>&1; then
	passed=$((passed + 1))
	echo "cppcheck: no findings"
else
	failed=$((failed + 1))
	echo "cppcheck: findings"
	cat test/out-cppcheck.log
fi

# count_pg_regress FILE adds one pass or failure per test pg_regress ran
count_pg_regress() {
	local ok bad
	ok=$(grep -cE '\.\.\. ok' "$1")
	bad=$(grep -cE '\.\.\. FAILED|\.\.\. failed' "$1")
	passed=$((passed + ok))
	failed=$((failed + bad))
}

# run_suite NAME TARGET: one make target, counted per test; a runner that dies
# without reporting a failed test still counts as one failure
run_suite() {
	local before=$failed status
	echo "== $1"
	make -s "$2" PG_CONFIG="$PG_BIN/pg_config" > "test/out-$2.log" 2>&1
	status=$?
	cat "test/out-$2.log"
	count_pg_regress "test/out-$2.log"
	if [ "$status" -ne 0 ] && [ "$failed" -eq "$before" ]; then
		failed=$((failed + 1))
	fi
}

rm -f regression.diffs output_iso/regression.diffs
run_suite "pg_regress suites and isolation specs (make installcheck)" installcheck
[ -f regression.diffs ] && cat regression.diffs
[ -f output_iso/regression.diffs ] && cat output_iso/regression.diffs

# the pg_regress suites again, in reverse order: one suite, failed when a
# suite's output depends on the suites before it (test/regress_orders.sh;
# each suite alone is its default run, not CI's)
echo "== pg_regress suites in reverse order (test/regress_orders.sh reversed)"
if PG_CONFIG="$PG_BIN/pg_config" bash test/regress_orders.sh reversed > test/out-regress-reversed.log 2>&1; then
	passed=$((passed + 1))
else
	failed=$((failed + 1))
	cat test/orders/reversed.diffs 2>/dev/null
fi
cat test/out-regress-reversed.log

echo "== TAP tests (make prove_installcheck)"
# The TAP tests run initdb, so as postgres.  They run from a copy of the
# checkout (and of ../shared, the PINT JP rules) that postgres owns, so that
# no permission above the clone can keep them from reading it.
tapdir=$(as_root mktemp -d /tmp/billing-tap.XXXXXX)
as_root tar -C "$BILLING_ROOT" --exclude=.git -cf - . | as_root tar -C "$tapdir" --one-top-level=main -xf -
shared=${BILLING_SHARED:-$BILLING_ROOT/../shared}
[ -d "$shared" ] && as_root cp -rL "$shared" "$tapdir/shared"
as_root chown -R postgres: "$tapdir"
as_pg env BILLING_SHARED="$tapdir/shared" make -C "$tapdir/main" -s prove_installcheck \
	PG_CONFIG="$PG_BIN/pg_config" TAP_TESTDIR="$tapdir" > test/out-prove_installcheck.log 2>&1
status=$?
cat test/out-prove_installcheck.log
files=$(sed -n 's/^Files=\([0-9]*\),.*/\1/p' test/out-prove_installcheck.log)
bad=$(sed -n 's/^Failed \([0-9]*\)\/[0-9]* test programs.*/\1/p' test/out-prove_installcheck.log)
files=${files:-0} bad=${bad:-0}
if [ "$status" -ne 0 ] && [ "$bad" -eq 0 ]; then bad=1; fi
[ "$bad" -le "$files" ] && passed=$((passed + files - bad))
failed=$((failed + bad))
if [ "$bad" -ne 0 ]; then
	for log in "$tapdir"/tmp_check/log/regress_log_*; do
		[ -e "$log" ] && { echo "== $log"; tail -n 60 "$log"; }
	done
fi
as_root rm -rf "$tapdir"

# load with invariants: pgbench clients on a cluster of its own for 15 s (the
# README's command runs it for 60 s); one suite, failed when an invariant
# breaks.  Its port is this run's port + 276 (54605 beside the default 54329).
echo "== load with invariants (test/load/run.sh, 15 s)"
cluster_stop "$CLUSTER"		# the two cores go to the load
BILLING_LOAD_BUILD=no BILLING_LOAD_SECONDS=${BILLING_LOAD_SECONDS:-15} \
	BILLING_LOAD_PORT=${BILLING_LOAD_PORT:-$((PORT + 276))} BILLING_LOAD_DIR=${BILLING_LOAD_DIR:-$CLUSTER-load} \
	bash test/load/run.sh > test/out-load.log 2>&1
status=$?
cat test/out-load.log
if [ "$status" -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
