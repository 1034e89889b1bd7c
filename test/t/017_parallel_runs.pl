# test/t/017_parallel_runs.pl: issue 14 item 4, "several schedules due at
# once run in parallel (background workers, bounded by a setting)".
# Four schedules (two brands, two each) are due together; a site trigger
# on billing.invoice sleeps on each schedule's first draft, so that a run
# takes a known time and the overlap of runs is certain, not a race.
#  - billing.parallel_runs = 1 (the default): the runs one after another,
#    none overlapping; = 4: the runs overlap (started/finished of two runs
#    intersect, and two 'billing parallel run' workers are seen at once),
#    and the invoices, tax lines and links equal the serial path's (md5 by
#    buyer code and document reference, ids apart);
#  - billing.max_workers_per_brand = 1: never two runs of one brand at once;
#  - a caller whose transaction wrote a document is issued serially in its
#    own transaction and bills that document;
#  - a worker terminated mid-run: its schedule gets a failed run saying so,
#    the call raises naming it, nothing of it is committed, nothing is left
#    queued or running, and the next call bills it once;
#  - a cancel of the caller stops its workers: no worker is left, nothing is
#    left queued or running, and the next call bills every schedule once;
#  - a role of ACME alone is shown ACME's runs only;
#  - pg_cron's tick, run as billing_cron with parallel_runs set for that
#    role, issues in parallel and succeeds;
#  - no worker slot free at all: the serial path, logged.
# On main there is no billing.parallel_runs: the SET fails.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(sleep time);
use IPC::Run;

my $node = PostgreSQL::Test::Cluster->new('parallel');
$node->init;
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'pg_cron'
cron.database_name = 'postgres'
cron.use_background_workers = on
max_worker_processes = 24
timezone = 'UTC'
});
$node->start;

my $setup = q{
	CREATE EXTENSION billing;
	INSERT INTO billing.brand (code, name) VALUES ('ACME', 'Acme KK'), ('BETA', 'Beta KK');
	INSERT INTO billing.schedule (brand_id, code, name, cycle)
	SELECT b.id, b.code || '-' || c.code, c.code, 'monthly:eom'
	FROM billing.brand b CROSS JOIN (VALUES ('S1'), ('S2')) AS c(code) ORDER BY b.id, c.code;
	INSERT INTO billing.buyer (brand_id, code, name, schedule_id, schedule_applied_at)
	SELECT s.brand_id, s.code || '-' || g, 'buyer ' || g, s.id, '2026-09-01 10:00+09'
	FROM billing.schedule s CROSS JOIN generate_series(1, 30) AS g;
	INSERT INTO billing.document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference)
	SELECT b.id, b.brand_id, 'delivery_invoice', DATE '2026-10-01' + (g * 3) % 31,
	       100 + (b.id * 7 + g) % 900, CASE WHEN g % 3 = 0 THEN 0.08 ELSE 0.10 END, 'D-' || b.code || '-' || g
	FROM billing.buyer b CROSS JOIN generate_series(1, 5) AS g;
	SELECT count(*) FROM billing.issue_drafts('2026-10-01 00:06+09', simulate => true);
	-- a site trigger: each schedule's first draft sleeps public.slow's seconds
	CREATE TABLE public.slow (schedule_id bigint, secs float8 NOT NULL);
	INSERT INTO public.slow VALUES (NULL, 1);
	GRANT SELECT ON public.slow TO PUBLIC;
	CREATE FUNCTION public.slow_draft() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN
		IF NEW.buyer_id = (SELECT min(b.id) FROM billing.buyer b WHERE b.schedule_id = NEW.schedule_id) THEN
			PERFORM pg_sleep((SELECT coalesce(max(s.secs), 0) FROM public.slow s
			                  WHERE s.schedule_id IS NULL OR s.schedule_id = NEW.schedule_id));
		END IF;
		RETURN NEW;
	END $$;
	CREATE TRIGGER slow_draft BEFORE INSERT ON billing.invoice
	FOR EACH ROW EXECUTE FUNCTION public.slow_draft();
};
$node->safe_psql('postgres', "CREATE DATABASE tpl");
$node->safe_psql('tpl', $setup);
sub fresh
{
	my ($db) = @_;
	$node->safe_psql('postgres', "CREATE DATABASE $db TEMPLATE tpl");
}

