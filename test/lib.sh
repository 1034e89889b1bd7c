# test/lib.sh: shared shell helpers for the test, demo and benchmark scripts.
# Source it; it needs bash.  Everything here works from a fresh Debian 12
# machine as root (or a user with sudo).

PG_MAJOR=15
# BILLING_PG_BIN: another (relocated) copy of PostgreSQL 15 to build and test
# against, so that several checkouts can be tested side by side
PG_BIN=${BILLING_PG_BIN:-/usr/lib/postgresql/$PG_MAJOR/bin}
BILLING_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# as_root runs a command as root, through sudo when we are not root
as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# as_pg runs a command as the postgres OS user (initdb refuses root)
as_pg() {
	if [ "$(id -un)" = postgres ]; then "$@"
	else as_root runuser -u postgres -- "$@"; fi
}

# install_packages installs the Debian packages the build and tests need
# (a JRE, Saxon-HE and python3 run the PINT JP rules' validate script; the
# mailer links libcurl, and its test sends to an aiosmtpd server; cppcheck
# checks the C sources, run_cppcheck; the PDF links cairo and FreeType,
# prints in IPAex Gothic, and its test reads the PDFs with poppler-utils
# and qpdf)
install_packages() {
	local want="postgresql-$PG_MAJOR postgresql-server-dev-$PG_MAJOR postgresql-$PG_MAJOR-cron
		libipc-run-perl libxml2-utils make gcc
		default-jre-headless libsaxonhe-java python3
		libcurl4-openssl-dev python3-aiosmtpd cppcheck
		pkg-config libcairo2-dev libfreetype-dev fonts-ipaexfont poppler-utils qpdf"
	local missing=""
	for p in $want; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
	done
	if [ -n "$missing" ]; then
		echo "== installing:$missing"
		as_root apt-get update -qq
		as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
	fi
}

# build_and_install builds with warnings as errors and installs the extension
build_and_install() {
	echo "== building billing (warnings are errors)"
	make -C "$BILLING_ROOT" -s clean >/dev/null
	make -C "$BILLING_ROOT" -s WERROR=1 PG_CONFIG=$PG_BIN/pg_config >/dev/null 2>"$BILLING_ROOT/build.log" \
		|| { cat "$BILLING_ROOT/build.log"; return 1; }
	as_root make -C "$BILLING_ROOT" -s install PG_CONFIG=$PG_BIN/pg_config >/dev/null
}

# run_cppcheck: cppcheck on src/ (the C sources), clean or a failure with
# its findings on stderr.  Warnings, portability and performance checks;
# the PostgreSQL server headers are read for their macros and types, with
# one configuration (-D__GNUC__, the compiler the build uses) and no
# findings of their own reported (they are not ours); a missing system
# header (libcurl's, libc's) is not a finding.  A finding is fixed in the
# code, or, when cppcheck is wrong, suppressed on its line with a
# "// cppcheck-suppress id" comment that says why.
run_cppcheck() {
	local inc
	inc=$($PG_BIN/pg_config --includedir-server)
	cppcheck --enable=warning,portability,performance --error-exitcode=1 --inline-suppr --quiet \
		-D__GNUC__ -I "$inc" --config-exclude="$inc" \
		--suppress=missingIncludeSystem "--suppress=*:$inc/*" \
		"$BILLING_ROOT/src"
}

# cluster_start DIR PORT [extra postgresql.conf lines]: a throwaway cluster
# owned by postgres, listening only on a socket in DIR, with pg_cron preloaded
cluster_start() {
	local dir=$1 port=$2 extra=${3:-}
	as_root rm -rf "$dir"
	as_root mkdir -p "$dir"
	as_root chown postgres: "$dir"
	as_pg $PG_BIN/initdb -D "$dir/data" -U postgres --auth=trust --no-sync \
		--locale=C.UTF-8 -E UTF8 >/dev/null
	as_pg tee -a "$dir/data/postgresql.conf" >/dev/null <<CONF
port = $port
listen_addresses = ''
unix_socket_directories = '$dir'
shared_preload_libraries = 'pg_cron'
cron.use_background_workers = on
max_worker_processes = 32
timezone = 'UTC'
fsync = off
log_min_messages = warning
$extra
CONF
	as_pg $PG_BIN/pg_ctl -D "$dir/data" -l "$dir/server.log" -w start >/dev/null
}

# cluster_stop DIR stops the cluster started by cluster_start
cluster_stop() {
	as_pg $PG_BIN/pg_ctl -D "$1/data" -m fast -w stop >/dev/null 2>&1 || true
}
