#!/usr/bin/env bash
# test/run_all.sh: every test suite of billing on a throwaway cluster.
#
#   sudo bash test/run_all.sh
#
# Installs the Debian packages it needs, builds with warnings as errors,
# installs the extension, starts a cluster with pg_cron preloaded, runs the
# pg_regress suites, the isolation specs and the TAP tests, stops the cluster
# and ends with one line "N passed, N failed" (exit 1 on any failure).
set -uo pipefail
source "$(dirname "$0")/lib.sh"
cd "$BILLING_ROOT"

install_packages || exit 1
build_and_install || { echo "0 passed, 1 failed"; exit 1; }

CLUSTER=/tmp/billing-test-cluster
PORT=54329
cluster_start "$CLUSTER" "$PORT" || { echo "0 passed, 1 failed"; exit 1; }
trap 'cluster_stop "$CLUSTER"' EXIT

export PGHOST=$CLUSTER PGPORT=$PORT PGUSER=postgres
passed=0
failed=0

# count_pg_regress FILE adds one pass or failure per test pg_regress ran
count_pg_regress() {
	local ok bad
	ok=$(grep -cE '\.\.\. ok' "$1")
	bad=$(grep -cE '\.\.\. FAILED|\.\.\. failed' "$1")
	passed=$((passed + ok))
	failed=$((failed + bad))
}

# run_suite NAME TARGET: one make target, counted; a runner that dies
# without reporting a failed test still counts as one failure
run_suite() {
	local before=$failed status
	echo "== $1"
	make -s "$2" > "test/out-$2.log" 2>&1
	status=$?
	cat "test/out-$2.log"
	count_pg_regress "test/out-$2.log"
	if [ "$status" -ne 0 ] && [ "$failed" -eq "$before" ]; then
		failed=$((failed + 1))
	fi
}

run_suite "pg_regress suites" installcheck-regress
[ -f regression.diffs ] && cat regression.diffs
run_suite "isolation specs" installcheck-isolation
[ -f output_iso/regression.diffs ] && cat output_iso/regression.diffs

echo "== TAP tests"
tapdir=$(as_pg mktemp -d /tmp/billing-tap.XXXXXX)
[ -d test/t ] && as_root cp -r test/t "$tapdir/"
as_root chown -R postgres: "$tapdir"
for t in test/t/*.pl; do
	[ -e "$t" ] || continue
	if as_pg env -C "$tapdir" PATH="$PG_BIN:$PATH" TESTDIR="$tapdir" \
		PERL5LIB="$PG_BIN/../lib/pgxs/src/test/perl" \
		PG_REGRESS="$PG_BIN/../lib/pgxs/src/test/regress/pg_regress" \
		prove -v "t/$(basename "$t")" > "test/out-tap-$(basename "$t").log" 2>&1; then
		passed=$((passed + 1)); echo "ok   $t"
	else
		failed=$((failed + 1)); echo "FAIL $t"; cat "test/out-tap-$(basename "$t").log"
	fi
done
as_root rm -rf "$tapdir"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