my $as_of = '2026-11-01 00:06+09';
my $issue = "SELECT count(*) FROM billing.issue_drafts('$as_of', simulate => true)";
# what a run made, ids apart: invoices, tax lines and links by buyer and document
my $md5 = q{
	SELECT md5(string_agg(x, '|' ORDER BY x)) FROM (
		SELECT format('i %s %s %s %s %s %s %s', b.code, i.status, i.purchases, i.tax, i.total,
		              i.document_count, i.due_date) AS x
		FROM billing.invoice i JOIN billing.buyer b ON b.id = i.buyer_id
		UNION ALL
		SELECT format('t %s %s %s %s', b.code, t.tax_rate, t.taxable_amount, t.tax)
		FROM billing.invoice_tax_line t JOIN billing.buyer b ON b.id = t.buyer_id
		UNION ALL
		SELECT format('l %s %s', b.code, d.reference)
		FROM billing.document_link l JOIN billing.buyer b ON b.id = l.buyer_id
		JOIN billing.document d ON d.id = l.document_id) AS t};
# pairs of October runs that overlapped in time (of one brand: same_brand)
sub overlaps
{
	my ($db, $same_brand) = @_;
	my $brand = $same_brand ? 'AND a.brand_id = b.brand_id' : '';
	return $node->safe_psql($db, qq{
		SELECT count(*) FROM billing.invoice_run a JOIN billing.invoice_run b
		  ON a.id < b.id AND a.started_at < b.finished_at AND b.started_at < a.finished_at $brand
		WHERE a.cutoff_date = '2026-10-31' AND b.cutoff_date = '2026-10-31'});
}
sub outcome
{
	my ($db) = @_;
	return $node->safe_psql($db, q{
		SELECT string_agg(s.code || ':' || r.status || ':' || coalesce(r.invoice_count, 0), ' ' ORDER BY s.code, r.id)
		FROM billing.invoice_run r JOIN billing.schedule s ON s.id = r.schedule_id
		WHERE r.cutoff_date = '2026-10-31'});
}
my $all_done = 'ACME-S1:completed:30 ACME-S2:completed:30 BETA-S1:completed:30 BETA-S2:completed:30';

# 1. serial (the default) and parallel: the same drafts, overlapping only in parallel
fresh('serial');
my $t0 = time;
$node->safe_psql('serial', $issue);
my $serial_secs = time - $t0;
is(outcome('serial'), $all_done, 'serial: four runs completed');
is(overlaps('serial'), '0', 'serial: no two runs overlap');

fresh('par');
my ($seen_out, $seen_err) = ('', '');
my $call = IPC::Run::start(
	[ 'psql', '-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('par'),
	  '-c', 'SET billing.parallel_runs = 4', '-c', $issue ],
	'>', \$seen_out, '2>', \$seen_err);
my $most = 0;
for (1 .. 100)
{
	my $n = $node->safe_psql('postgres', q{
		SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'billing parallel run'});
	$most = $n if $n > $most;
	last if $most >= 2 || !$call->pumpable;
	sleep 0.05;
}
$call->finish;
is($?, 0, 'parallel: the call succeeds') or diag($seen_err);
cmp_ok($most, '>=', 2, 'parallel: two billing parallel run workers seen at once');
is(outcome('par'), $all_done, 'parallel: four runs completed');
cmp_ok(overlaps('par'), '>=', 2, 'parallel: runs overlap in time');
is($node->safe_psql('par', $md5), $node->safe_psql('serial', $md5),
	'parallel: invoices, tax lines and links equal the serial path\'s');
is($node->safe_psql('par', q{SELECT count(*) FROM billing.invoice_run WHERE status IN ('queued', 'running')}),
	'0', 'parallel: nothing left queued or running');

# 2. billing.max_workers_per_brand = 1: one run of a brand at a time
fresh('capped');
$node->safe_psql('capped', "SET billing.parallel_runs = 4; SET billing.max_workers_per_brand = 1; $issue");
is(outcome('capped'), $all_done, 'per-brand cap: four runs completed');
is(overlaps('capped', 1), '0', 'per-brand cap: no two runs of one brand overlap');
cmp_ok(overlaps('capped'), '>=', 1, 'per-brand cap: runs of the two brands overlap');

