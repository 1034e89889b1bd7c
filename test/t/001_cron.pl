# test/t/001_cron.pl: pg_cron really fires billing.issue_drafts on a live
# cluster and drafts appear.  billing.cron_setup refuses clearly without
# pg_cron, registers exactly one job, and re-registers it (same job, new
# schedule) when called again.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);

my $started = time;

my $node = PostgreSQL::Test::Cluster->new('cron');
$node->init;
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'pg_cron'
cron.database_name = 'postgres'
cron.use_background_workers = on
max_worker_processes = 32
timezone = 'UTC'
});
$node->start;

# billing first: cron_setup must refuse while pg_cron is not created
$node->safe_psql('postgres', 'CREATE EXTENSION billing');

my ($stdout, $stderr);
my $ret = $node->psql('postgres', "\\set VERBOSITY verbose\nSELECT billing.cron_setup()",
	stdout => \$stdout, stderr => \$stderr);
isnt($ret, 0, 'cron_setup() fails before CREATE EXTENSION pg_cron');
like($stderr, qr/pg_cron is not installed in database "postgres"/,
	'the error says pg_cron is not installed in database "postgres"');
like($stderr, qr/ERROR:\s+42704:/, 'with SQLSTATE 42704 (undefined_object)');
like($stderr, qr/HINT:.*CREATE EXTENSION pg_cron/, 'and a hint that says what to do');
is($node->safe_psql('postgres', q{SELECT severity || ' | ' || object || ' | ' || detail || ' | ' || fix FROM billing.health WHERE "check" = 'cron_job'}),
	'warning | database postgres | pg_cron is not installed here: nothing calls billing.issue_drafts() at night, unless another scheduler does | CREATE EXTENSION pg_cron; SELECT billing.cron_setup()',
	'health: pg_cron belongs in this database and is not installed');

$node->safe_psql('postgres', 'CREATE EXTENSION pg_cron');

$ret = $node->psql('postgres', q{SELECT billing.cron_setup(' ')}, stderr => \$stderr);
isnt($ret, 0, 'cron_setup refuses an empty schedule');
like($stderr, qr/cron schedule must not be empty/, 'with a clear message');
is($node->safe_psql('postgres', 'SELECT count(*) FROM cron.job'), '0',
	'no job was registered by the refused calls');
is($node->safe_psql('postgres', q{SELECT severity || ' | ' || object || ' | ' || detail || ' | ' || fix FROM billing.health WHERE "check" = 'cron_job'}),
	'critical | database postgres | no pg_cron job calls billing.issue_drafts() | SELECT billing.cron_setup()',
	'health: no job calls issue_drafts');

# A daily schedule of a Tokyo brand, a buyer applied three days ago, and one
# delivery in each of the last two (Tokyo) days.  The days are counted from
# ten minutes ago, so both periods' issue moments (local midnight after the
# cut-off + 5 minutes) have passed even when the test runs at 00:0x JST.
$node->safe_psql('postgres', q{
	INSERT INTO billing.brand (code, name) VALUES ('CRON', 'Cron KK');
	INSERT INTO billing.schedule (brand_id, code, name, cycle)
	SELECT id, 'D', 'daily', 'daily' FROM billing.brand;
	INSERT INTO billing.buyer (brand_id, code, name, schedule_id, schedule_applied_at)
	SELECT b.id, 'B1', 'Buyer', s.id, now() - interval '3 days'
	FROM billing.brand b, billing.schedule s;
	INSERT INTO billing.document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference)
	SELECT id, brand_id, 'delivery_invoice',
	       ((now() - interval '10 minutes') AT TIME ZONE 'Asia/Tokyo')::date - g, 1000, 0.10, 'D-' || g
	FROM billing.buyer, generate_series(1, 2) AS g;
});
is($node->safe_psql('postgres', 'SELECT count(*) FROM billing.invoice'), '0',
	'no drafts before the job fires');

# every minute: pg_cron 1.4 has no seconds schedules
my $jobid = $node->safe_psql('postgres', q{SELECT billing.cron_setup('* * * * *')});
like($jobid, qr/^\d+$/, 'cron_setup returns the job id');
is($node->safe_psql('postgres', q{
	SELECT count(*) || '|' || string_agg(jobid || '|' || jobname || '|' || schedule || '|' || database
	                                     || '|' || username || '|' || active, ',')
	FROM cron.job}),
	"1|$jobid|billing-issue-drafts|* * * * *|postgres|postgres|true",
	'cron.job holds one active job billing-issue-drafts, every minute, in database postgres');
