# test/t/011_loud_failures.pl: issue 12 item 1, "a failure is an error where
# someone is looking".  A run is made to fail by a site's trigger on
# billing.invoice that refuses BETA's drafts (deterministic, no timing).
#  - rerun_invoice_run in the session raises (SQLSTATE P0001) naming the
#    schedule, period and run id; the failed run stays in run_report;
#    psql -v ON_ERROR_STOP=1 exits non-zero;
#  - raise_on_failure => false returns the failed run's id as before;
#  - issue_drafts with a healthy ACME and a failing BETA: ACME's drafts are
#    committed, the call raises naming BETA's schedule and period;
#  - under pg_cron, the job's cron.job_run_details.status is 'failed' with
#    that message, the job running as the README's billing_cron role.
# And as an adversary would: each failed run mails its members once (the
# rolled-back first pass mails nothing); a role of ACME alone is not told of
# BETA's failure; a caller that holds a lock the second pass needs gets an
# error within billing.lock_timeout, not a hang; a second pass whose worker
# is terminated commits nothing and says so, and the next call bills; a
# failure whose recording fails too (a site's trigger refusing the run's
# error line) still raises and leaves the run committed as failed.
# Written before the implementation, on which it failed: the failure was
# only a WARNING and the call returned normally.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(sleep time);
use IPC::Run;

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
	-- BETA's member hears of every scheduled run
	INSERT INTO billing.member (brand_id, code, name, email, notify_scheduled_runs)
	VALUES (2, 'b-ops', 'Beta ops', 'ops@beta.example', true);
	-- the README's roles: the tick's, and an administrator of ACME alone
	CREATE ROLE billing_cron LOGIN;
	GRANT USAGE ON SCHEMA billing TO billing_cron;
	GRANT EXECUTE ON FUNCTION billing.issue_drafts TO billing_cron;
	ALTER ROLE billing_cron SET billing.report_every_brand = on;
	CREATE ROLE acme_admin LOGIN;
	GRANT USAGE ON SCHEMA billing TO acme_admin;
	GRANT SELECT ON billing.invoice_run, billing.run_report TO acme_admin;
	GRANT EXECUTE ON FUNCTION billing.issue_drafts, billing.rerun_invoice_run TO acme_admin;
	SELECT billing.grant_brand('ACME', 'acme_admin');
	-- a switch that makes BETA's failure slow in the second pass's worker
	CREATE TABLE public.slow_second_pass (slow boolean NOT NULL);
	INSERT INTO public.slow_second_pass VALUES (false);
	GRANT SELECT ON public.slow_second_pass TO PUBLIC;
	CREATE OR REPLACE FUNCTION public.refuse_beta() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN
		IF NEW.brand_id = 2 THEN
			IF (SELECT slow FROM public.slow_second_pass)
			   AND (SELECT backend_type FROM pg_stat_activity WHERE pid = pg_backend_pid())
			       = 'billing committed work' THEN
				PERFORM pg_sleep(60);
			END IF;
			RAISE EXCEPTION 'site rule: no BETA drafts today';
		END IF;
		RETURN NEW;
	END $$;
});

# 1. a foreground rerun that fails raises, and the failed run survives
my ($rc, $out, $err) = $node->psql('postgres',
	qq{SELECT billing.rerun_invoice_run('B20', brand => 'BETA', as_of => '$as_of')},
	extra_params => [ '-v', 'ON_ERROR_STOP=1', '-v', 'VERBOSITY=verbose' ]);
isnt($rc, 0, 'rerun: psql -v ON_ERROR_STOP=1 exits non-zero when the run fails');
like($err, qr/ERROR:\s+P0001:.*B20.*2026-10-21.*2026-11-20.*run \d+/s,
	'rerun: the error has SQLSTATE P0001 and names schedule, period and run')
	or diag($err);
like($err, qr/DETAIL:.*no BETA drafts today/, 'rerun: DETAIL is the run\'s own error');
like($err, qr/HINT:.*billing\.run_report/, 'rerun: HINT points at billing.run_report');
unlike($err, qr/CONTEXT:/, 'rerun: no CONTEXT lines of the internal functions');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM billing.run_report WHERE schedule = 'B20' AND step = 'failed'}),
	'1', 'rerun: the failed run is committed and shown failed in run_report');