# 3. a caller that wrote a document: the serial path, its document billed
fresh('own');
$node->safe_psql('own', qq{
	SET billing.parallel_runs = 4;
	BEGIN;
	INSERT INTO billing.document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference)
	SELECT b.id, b.brand_id, 'delivery_invoice', '2026-10-15', 5000, 0.10, 'OWN-1'
	FROM billing.buyer b WHERE b.code = 'BETA-S2-7';
	$issue;
	COMMIT;
});
is(outcome('own'), $all_done, 'own writes: four runs completed');
is(overlaps('own'), '0', 'own writes: issued one after another, in the caller\'s transaction');
is($node->safe_psql('own', q{
	SELECT count(*) FROM billing.document_link l JOIN billing.document d ON d.id = l.document_id
	WHERE d.reference = 'OWN-1'}), '1', 'own writes: the caller\'s uncommitted document is billed');

# 4. a worker terminated mid-run: its schedule fails, loudly, and nothing of it stays
fresh('killed');
$node->safe_psql('killed', q{
	UPDATE public.slow SET secs = 0;
	INSERT INTO public.slow SELECT s.id, 60 FROM billing.schedule s WHERE s.code = 'BETA-S1'});
my ($k_out, $k_err) = ('', '');
$call = IPC::Run::start(
	[ 'psql', '-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('killed'),
	  '-c', 'SET billing.parallel_runs = 4', '-c', $issue ],
	'>', \$k_out, '2>', \$k_err);
my $terminated = '';
for (1 .. 200)
{
	$terminated = $node->safe_psql('postgres', q{
		SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE backend_type = 'billing parallel run' AND wait_event = 'PgSleep'});
	last if $terminated eq 't';
	sleep 0.1;
}
is($terminated, 't', 'terminated: the sleeping worker was found and terminated');
$t0 = time;
$call->finish;
cmp_ok(time - $t0, '<', 30, 'terminated: the call does not hang');
isnt($?, 0, 'terminated: the call fails');
like($k_err, qr/ERROR:.*BETA-S1/, 'terminated: the error names the failed schedule') or diag($k_err);
is(outcome('killed'), 'ACME-S1:completed:30 ACME-S2:completed:30 BETA-S1:failed:0 BETA-S2:completed:30',
	'terminated: the other schedules are committed, its own run failed');
like($node->safe_psql('killed', q{
	SELECT r.error FROM billing.invoice_run r JOIN billing.schedule s ON s.id = r.schedule_id
	WHERE s.code = 'BETA-S1' AND r.cutoff_date = '2026-10-31'}),
	qr/parallel run did not finish: the background worker stopped before it committed/,
	'terminated: the failed run says why');
is($node->safe_psql('killed', q{
	SELECT count(*) FROM billing.invoice i JOIN billing.schedule s ON s.id = i.schedule_id
	WHERE s.code = 'BETA-S1' AND i.cutoff_date = '2026-10-31'}), '0',
	'terminated: nothing of its run is committed');
is($node->safe_psql('killed', q{SELECT count(*) FROM billing.invoice_run WHERE status IN ('queued', 'running')}),
	'0', 'terminated: nothing left queued or running');
$node->safe_psql('killed', "DELETE FROM public.slow WHERE schedule_id IS NOT NULL; SET billing.parallel_runs = 4; $issue");
is($node->safe_psql('killed', q{
	SELECT count(*) FILTER (WHERE n <> 1) || ' ' || count(*) FROM (
		SELECT d.id, count(l.document_id) AS n FROM billing.document d
		LEFT JOIN billing.document_link l ON l.document_id = d.id
		WHERE d.document_date >= '2026-10-01' GROUP BY d.id) AS t}), '0 600',
	'terminated: the next call bills it, every document once');

# 5. a cancel of the caller stops its workers; the next call bills everything once
fresh('cancelled');
$node->safe_psql('cancelled', q{UPDATE public.slow SET secs = 60});
my ($c_out, $c_err) = ('', '');
$call = IPC::Run::start(
	[ 'psql', '-X', '-A', '-t', '-d', $node->connstr('cancelled'),
	  '-c', 'SET billing.parallel_runs = 4', '-c', "SET application_name = 'the caller'", '-c', $issue ],
	'>', \$c_out, '2>', \$c_err);
my $sleeping = 0;
for (1 .. 200)
{
	$sleeping = $node->safe_psql('postgres', q{
		SELECT count(*) FROM pg_stat_activity
		WHERE backend_type = 'billing parallel run' AND wait_event = 'PgSleep'});
	last if $sleeping >= 2;
	sleep 0.1;
}
cmp_ok($sleeping, '>=', 2, 'cancel: two workers are running');
$node->safe_psql('postgres', q{
	SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'the caller'});
$t0 = time;
$call->finish;
cmp_ok(time - $t0, '<', 30, 'cancel: the call ends at once');
like($c_err, qr/canceling statement due to user request/, 'cancel: the caller is cancelled') or diag($c_err);
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'billing parallel run'}), '0',
	'cancel: no worker is left');
