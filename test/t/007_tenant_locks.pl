# test/t/007_tenant_locks.pl: locks no tenant can squat, runs no other
# tenant can fail or see (issue 11: H2, H3, the worker slots, the busy run
# seen through a lock wait).  Two brands, ACME and BETA, with the README's
# grant recipe.
#
# A reader of ACME holds every advisory key of 0.2's namespaces (the
# schedule keys 'bill' 1..1000, the buyer buckets 'buyr' 0..255, the run
# keys 'brun' 1..1000) and tries to lock rows; BETA's reruns, document
# edits, bulk actions, the nightly issue_drafts and a background run still
# go through.  fail_dead_runs is not the reader's to call, and is not
# fooled by a session's own locks.  A lock held by BETA's own writer makes
# BETA's run fail with 55P03 after billing.lock_timeout, naming BETA's
# schedule, while ACME's run goes on.  A brand has at most
# billing.max_workers_per_brand background runs.  Another brand's run that
# is busy is reported as not existing, not waited for.
#
# Every statement runs under a statement_timeout, so that a hang (the
# behaviour of 0.2) is a failed test, not a stuck one.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);

my $started = time;
my $as_of = '2026-11-25 12:00+09';    # the last closed period is 2026-10-21 .. 2026-11-20

my $node = PostgreSQL::Test::Cluster->new('tenant_locks');
$node->init;
$node->append_conf('postgresql.conf', q{
timezone = 'UTC'
max_worker_processes = 16
max_parallel_workers_per_gather = 0
billing.lock_timeout = '60s'
billing.max_workers_per_brand = 2
});
$node->start;

$node->safe_psql('postgres', q{
	CREATE EXTENSION billing;
	INSERT INTO billing.brand (code, name) VALUES ('ACME', 'Acme KK'), ('BETA', 'Beta KK');
	INSERT INTO billing.schedule (brand_id, code, name, cycle)
	SELECT b.id, left(b.code, 1) || '20', 'the 20th', 'monthly:20' FROM billing.brand b;
	INSERT INTO billing.buyer (brand_id, code, name, schedule_id, schedule_applied_at)
	SELECT s.brand_id, left(s.code, 1) || g, 'Buyer ' || g, s.id, '2026-10-01 10:00+09'
	FROM billing.schedule s, generate_series(1, 3) AS g;
	INSERT INTO billing.document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference)
	SELECT b.id, b.brand_id, 'delivery_invoice', '2026-11-10', 1000, 0.10, b.code || '-1' FROM billing.buyer b;
	-- a document of the next period for the edits (on no invoice)
	INSERT INTO billing.document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference)
	SELECT b.id, b.brand_id, 'delivery_invoice', '2026-12-05', 1, 0.10, b.code || '-LATER' FROM billing.buyer b;

	-- the README's recipe
	CREATE ROLE billing_reader NOLOGIN;
	CREATE ROLE billing_app NOLOGIN IN ROLE billing_reader;
	CREATE ROLE billing_admin NOLOGIN IN ROLE billing_reader;
	GRANT USAGE ON SCHEMA billing TO billing_reader;
	GRANT SELECT ON billing.brand, billing.schedule, billing.bank_account, billing.member,
		billing.buyer, billing.document, billing.invoice, billing.invoice_tax_line,
		billing.document_link, billing.invoice_run, billing.run_log, billing.notification,
		billing.uninvoiced_document, billing.invoice_list, billing.run_report, billing.document_status,
		billing.master_data_version TO billing_reader;
	GRANT EXECUTE ON FUNCTION billing.preview_run, billing.invoice_xml, billing.run_xml,
		billing.invoices_xml TO billing_reader;
	GRANT INSERT, UPDATE, DELETE ON billing.buyer, billing.document TO billing_app;
	GRANT USAGE ON SEQUENCE billing.buyer_id_seq, billing.document_id_seq TO billing_app;
	GRANT EXECUTE ON FUNCTION billing.confirm_invoices, billing.quarantine_invoices,
		billing.reject_invoices, billing.cancel_invoices, billing.delete_drafts TO billing_app;
	GRANT INSERT, UPDATE, DELETE ON billing.schedule, billing.buyer, billing.bank_account, billing.member
		TO billing_admin;
	GRANT USAGE ON SEQUENCE billing.schedule_id_seq, billing.buyer_id_seq, billing.bank_account_id_seq,
		billing.member_id_seq TO billing_admin;
	GRANT EXECUTE ON FUNCTION billing.rerun_invoice_run, billing.cancel_run, billing.cancel_invoices,
		billing.set_run_description, billing.disable_run, billing.enable_run, billing.process_run TO billing_admin;
	CREATE ROLE acme NOLOGIN;
	CREATE ROLE beta NOLOGIN;
	SELECT billing.grant_brand('ACME', 'acme');
	SELECT billing.grant_brand('BETA', 'beta');
	CREATE ROLE acme_app LOGIN IN ROLE billing_app, acme;
	CREATE ROLE acme_admin LOGIN IN ROLE billing_admin, acme;
	CREATE ROLE acme_reader LOGIN IN ROLE billing_reader, acme;
	CREATE ROLE beta_app LOGIN IN ROLE billing_app, beta;
	CREATE ROLE beta_admin LOGIN IN ROLE billing_admin, beta;
});

