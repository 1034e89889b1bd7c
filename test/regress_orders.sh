#!/usr/bin/env bash
# test/regress_orders.sh: proves the pg_regress suites are independent of
# one another.  Runs the REGRESS list of the Makefile three ways against the
# installed extension on the cluster at PGHOST/PGPORT (as PGUSER, a
# superuser):
#   forward   test_setup, then the list as the Makefile has it
#   reversed  test_setup, then the list backwards
#   alone     test_setup, then one suite, for each suite
# (test_setup is the one shared setup: it makes the helper public.err).
#
#   PGHOST=/tmp/cluster PGPORT=5432 bash test/regress_orders.sh [forward|reversed|alone] ...
#
# PG_CONFIG names the pg_config of the PostgreSQL it runs against (default:
# pg_config on PATH).  Each run's diffs go to test/orders/NAME.diffs; the
# script ends with one line "N passed, N failed" (a run per line above it)
# and exits 1 on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
PG_CONFIG=${PG_CONFIG:-pg_config}
: "${PGHOST:?set PGHOST}" "${PGPORT:?set PGPORT}"
export PGHOST PGPORT PGUSER=${PGUSER:-postgres}
modes=${*:-forward reversed alone}

list=$(sed -n "s/^REGRESS = //p" Makefile)
suites=$(printf '%s\n' $list | grep -vx test_setup)
mkdir -p test/orders
passed=0 failed=0

# run NAME SUITE...: one pg_regress run of the suites in the order given
run() {
	local name=$1; shift
	rm -f regression.diffs
	if make -s installcheck PG_CONFIG="$PG_CONFIG" ISOLATION= REGRESS="$*" \
		> "test/orders/$name.log" 2>&1; then
		passed=$((passed + 1))
		echo "ok      $name"
		rm -f "test/orders/$name.diffs"
	else
		failed=$((failed + 1))
		echo "FAILED  $name: $(grep -E '\.\.\. FAILED|\.\.\. failed' "test/orders/$name.log" | awk '{print $2}' | tr '\n' ' ')"
		[ -f regression.diffs ] && mv regression.diffs "test/orders/$name.diffs"
	fi
}

for mode in $modes; do
	case $mode in
	forward)  run forward test_setup $suites ;;
	reversed) run reversed test_setup $(printf '%s\n' $suites | tac) ;;
	alone)    for s in $suites; do run "alone-$s" test_setup "$s"; done ;;
	*) echo "unknown mode $mode (forward, reversed, alone)" >&2; exit 2 ;;
	esac
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