# 2. raise_on_failure => false: the id, as in 0.2
($rc, $out, $err) = $node->psql('postgres',
	qq{SELECT billing.rerun_invoice_run('B20', brand => 'BETA', as_of => '$as_of', raise_on_failure => false) AS id \\gset
	   SELECT status FROM billing.invoice_run WHERE id = :id},
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

is($node->safe_psql('postgres', q{
	SELECT string_agg(format('%s:%s', r.status, (SELECT count(*) FROM billing.notification n WHERE n.run_id = r.id)), ',' ORDER BY r.id)
	FROM billing.invoice_run r WHERE r.kind = 'scheduled' AND r.brand_id = 2 AND r.status = 'failed'}),
	'failed:1', 'issue_drafts: BETA\'s failed scheduled run is committed once, with one mail for its member');

# an API error raised deep in an internal query has no CONTEXT either (0.2
# printed the XML query's 186 lines): ACME has no master data for XML
($rc, $out, $err) = $node->psql('postgres', q{
	SELECT billing.invoice_xml((SELECT min(id) FROM billing.invoice WHERE brand_id = 1))});
like($err, qr/ERROR:  invoice \d+ cannot be written as a qualified invoice: missing brand\.legal_name/,
	'invoice_xml: the missing master data is named') or diag($err);
unlike($err, qr/CONTEXT:/, 'invoice_xml: no CONTEXT lines (the internal query is not printed)') or diag($err);

# 3b. a role of ACME alone is not told of BETA's failure (brand walls)
($rc, $out, $err) = $node->psql('postgres',
	qq{SET ROLE acme_admin; SELECT count(*) FROM billing.issue_drafts('$as_of')},
	extra_params => [ '-v', 'ON_ERROR_STOP=1' ]);
is($rc, 0, 'issue_drafts as ACME\'s role: no error for another brand\'s failure') or diag($err);
unlike($err, qr/BETA|B20/, 'issue_drafts as ACME\'s role: nothing names BETA or its schedule');

# 3c. a caller that holds the row lock of ACME's schedule (it changed a
# document of ACME in its open transaction): its first pass bills ACME, BETA
# fails, and the second pass cannot take ACME's schedule: it waits no longer
# than billing.lock_timeout and says so, instead of waiting for ever on its
# own caller.
$node->safe_psql('postgres', q{
	INSERT INTO billing.document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference)
	VALUES (1, 1, 'delivery_invoice', '2026-11-26', 700, 0.10, 'A-2'),
	       (2, 2, 'delivery_invoice', '2026-12-10', 900, 0.10, 'B-2'),
	       (1, 1, 'delivery_invoice', '2027-01-05', 300, 0.10, 'A-3'),
	       (2, 2, 'delivery_invoice', '2027-01-10', 400, 0.10, 'B-3')});
my $started = time;
($rc, $out, $err) = $node->psql('postgres', q{
	SET billing.lock_timeout = '1s';
	BEGIN;
	UPDATE billing.document SET amount = 800 WHERE reference = 'A-2';
	SELECT count(*) FROM billing.issue_drafts('2026-12-21 00:10+09', simulate => true);
	COMMIT;},
	extra_params => [ '-v', 'ON_ERROR_STOP=1' ]);
my $took = time - $started;
isnt($rc, 0, 'own lock: the call raises');
like($err, qr/ERROR:\s+\d+ of \d+ runs failed: schedule "M20".*B20/s, 'own lock: both schedules are named failed') or diag($err);
like($err, qr/stayed locked longer than billing\.lock_timeout/, 'own lock: ACME\'s failure says it waited for the lock');
cmp_ok($took, '<', 60, 'own lock: no hang (the second pass waited for its bounded lock)');

# 3d. the second pass's worker is terminated: nothing of it is committed,
# the caller says so, and the next call bills ACME all the same
$node->safe_psql('postgres', q{UPDATE public.slow_second_pass SET slow = true});
my ($slow_out, $slow_err) = ('', '');
my $slow = IPC::Run::start(
	[ 'psql', '-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('postgres'),
	  '-c', q{SELECT count(*) FROM billing.issue_drafts('2027-01-21 00:10+09', simulate => true)} ],
	'>', \$slow_out, '2>', \$slow_err);