# as_role: runs sql as a role under a statement_timeout; returns
# (stdout, stderr), stderr with the SQLSTATE of an error (VERBOSITY verbose)
sub as_role
{
	my ($role, $sql, $timeout) = @_;
	$timeout //= '10s';
	my ($stdout, $stderr);
	$node->psql('postgres', "SET statement_timeout = '$timeout';\n$sql",
		stdout => \$stdout, stderr => \$stderr,
		extra_params => [ '-U', $role, '-v', 'VERBOSITY=verbose' ]);
	return ($stdout, $stderr);
}

# session: a psql session as a role that stays open, with a statement_timeout
sub session
{
	my ($role) = @_;
	my $s = $node->background_psql('postgres', on_error_stop => 0,
		extra_params => [ '-U', $role, '-v', 'VERBOSITY=verbose' ]);
	$s->query_safe(q{SET statement_timeout = '20s'});
	return $s;
}

# run_status_within: polls a run's status until it is $want or $seconds pass.
# A background rerun that finds nothing to re-run ends 'cancelled' (issue
# 12): to these lock tests that is a run that went through, so 'completed'
# is returned for it too.
sub run_status_within
{
	my ($run, $want, $seconds) = @_;
	my $deadline = time + $seconds;
	my $status;
	while (1)
	{
		$status = $node->safe_psql('postgres', qq{
			SELECT CASE WHEN r.status = 'cancelled' AND r.invoice_count = 0 AND EXISTS (
			                 SELECT 1 FROM billing.run_log l WHERE l.run_id = r.id
			                 AND l.message LIKE '%nothing to re-run%')
			            THEN 'completed' ELSE r.status END
			FROM billing.invoice_run r WHERE r.id = $run});
		return $status if $status eq $want || time > $deadline;
		sleep 0.1;
	}
}

# went_through: a rerun returned a run id, or NULL for nothing to re-run
sub went_through
{
	my ($call) = @_;
	return "SELECT 'returned' FROM (SELECT $call) AS r";
}

# waiting_workers: polls until n background workers of runs wait on a lock
sub waiting_workers
{
	my ($n) = @_;
	my $deadline = time + 15;
	while (time < $deadline)
	{
		return 1 if $node->safe_psql('postgres', qq{
			SELECT count(*) >= $n FROM pg_stat_activity
			WHERE backend_type = 'billing invoice run' AND wait_event_type = 'Lock'}) eq 't';
		sleep 0.1;
	}
	return 0;
}

# the first drafts of each brand
my $beta_run = $node->safe_psql('postgres',
	qq{SELECT billing.rerun_invoice_run('B20', as_of => '$as_of', brand => 'BETA')});
my $acme_run = $node->safe_psql('postgres',
	qq{SELECT billing.rerun_invoice_run('A20', as_of => '$as_of', brand => 'ACME')});
my @beta_drafts = split /\n/, $node->safe_psql('postgres',
	"SELECT id FROM billing.invoice WHERE run_id = $beta_run ORDER BY id");
is(scalar @beta_drafts, 3, 'setup: BETA has three drafts');

#
# H2: a reader of ACME squats every advisory key of 0.2's namespaces
#
my $squatter = session('acme_reader');
$squatter->query_safe(q{
	SELECT count(pg_advisory_lock(1651076204, k)) FROM generate_series(1, 1000) AS k;    -- 'bill': schedules
	SELECT count(pg_advisory_lock(1651865970, b)) FROM generate_series(0, 255) AS b;     -- 'buyr': buyer buckets
	SELECT count(pg_advisory_lock(1651668334, r)) FROM generate_series(1, 1000) AS r;    -- 'brun': runs
});
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
	WHERE l.locktype = 'advisory' AND a.usename = 'acme_reader'}),
	'2256', 'H2: the reader of ACME holds 2256 advisory keys');

