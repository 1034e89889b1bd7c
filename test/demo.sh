#!/usr/bin/env bash
# test/demo.sh: the main job on a throwaway cluster.
#
#   sudo bash test/demo.sh
#
# Installs what it needs, builds and installs the extension, starts a
# cluster with pg_cron preloaded, loads sample data, issues drafts, re-runs
# after a late delivery, confirms one invoice and prints the results.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$BILLING_ROOT"

install_packages
build_and_install

CLUSTER=/tmp/billing-demo-cluster
PORT=54330
cluster_start "$CLUSTER" "$PORT" "cron.database_name = 'billing_demo'"
trap 'cluster_stop "$CLUSTER"' EXIT
export PGHOST=$CLUSTER PGPORT=$PORT PGUSER=postgres

$PG_BIN/psql -qX -d postgres -c "CREATE DATABASE billing_demo"
$PG_BIN/psql -qX -d billing_demo -c "CREATE EXTENSION pg_cron" -c "CREATE EXTENSION billing"
$PG_BIN/psql -X -d billing_demo -f test/demo/demo.sql
