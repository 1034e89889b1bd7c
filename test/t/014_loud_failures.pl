# test/t/014_loud_failures.pl: issue 12 item 1, "a failure is an error where
# someone is looking".  A run is made to fail by a site's trigger on
# billing.invoice that refuses BETA's drafts (deterministic, no timing).
#  - rerun_invoice_run in the session raises (SQLSTATE P0001) naming the
#    schedule, period and run id; the failed run stays in run_report;
#    psql -v ON_ERROR_STOP=1 exits non-zero;
#  - raise_on_failure => false returns the failed run's id as before;
#  - issue_drafts with a healthy ACME and a failing BETA: ACME's drafts are
#    committed, the call raises naming BETA's schedule and period;
#  - under pg_cron, the job's cron.job_run_details.status is 'failed' with
#    that message.
# Written before the implementation: it fails on today's code, where the
# failure is only a WARNING and the call returns normally.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(sleep);

my $as_of = '2026-11-25 12:00+09';    # last closed M20 period: 2026-10-21 .. 2026-11-20

my $node = PostgreSQL::Test::Cluster->new('loud');
$node->init;
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'pg_cron'
cron.database_name = 'postgres'
cron.use_background_workers = on
max_worker_processes = 16
timezone = 'UTC'
});
$node->start;

$node->safe_psql('postgres', q{
	CREATE EXTENSION billing;
	INSERT INTO billing.brand (code, name) VALUES ('ACME', 'Acme KK'), ('BETA', 'Beta KK');
	INSERT INTO billing.schedule (brand_id, code, name, cycle)
	VALUES (1, 'M20', 'the 20th', 'monthly:20'), (2, 'B20', 'the 20th', 'monthly:20');
	INSERT INTO billing.buyer (brand_id, code, name, schedule_id, schedule_applied_at)
	VALUES (1, 'A1', 'Buyer A1', 1, '2026-09-01 10:00+09'), (2, 'B1', 'Buyer B1', 2, '2026-09-01 10:00+09');
	INSERT INTO billing.document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference)
	VALUES (1, 1, 'delivery_invoice', '2026-11-10', 1000, 0.10, 'A-1'),
	       (2, 2, 'delivery_invoice', '2026-11-10', 2000, 0.10, 'B-1');
	-- a site's trigger that refuses BETA's drafts: BETA's runs fail
	CREATE FUNCTION public.refuse_beta() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN
		IF NEW.brand_id = 2 THEN
			RAISE EXCEPTION 'site rule: no BETA drafts today';
		END IF;
		RETURN NEW;
	END $$;
	CREATE TRIGGER refuse_beta BEFORE INSERT ON billing.invoice
	FOR EACH ROW EXECUTE FUNCTION public.refuse_beta();
});

# Issue 12 item 1 is not built yet: every check below is a known failure
# (TODO), reported as "not ok # TODO" without failing the suite.  Remove
# this line with the implementation.
our $TODO = 'issue 12 item 1 (a failed run is an error) is not built yet';

# 1. a foreground rerun that fails raises, and the failed run survives
my ($rc, $out, $err) = $node->psql('postgres',
	qq{SELECT billing.rerun_invoice_run('B20', brand => 'BETA', as_of => '$as_of')},
	extra_params => [ '-v', 'ON_ERROR_STOP=1' ]);
isnt($rc, 0, 'rerun: psql -v ON_ERROR_STOP=1 exits non-zero when the run fails');
like($err, qr/ERROR:\s+P0001:.*B20.*2026-10-21.*2026-11-20.*run \d+/s,
	'rerun: the error has SQLSTATE P0001 and names schedule, period and run')
	or diag($err);
like($err, qr/DETAIL:.*no BETA drafts today/, 'rerun: DETAIL is the run\'s own error');
like($err, qr/HINT:.*billing\.run_report/, 'rerun: HINT points at billing.run_report');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM billing.run_report WHERE schedule = 'B20' AND step = 'failed'}),
	'1', 'rerun: the failed run is committed and shown failed in run_report');

# 2. raise_on_failure => false: the id, as in 0.2
($rc, $out, $err) = $node->psql('postgres',
	qq{SELECT status FROM billing.invoice_run WHERE id =
	   billing.rerun_invoice_run('B20', brand => 'BETA', as_of => '$as_of', raise_on_failure => false)},
	extra_params => [ '-v', 'ON_ERROR_STOP=1' ]);
is($rc, 0, 'raise_on_failure => false: no error') or diag($err);
is($out, 'failed', 'raise_on_failure => false: returns the failed run\'s id');

# 3. issue_drafts: ACME's drafts committed, the call raises naming BETA's schedule and period
($rc, $out, $err) = $node->psql('postgres',
	qq{SELECT count(*) FROM billing.issue_drafts('$as_of')},
	extra_params => [ '-v', 'ON_ERROR_STOP=1' ]);
isnt($rc, 0, 'issue_drafts: raises when a schedule\'s run failed');
my ($error_part) = $err =~ /(ERROR:.*)/s;
like($error_part // '', qr/B20.*2026-11-20/s, 'issue_drafts: the ERROR (not a WARNING) names the failed schedule and period')
	or diag($err);
unlike($error_part // '', qr/M20/, 'issue_drafts: the healthy schedule is not named as failed');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM billing.invoice i JOIN billing.invoice_run r ON r.id = i.run_id
	WHERE r.kind = 'scheduled' AND r.brand_id = 1 AND r.status = 'completed'}),
	'1', 'issue_drafts: the healthy brand\'s scheduled draft is committed despite the error');

# 4. pg_cron: the job ends failed with the message
$node->safe_psql('postgres', q{
	CREATE EXTENSION pg_cron;
	SELECT billing.cron_setup('* * * * *');
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
like($status, qr/^failed .*B20/s, 'pg_cron: the tick with a failed run ends failed, naming the schedule')
	or diag($status);

$node->stop;
done_testing();