my $terminated = '';
for (1 .. 100)
{
	$terminated = $node->safe_psql('postgres', q{
		SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE backend_type = 'billing committed work' AND wait_event = 'PgSleep'});
	last if $terminated eq 't';
	sleep 0.2;
}
is($terminated, 't', 'terminated: the second pass\'s worker was found sleeping and terminated');
$slow->finish;
like($slow_err, qr/ERROR:.*background worker committing the runs of issue_drafts stopped before it finished/,
	'terminated: the caller raises that the second pass did not finish') or diag($slow_err);
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM billing.invoice_run WHERE cutoff_date = '2027-01-20'}),
	'0', 'terminated: nothing of either pass is committed');
$node->safe_psql('postgres', q{UPDATE public.slow_second_pass SET slow = false});
($rc, $out, $err) = $node->psql('postgres',
	q{SELECT count(*) FROM billing.issue_drafts('2027-01-21 00:10+09', simulate => true)});
is($node->safe_psql('postgres', q{
	SELECT string_agg(s.code || ':' || r.status, ',' ORDER BY s.code) FROM billing.invoice_run r
	JOIN billing.schedule s ON s.id = r.schedule_id WHERE r.cutoff_date = '2027-01-20'}),
	'B20:failed,M20:completed', 'terminated: the next call bills ACME and records BETA\'s failure');

# 4. pg_cron: the job ends failed with the message, run as billing_cron
$node->safe_psql('postgres', q{
	CREATE EXTENSION pg_cron;
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
like($status, qr/^failed .*B20/s, 'pg_cron: the tick with a failed run ends failed, naming the schedule')
	or diag($status);
like(slurp_file($node->logfile), qr/LOG:  billing: issue_drafts as of .* made \d+ runs of \d+ schedules: \d+ drafts, billed .*; 1 failed: run \d+ of schedule B20/,
	'pg_cron: the server log says what the tick did: runs, drafts, totals, failures');

# 5. a failure whose recording fails too: a site's trigger also refuses
# BETA's error lines in the run log, so finishing BETA's failed run fails;
# the call still raises, naming BETA's schedule and both errors, BETA's runs
# are still committed as failed (without their log line), and ACME's run
# of the period is committed
$node->safe_psql('postgres', q{
	CREATE FUNCTION public.refuse_beta_errors() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN
		RAISE EXCEPTION 'site rule: no BETA error lines today';
	END $$;
	CREATE TRIGGER refuse_beta_errors BEFORE INSERT ON billing.run_log
	FOR EACH ROW WHEN (NEW.brand_id = 2 AND NEW.level = 'error') EXECUTE FUNCTION public.refuse_beta_errors();
	INSERT INTO billing.document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference)
	VALUES (1, 1, 'delivery_invoice', '2027-02-10', 1000, 0.10, 'A-feb'),
	       (2, 2, 'delivery_invoice', '2027-02-10', 2000, 0.10, 'B-feb');
});
($rc, $out, $err) = $node->psql('postgres',
	q{SELECT count(*) FROM billing.issue_drafts('2027-02-21 00:10+09', simulate => true)},
	extra_params => [ '-v', 'ON_ERROR_STOP=1' ]);
isnt($rc, 0, 'failed recording: issue_drafts raises');
($error_part) = $err =~ /(ERROR:.*)/s;
like($error_part // '', qr/B20.*2027-02-20.*DETAIL:.*finishing the run failed: site rule: no BETA error lines today/s,
	'failed recording: the ERROR names the schedule, and the DETAIL the recording\'s own error')
	or diag($err);
is($node->safe_psql('postgres', q{
	SELECT string_agg(s.code || ':' || r.status, ',' ORDER BY s.code) FROM billing.invoice_run r
	JOIN billing.schedule s ON s.id = r.schedule_id WHERE r.cutoff_date = '2027-02-20'}),
	'B20:failed,M20:completed', 'failed recording: BETA\'s run committed as failed, ACME\'s completed');
$node->safe_psql('postgres', q{DROP TRIGGER refuse_beta_errors ON billing.run_log});

$node->stop;
done_testing();