like($node->safe_psql('postgres', q{SELECT command FROM cron.job WHERE jobname = 'billing-issue-drafts'}),
	qr/\bbilling\.issue_drafts\(\)/, 'the job calls billing.issue_drafts()');

is($node->safe_psql('postgres', q{SELECT billing.cron_setup('* * * * *')}), $jobid,
	'calling cron_setup again returns the same job');
is($node->safe_psql('postgres', q{SELECT count(*) FROM cron.job}), '1',
	'still exactly one job after re-registering');
is($node->safe_psql('postgres', q{SELECT severity || ' | ' || object || ' | ' || detail || ' | ' || fix FROM billing.health WHERE "check" = 'cron_job'}), '', 'health: the active job is no problem');
$node->safe_psql('postgres', "SELECT cron.alter_job($jobid, active => false)");
my $disabled = $node->safe_psql('postgres', q{SELECT severity || ' | ' || object || ' | ' || detail || ' | ' || fix FROM billing.health WHERE "check" = 'cron_job'});
is($disabled, "critical | pg_cron job $jobid | the pg_cron job that calls billing.issue_drafts() is disabled | SELECT cron.alter_job($jobid, active => true)",
	'health: a disabled job, with the call that enables it');
my ($fix) = $disabled =~ /\| ([^|]+)$/;
$node->safe_psql('postgres', $fix);
is($node->safe_psql('postgres', q{SELECT severity || ' | ' || object || ' | ' || detail || ' | ' || fix FROM billing.health WHERE "check" = 'cron_job'}), '', 'health: running the fix enables the job again');

# pg_cron fires at the next minute boundary: poll every second, up to 150 s
my $fired_sql = q{
	SELECT EXISTS (SELECT 1 FROM cron.job_run_details d JOIN cron.job j USING (jobid)
	               WHERE j.jobname = 'billing-issue-drafts' AND d.status = 'succeeded')
	   AND EXISTS (SELECT 1 FROM billing.invoice WHERE status = 'draft')
};
my $wait_start = time;
my $fired = 0;
while (time - $wait_start < 150)
{
	if ($node->safe_psql('postgres', $fired_sql) eq 't')
	{
		$fired = 1;
		last;
	}
	sleep 1;
}
my $waited = time - $wait_start;
ok($fired, 'pg_cron ran the job successfully and drafts appeared')
  or diag($node->safe_psql('postgres',
	q{SELECT jobid, status, return_message, start_time FROM cron.job_run_details ORDER BY runid}));
diag(sprintf('waited %.1f s for pg_cron', $waited));

is($node->safe_psql('postgres', q{SELECT count(*) FROM billing.invoice WHERE status = 'draft'}), '2',
	'one draft for each of the two days with a delivery');
is($node->safe_psql('postgres', q{SELECT count(*) FROM billing.document_link}), '2',
	'both documents are linked');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM billing.document d
	JOIN billing.document_link l ON l.buyer_id = d.buyer_id AND l.document_id = d.id
	JOIN billing.invoice i ON i.buyer_id = l.buyer_id AND i.id = l.invoice_id
	JOIN billing.invoice_run r ON r.id = i.run_id
	WHERE i.cutoff_date = d.document_date AND i.document_count = 1
	  AND r.kind = 'scheduled' AND r.status = 'completed'}), '2',
	'each document is on the draft of its own day, made by a completed scheduled run');
is($node->safe_psql('postgres', q{SELECT sum(purchases) || ' ' || sum(tax) || ' ' || sum(total) FROM billing.invoice}),
	'2000 200 2200', 'drafts add up to 2 x (1000 + 100 tax)');
cmp_ok($node->safe_psql('postgres', q{
	SELECT count(*) FROM billing.invoice_run WHERE kind = 'scheduled' AND status = 'completed'}),
	'>=', 2, 'billing.invoice_run has completed scheduled runs (one per due day)');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM billing.invoice_run WHERE status <> 'completed'}), '0',
	'no run is queued, running or failed');

# Stop the every-minute job before the idempotence check (also the default)
is($node->safe_psql('postgres', q{SELECT billing.cron_setup()}), $jobid,
	'cron_setup() with the default re-registers the same job');
is($node->safe_psql('postgres', q{SELECT count(*) || ' ' || min(schedule) FROM cron.job}),
	'1 */5 * * * *', 'the default schedule is a tick every five minutes (one job serves every time zone)');