# row locks need UPDATE rights: the reader can take none
for my $table (qw(schedule buyer invoice_run document))
{
	for my $mode ('FOR UPDATE', 'FOR SHARE', 'FOR KEY SHARE')
	{
		$squatter->{stderr} = '';
		$squatter->query("SELECT count(*) FROM (SELECT 1 FROM billing.$table $mode) AS x");
		like($squatter->{stderr}, qr/42501/, "H2: the reader cannot lock billing.$table rows $mode");
	}
}
# and row level security keeps another brand's rows out of reach
my ($locked) = as_role('acme_admin', q{
	SELECT count(*) FROM (SELECT 1 FROM billing.schedule s WHERE s.code = 'B20' FOR UPDATE) AS x;
	SELECT count(*) FROM (SELECT 1 FROM billing.buyer b WHERE b.code LIKE 'B%' FOR UPDATE) AS x});
is($locked, "0\n0", 'H2: ACME\'s administrator can lock none of BETA\'s schedule or buyer rows');

my ($out, $err) = as_role('beta_admin',
	went_through(qq{billing.rerun_invoice_run('B20', as_of => '$as_of')}));
is($out, 'returned', "H2: BETA's rerun goes through the squatted keys") or diag($err);
($out, $err) = as_role('beta_app',
	q{UPDATE billing.document SET amount = 2 WHERE reference = 'B1-LATER'; SELECT 'edited'});
is($out, 'edited', "H2: BETA's document edit goes through") or diag($err);
($out, $err) = as_role('beta_app',
	"SELECT count(*) FROM billing.confirm_invoices(VARIADIC ARRAY[$beta_drafts[0]]::bigint[])");
is($out, '1', "H2: BETA's confirm_invoices goes through") or diag($err);
($out, $err) = as_role('postgres',
	qq{SELECT count(*) >= 0 FROM billing.issue_drafts('$as_of')});
is($out, 't', 'H2: the nightly issue_drafts goes through') or diag($err);
($out, $err) = as_role('beta_admin',
	qq{SELECT billing.rerun_invoice_run('B20', background => true, as_of => '$as_of')});
like($out, qr/^\d+$/, 'H2: BETA asks for a background run') or diag($err);
is(run_status_within($out, 'completed', 15), 'completed',
	"H2: BETA's background run completes, not left queued holding a worker slot");

#
# H3: fail_dead_runs is internal, and no session's locks fool it
#
# BETA's administrator renames BETA's schedule in a transaction left open:
# it holds the schedule's row (FOR NO KEY UPDATE, as a run does)
my $hold = session('beta_admin');
$hold->query_safe(q{BEGIN; UPDATE billing.schedule SET name = 'renamed' WHERE code = 'B20'});
($out, $err) = as_role('beta_admin',
	qq{SELECT billing.rerun_invoice_run('B20', background => true, as_of => '$as_of')});
my $live = $out;
ok(waiting_workers(1), "H3: BETA's background run $live waits for its schedule, alive") or diag($err);
$squatter->{stderr} = '';
$squatter->query('SELECT billing.fail_dead_runs()');
like($squatter->{stderr}, qr/42501.*permission denied for function fail_dead_runs/,
	'H3: fail_dead_runs is not executable by the reader of ACME');
unlike($squatter->{stderr}, qr/B20/, 'H3: nothing names BETA\'s schedule to the reader');
for my $role (qw(acme_app acme_admin beta_app))
{
	($out, $err) = as_role($role, 'SELECT billing.fail_dead_runs()');
	like($err, qr/42501/, "H3: fail_dead_runs is not executable by $role");
}
# a caller that may run it (the superuser) holds the run's old key itself
$squatter->{stderr} = '';
$squatter->query_safe("SELECT pg_advisory_unlock(1651668334, $live)");
($out, $err) = as_role('postgres', qq{
	SELECT pg_advisory_lock(1651668334, $live);
	SELECT billing.fail_dead_runs()});
is($out, "\n0", 'H3: a session holding the run\'s old key does not make the live run look dead') or diag($err);
is($node->safe_psql('postgres', "SELECT status FROM billing.invoice_run WHERE id = $live"), 'queued',
	'H3: the live background run is still queued, not failed');
# an API path of ACME (cancel_run calls fail_dead_runs) neither fails nor names BETA's run
($out, $err) = as_role('acme_admin', "SELECT step FROM billing.cancel_run($live)");
like($err, qr/invoice run $live does not exist/, 'H3: to ACME, BETA\'s live run does not exist');
unlike($err, qr/B20|BETA|WARNING/, 'H3: and no message names BETA\'s schedule');
$hold->query_safe('ROLLBACK');
is(run_status_within($live, 'completed', 15), 'completed', 'H3: once BETA\'s lock is gone, the run completes');

#
# billing_admin cannot take every worker slot: a cap per brand
#
$hold->query_safe(q{BEGIN; UPDATE billing.schedule SET name = 'renamed' WHERE code = 'B20'});
my @waiting;
for my $i (1 .. 2)
{
	($out, $err) = as_role('beta_admin',
		qq{SELECT billing.rerun_invoice_run('B20', background => true, as_of => '$as_of')});
	push @waiting, $out;
}
ok(waiting_workers(2), 'worker cap: two background runs of BETA wait for their schedule');
($out, $err) = as_role('beta_admin',
	qq{SELECT billing.rerun_invoice_run('B20', background => true, as_of => '$as_of')});