is($node->safe_psql('cancelled', q{
	SELECT count(*) FROM billing.invoice_run WHERE status IN ('queued', 'running') OR cutoff_date = '2026-10-31'}),
	'0', 'cancel: the workers\' work is rolled back, nothing left queued or running');
$node->safe_psql('cancelled', "UPDATE public.slow SET secs = 0; SET billing.parallel_runs = 4; $issue");
is(outcome('cancelled'), $all_done, 'cancel: the next call bills every schedule');
is($node->safe_psql('cancelled', $md5), $node->safe_psql('serial', $md5), 'cancel: ... each once, as serially');

# 6. brand walls: a role of ACME alone is shown ACME's runs, every brand's are made
fresh('walls');
$node->safe_psql('walls', q{
	UPDATE public.slow SET secs = 0;
	CREATE ROLE acme_admin LOGIN;
	GRANT USAGE ON SCHEMA billing TO acme_admin;
	GRANT EXECUTE ON FUNCTION billing.issue_drafts TO acme_admin;
	SELECT billing.grant_brand('ACME', 'acme_admin');
	ALTER ROLE acme_admin SET billing.parallel_runs = 4;
});
is($node->safe_psql('walls', "SELECT current_setting('billing.parallel_runs'); "
	. "SELECT string_agg(brand || ' ' || schedule, ',' ORDER BY schedule) FROM billing.issue_drafts('$as_of', simulate => true)",
	connstr => $node->connstr('walls') . ' user=acme_admin'),
	"4\nACME ACME-S1,ACME ACME-S2", 'walls: ACME\'s role is shown ACME\'s runs only');
is(outcome('walls'), $all_done, 'walls: every brand\'s runs are made');
# (the library loaded first: a placeholder set before is refused at load, with a WARNING)
my ($rc, $out, $err) = $node->psql('walls', "$issue; SET billing.parallel_runs = 8",
	connstr => $node->connstr('walls') . ' user=acme_admin');
like($err, qr/permission denied to set parameter "billing.parallel_runs"/,
	'walls: a tenant cannot raise billing.parallel_runs itself');

# 7. pg_cron: the tick as billing_cron, in parallel; it succeeds
$node->safe_psql('postgres', $setup);
$node->safe_psql('postgres', q{
	CREATE EXTENSION pg_cron;
	CREATE ROLE billing_cron LOGIN;
	GRANT USAGE ON SCHEMA billing TO billing_cron;
	GRANT EXECUTE ON FUNCTION billing.issue_drafts TO billing_cron;
	ALTER ROLE billing_cron SET billing.parallel_runs = 4;
	SELECT billing.cron_setup('* * * * *', username => 'billing_cron');
});
my $status = '';
for (1 .. 150)
{
	$status = $node->safe_psql('postgres', q{
		SELECT status || ' ' || coalesce(return_message, '') FROM cron.job_run_details
		WHERE status IN ('failed', 'succeeded') ORDER BY runid DESC LIMIT 1});
	last if $status ne '';
	sleep 1;
}
like($status, qr/^succeeded/, 'pg_cron: the tick succeeds') or diag($status);
is(outcome('postgres'), $all_done, 'pg_cron: October\'s four runs completed');
cmp_ok(overlaps('postgres'), '>=', 2, 'pg_cron: the tick\'s runs overlap in time');

$node->stop;

# 8. no worker slot free at all: issued serially in the caller's transaction (and the server log says so)
my $bare = PostgreSQL::Test::Cluster->new('noslot');
$bare->init;
$bare->append_conf('postgresql.conf', "max_worker_processes = 0\ntimezone = 'UTC'\n");
$bare->start;
$bare->safe_psql('postgres', $setup);
$bare->safe_psql('postgres', "SET billing.parallel_runs = 4; $issue");
is($bare->safe_psql('postgres', q{
	SELECT string_agg(s.code || ':' || r.status || ':' || coalesce(r.invoice_count, 0), ' ' ORDER BY s.code, r.id)
	FROM billing.invoice_run r JOIN billing.schedule s ON s.id = r.schedule_id
	WHERE r.cutoff_date = '2026-10-31'}), $all_done, 'no slot: four runs completed');
like(slurp_file($bare->logfile), qr/issues its schedules one after another: no background worker slot is free/,
	'no slot: the server log says it fell back to the serial path');
$bare->stop;
done_testing();