# By hand afterwards: nothing new.  Every period whose issue moment had come
# when the job ran was handled by it; a run may only appear for a day whose
# issue moment (15:05 UTC) passed since, and that day has no documents.
my $counts_sql = q{SELECT (SELECT count(*) FROM billing.invoice) || ' ' || (SELECT count(*) FROM billing.document_link)};
my $counts_before = $node->safe_psql('postgres', $counts_sql);
is($node->safe_psql('postgres', q{
	SELECT count(*) FILTER (WHERE r.invoice_count > 0 OR r.status <> 'completed'
	                           OR r.issue_at <= (SELECT max(start_time) FROM cron.job_run_details
	                                             WHERE status = 'succeeded'))
	FROM billing.issue_drafts() AS i JOIN billing.invoice_run r ON r.id = i.run_id}), '0',
	'issue_drafts() by hand afterwards issues nothing new');
is($node->safe_psql('postgres', $counts_sql), $counts_before, 'no new invoice and no new link');

# billing in database shop, pg_cron in postgres: cron_setup in shop cannot
# reach pg_cron, and its hint is the exact call to run in postgres
$node->safe_psql('postgres', 'CREATE DATABASE shop');
$node->safe_psql('shop', 'CREATE EXTENSION billing');
$ret = $node->psql('shop', "\\set VERBOSITY verbose\nSELECT billing.cron_setup()",
	stdout => \$stdout, stderr => \$stderr);
isnt($ret, 0, 'cron_setup() in shop fails: pg_cron lives in postgres');
like($stderr, qr/ERROR:\s+42704: pg_cron lives in database "postgres", not in "shop"/,
	'the error names the cron database and this one');
my ($hint) = $stderr =~ /HINT:\s+Run in database postgres: (SELECT cron\.schedule_in_database\(.*\);)/;
ok(defined $hint, 'the hint gives the cron.schedule_in_database call') or diag($stderr);
like($hint // '', qr/'billing-issue-drafts', '\*\/5 \* \* \* \*', 'SELECT pg_catalog\.count\(\*\) FROM billing\.issue_drafts\(\)', 'shop', 'postgres'/,
	'with the job name, the five-minute tick, the command, database shop and the role');
$node->safe_psql('postgres', q{SELECT cron.unschedule('billing-issue-drafts')});
$node->safe_psql('postgres', $hint) if defined $hint;
is($node->safe_psql('postgres', q{SELECT count(*) || ' ' || min(database) || ' ' || min(schedule) FROM cron.job}),
	'1 shop */5 * * * *', 'running the hint in postgres registers the job for database shop');
is($node->safe_psql('postgres', q{SELECT severity || ' | ' || object || ' | ' || detail || ' | ' || fix FROM billing.health WHERE "check" = 'cron_job'}),
	'critical | database postgres | the pg_cron job that calls billing.issue_drafts() targets database shop, not this one | SELECT billing.cron_setup()',
	'health in postgres: the only job targets shop');
is($node->safe_psql('shop', q{SELECT severity || ' | ' || object || ' | ' || detail || ' | ' || fix FROM billing.health WHERE "check" = 'cron_job'}), '',
	'health in shop: pg_cron lives in postgres, where this check cannot look');

# The job as the least-privileged role: billing_cron may log in and run
# issue_drafts, nothing else, and holds no brand.  Every minute, in shop.
$node->safe_psql('shop', q{
	CREATE ROLE billing_cron LOGIN;
	GRANT USAGE ON SCHEMA billing TO billing_cron;
	GRANT EXECUTE ON FUNCTION billing.issue_drafts TO billing_cron;
	INSERT INTO billing.brand (code, name, time_zone) VALUES ('SHOP', 'Shop SARL', 'Europe/Paris');
	INSERT INTO billing.schedule (brand_id, code, name, cycle)
	SELECT id, 'D', 'daily', 'daily' FROM billing.brand;
	INSERT INTO billing.buyer (brand_id, code, name, schedule_id, schedule_applied_at)
	SELECT b.id, 'B1', 'Buyer', s.id, now() - interval '3 days'
	FROM billing.brand b, billing.schedule s;
	INSERT INTO billing.document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference)
	SELECT id, brand_id, 'delivery_invoice',
	       ((now() - interval '10 minutes') AT TIME ZONE 'Europe/Paris')::date - g, 1000, 0.10, 'D-' || g
	FROM billing.buyer, generate_series(1, 2) AS g;
});
$node->safe_psql('postgres', q{SELECT cron.unschedule('billing-issue-drafts')});
$node->safe_psql('postgres', q{SELECT cron.schedule_in_database('billing-issue-drafts', '* * * * *',
	'SELECT pg_catalog.count(*) FROM billing.issue_drafts()', 'shop', 'billing_cron')});