like($err, qr/53400: brand "BETA" already has 2 background invoice runs, as many as billing.max_workers_per_brand \(2\) allows/,
	'worker cap: a third background run of BETA is refused, naming BETA and the setting');
like($err, qr/HINT:.*background => false/, 'worker cap: the refusal hints at a foreground run');
unlike($err, qr/ACME|A20/, 'worker cap: the refusal names nothing of ACME');
is($node->safe_psql('postgres', "SELECT count(*) FROM billing.invoice_run WHERE status = 'queued'"), '2',
	'worker cap: the refused request queued no run');
($out, $err) = as_role('acme_admin',
	qq{SELECT billing.rerun_invoice_run('A20', background => true, as_of => '$as_of')});
is(run_status_within($out, 'completed', 15), 'completed', 'worker cap: ACME still gets a worker and its run completes')
  or diag($err);
$hold->query_safe('ROLLBACK');
is(run_status_within($waiting[1], 'completed', 15), 'completed', 'worker cap: the waiting runs of BETA complete');
is(run_status_within($waiting[0], 'completed', 15), 'completed', 'worker cap: both of them');

#
# waits are bounded: BETA's own writer holds BETA's schedule
#
$hold->query_safe(q{BEGIN; UPDATE billing.schedule SET name = 'renamed' WHERE code = 'B20'});
my $t0 = time;
($out, $err) = as_role('beta_admin', qq{
	SET billing.lock_timeout = '1s';
	SELECT billing.rerun_invoice_run('B20', as_of => '$as_of')}, '20s');
my $waited = time - $t0;
like($err, qr/55P03: billing schedule "B20" stayed locked longer than billing.lock_timeout \(1000 ms\)/,
	'lock_timeout: BETA\'s rerun fails with 55P03 naming its schedule');
like($err, qr/HINT:.*billing.lock_timeout/, 'lock_timeout: with a hint');
ok($waited < 10, sprintf('lock_timeout: after about the setting (%.1f s), not a hang', $waited));
($out, $err) = as_role('acme_admin', went_through(qq{billing.rerun_invoice_run('A20', as_of => '$as_of')}));
is($out, 'returned', 'lock_timeout: ACME\'s rerun goes on meanwhile') or diag($err);
($out, $err) = as_role('postgres', qq{
	SET billing.lock_timeout = '1s';
	SELECT count(*) >= 0 FROM billing.issue_drafts('$as_of')}, '20s');
unlike($err, qr/57014/, 'lock_timeout: the nightly issue_drafts does not hang on it either');
$hold->query_safe('ROLLBACK');

#
# another brand's busy run shows through no lock wait
#
$hold->query_safe(qq{BEGIN; SELECT run_id FROM billing.set_run_description($beta_run, 'held')});
for my $call ("billing.set_run_description($beta_run, 'taken')", "billing.disable_run($beta_run)",
	"billing.process_run($beta_run)", "billing.cancel_run($beta_run)")
{
	$t0 = time;
	($out, $err) = as_role('acme_admin', "SELECT 1 FROM $call", '5s');
	like($err, qr/invoice run $beta_run: it does not exist|invoice run $beta_run does not exist/,
		"busy run: $call of BETA's locked run is \"does not exist\" to ACME");
	ok(time - $t0 < 4, "busy run: $call answers without waiting for BETA's lock");
}
$hold->query_safe('ROLLBACK');

#
# no message names another brand's run: issue_drafts (here granted to
# ACME's administrator, though the recipe leaves it to roles of every
# brand) makes both brands' runs and tells ACME only of ACME's
#
$node->safe_psql('postgres', 'GRANT EXECUTE ON FUNCTION billing.issue_drafts TO acme_admin');
($out, $err) = as_role('acme_admin',
	q{SELECT count(*) FROM billing.issue_drafts('2026-12-25 12:00+09', simulate => true)});
is($out, '1', 'messages: issue_drafts shows ACME\'s administrator its one run') or diag($err);
like($err, qr/NOTICE:.*schedule "A20"/, 'messages: with a NOTICE for ACME\'s run');
unlike($err, qr/B20|BETA/, 'messages: and none that names BETA\'s run');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM billing.invoice_run r JOIN billing.schedule s ON s.id = r.schedule_id
	WHERE r.cutoff_date = '2026-12-20' AND s.code = 'B20'}), '1', 'messages: BETA\'s run was made all the same');
$hold->quit;
$squatter->quit;

$node->stop;
diag(sprintf('007_tenant_locks.pl took %.1f s', time - $started));
done_testing();