$wait_start = time;
$fired = 0;
while (time - $wait_start < 150)
{
	if ($node->safe_psql('postgres', q{SELECT count(*) FROM cron.job_run_details d JOIN cron.job j USING (jobid)
	                                  WHERE j.database = 'shop' AND d.status IN ('succeeded', 'failed')}) ne '0')
	{
		$fired = 1;
		last;
	}
	sleep 1;
}
ok($fired, 'pg_cron ran the job in shop');
is($node->safe_psql('postgres', q{
	SELECT d.status || ' ' || d.username || ' ' || d.database || ' ' || d.return_message
	FROM cron.job_run_details d JOIN cron.job j USING (jobid)
	WHERE j.database = 'shop' ORDER BY d.runid LIMIT 1}),
	'succeeded billing_cron shop SELECT 1', 'the job succeeded in shop, as billing_cron');
is($node->safe_psql('shop', q{SELECT count(*) || ' ' || sum(total) FROM billing.invoice WHERE status = 'draft'}),
	'2 2200', 'billing_cron, holding no brand, issued the Paris brand\'s two drafts');
is($node->safe_psql('shop', q{SELECT rolsuper::text || rolcreaterole::text || rolbypassrls::text FROM pg_roles WHERE rolname = 'billing_cron'}),
	'falsefalsefalse', 'billing_cron is no superuser and bypasses no row level security');
$ret = $node->psql('shop', q{SET ROLE billing_cron; SELECT count(*) FROM billing.invoice}, stderr => \$stderr);
like($stderr, qr/permission denied/, 'billing_cron cannot read invoices');

# One tick serves every time zone: Tokyo's and Paris's 00:05 come 8 hours
# apart in UTC; a tick after each issues that brand's period once, and a
# tick between or after issues nothing twice (as_of plays the ticks).
$node->safe_psql('postgres', 'CREATE DATABASE tz');
$node->safe_psql('tz', q{
	CREATE EXTENSION billing;
	INSERT INTO billing.brand (code, name, time_zone) VALUES ('TKY', 'Tokyo KK', 'Asia/Tokyo'), ('PAR', 'Paris SARL', 'Europe/Paris');
	INSERT INTO billing.schedule (brand_id, code, name, cycle)
	SELECT id, 'D', 'daily', 'daily' FROM billing.brand;
	INSERT INTO billing.buyer (brand_id, code, name, schedule_id, schedule_applied_at)
	SELECT b.id, 'B1', 'Buyer', s.id, timestamptz '2026-01-09 00:00Z'
	FROM billing.brand b JOIN billing.schedule s ON s.brand_id = b.id;
	INSERT INTO billing.document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference)
	SELECT id, brand_id, 'delivery_invoice', date '2026-01-10', 1000, 0.10, 'D-1' FROM billing.buyer;
});
my $drafts_sql = q{SELECT coalesce(string_agg(b.code, ',' ORDER BY b.code), '-') FROM billing.invoice i
	JOIN billing.buyer u ON u.id = i.buyer_id JOIN billing.brand b ON b.id = u.brand_id};
my @ticks = (['2026-01-10 15:00Z', '-', 'before 00:05 JST: nothing'],
	['2026-01-10 15:05Z', 'TKY', 'the tick at 00:05 JST issues Tokyo'],
	['2026-01-10 15:10Z', 'TKY', 'the next tick issues Tokyo again not'],
	['2026-01-10 23:05Z', 'PAR,TKY', 'the tick at 00:05 CET issues Paris'],
	['2026-01-10 23:10Z', 'PAR,TKY', 'the next tick makes nothing twice']);
for my $t (@ticks)
{
	$node->safe_psql('tz', "SELECT count(*) FROM billing.issue_drafts(as_of => timestamptz '$t->[0]')");
	is($node->safe_psql('tz', $drafts_sql), $t->[1], "as_of $t->[0]: $t->[2]");
}

$node->stop;
diag(sprintf('001_cron.pl took %.1f s', time - $started));
done_testing();
