# test/t/004_run_failures.pl: background runs never hang.  A background
# rerun whose worker is killed (kill -9) while it waits or in the middle of
# its run, or lost in an immediate restart, ends 'failed', with an error log
# line and a notification, found by the next call of a run function; one
# whose worker is terminated (SIGTERM) while it waits or mid-run is failed
# by its worker at once; one that cannot log in or finds no free worker
# slot is failed in the request; a queued one can be cancelled.  Each time nothing of the run is left
# behind and the next rerun bills every document exactly once.  A request
# made after SET ROLE to a NOLOGIN group role runs as that role.
#
# "Waiting" and "mid-run" are made certain, not timed: another session
# holds the schedule's lock (it changes a document of the schedule, so the
# document guard holds the schedule's row FOR SHARE) or locks the link table
# (the run's drafts statement waits for it), and the test polls until the
# worker waits there.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $started = time;
my $as_of = '2026-11-25 12:00+09';    # the last closed M20 period is 2026-10-21 .. 2026-11-20

my $node = PostgreSQL::Test::Cluster->new('failures');
$node->init;
# three worker slots: the logical replication launcher takes one
$node->append_conf('postgresql.conf', q{
timezone = 'UTC'
max_worker_processes = 3
max_parallel_workers_per_gather = 0
restart_after_crash = on
# the runs here wait as long as the test holds their schedule, and all are ACME's
billing.lock_timeout = '10min'
billing.max_workers_per_brand = 3
});
$node->start;

$node->safe_psql('postgres', q{
	CREATE EXTENSION billing;
	INSERT INTO billing.brand (code, name) VALUES ('ACME', 'Acme KK');
	INSERT INTO billing.member (brand_id, code, name, email) VALUES (1, 'sato', 'Sato', 'sato@acme.example');
	INSERT INTO billing.schedule (brand_id, code, name, cycle) VALUES (1, 'M20', 'the 20th', 'monthly:20');
	INSERT INTO billing.buyer (brand_id, code, name, schedule_id, schedule_applied_at)
	SELECT 1, 'B' || g, 'Buyer ' || g, 1, '2026-11-01 10:00+09' FROM generate_series(1, 3) AS g;
	-- a document of the next period that the lock holder changes (and rolls
	-- back): the document guard holds the schedule's lock meanwhile
	INSERT INTO billing.document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference)
	VALUES (1, 1, 'delivery_invoice', '2026-12-05', 1, 0.10, 'HOLD');
	-- a NOLOGIN group role and a login role in it
	CREATE ROLE billing_group NOLOGIN SUPERUSER;
	CREATE ROLE alice LOGIN IN ROLE billing_group;
});

my $case = 0;

# add_documents: two late deliveries per buyer for the next case; returns their count
sub add_documents
{
	$case++;
	$node->safe_psql('postgres', qq{
		INSERT INTO billing.document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference)
		SELECT b.id, 1, 'delivery_invoice', '2026-11-10', 1000 * $case + g, 0.10, 'C$case-' || b.code || '-' || g
		FROM billing.buyer b, generate_series(1, 2) AS g});
	return 6;
}

# request: a background rerun as the test's superuser, returns its id
sub request
{
	return $node->safe_psql('postgres',
		qq{SELECT billing.rerun_invoice_run('M20', notify => '{sato}', background => true, as_of => '$as_of')});
}

# hold_schedule: a session that holds the schedule's lock until it ends
sub hold_schedule
{
	my $holder = $node->background_psql('postgres', on_error_stop => 0);
	$holder->query_safe(q{BEGIN; UPDATE billing.document SET amount = 2 WHERE reference = 'HOLD'});
	return $holder;
}

# hold_links: a session that keeps the link table locked, so that a run's
# drafts statement waits for it
sub hold_links
{
	my $holder = $node->background_psql('postgres', on_error_stop => 0);
	$holder->query_safe(q{BEGIN; LOCK TABLE billing.document_link IN SHARE MODE});
	return $holder;
}

# wait_for_worker: polls until the run's worker waits on the given lock
# type with the run in the given state; returns the worker's pid.  'row':
# a row lock (the schedule's row), waited for as the holder's transaction
# id, or as the tuple behind another waiter.
sub wait_for_worker
{
	my ($run, $wait_event, $status) = @_;
	my $events = $wait_event eq 'row' ? q{'transactionid', 'tuple'} : "'$wait_event'";
	my $sql = qq{
		SELECT EXISTS (SELECT 1 FROM pg_stat_activity
		               WHERE backend_type = 'billing invoice run' AND wait_event IN ($events))
		   AND (SELECT status FROM billing.invoice_run WHERE id = $run) = '$status'};
	$node->poll_query_until('postgres', $sql)
	  or die "the worker of run $run never waited on $wait_event while $status";
	return $node->safe_psql('postgres',
		q{SELECT pid FROM pg_stat_activity WHERE backend_type = 'billing invoice run'});
}

# kill_and_wait_for_restart(pid): kill -9 of a server process, then the
# server back after its crash restart (the log line first: a connection
# made before the postmaster saw the crash would be lost to it)
sub kill_and_wait_for_restart
{
	my ($pid) = @_;
	my $offset = -s $node->logfile;
	kill 'KILL', $pid;
	$node->wait_for_log(qr/all server processes terminated; reinitializing/, $offset);
	$node->poll_query_until('postgres', 'SELECT true') or die 'the server did not come back';
}

sub quit_quietly
{
	my ($session) = @_;
	eval { $session->quit; };
}

# run_failed: the run is failed with the reason, a log line and a
# notification, and left no invoice, tax line or link
sub run_failed
{
	my ($run, $reason, $label) = @_;
	my ($status, $error) = split /\|/, $node->safe_psql('postgres',
		"SELECT status, error FROM billing.invoice_run WHERE id = $run"), 2;
	is($status, 'failed', "$label: run $run is failed");
	like($error, $reason, "$label: its error says why");
	is($node->safe_psql('postgres', qq{
		SELECT count(*) FROM billing.run_log WHERE run_id = $run AND level = 'error' AND message LIKE '%failed, nothing was issued%'}),
		'1', "$label: one error line in its log");
	is($node->safe_psql('postgres', qq{
		SELECT count(*) || ' ' || min(email) || ' ' || min(subject) FROM billing.notification WHERE run_id = $run}),
		'1 sato@acme.example [請求] 再実行失敗: M20 2026-10-21〜2026-11-20', "$label: the member asked is notified");
	nothing_left($run, $label);
}

sub nothing_left
{
	my ($run, $label) = @_;
	is($node->safe_psql('postgres', qq{
		SELECT (SELECT count(*) FROM billing.invoice WHERE run_id = $run) || ' ' ||
		       (SELECT count(*) FROM billing.invoice_tax_line t JOIN billing.invoice i
		          ON i.buyer_id = t.buyer_id AND i.id = t.invoice_id WHERE i.run_id = $run) || ' ' ||
		       (SELECT count(*) FROM billing.document_link l JOIN billing.invoice i
		          ON i.buyer_id = l.buyer_id AND i.id = l.invoice_id WHERE i.run_id = $run)}),
		'0 0 0', "$label: no invoice, tax line or link of run $run");
}

# next_rerun_bills_all: a foreground rerun bills the documents the case
# left, and every document of the period is on exactly one invoice
sub next_rerun_bills_all
{
	my ($expected, $label) = @_;
	my $run = $node->safe_psql('postgres',
		qq{SELECT billing.rerun_invoice_run('M20', as_of => '$as_of')});
	# with nothing left to bill the rerun makes no run (NULL: nothing to re-run)
	if ($expected == 0)
	{
		is($run, '', "$label: the next rerun finds nothing to re-run and makes no run");
	}
	else
	{
		is($node->safe_psql('postgres', "SELECT status || ' ' || document_count FROM billing.invoice_run WHERE id = $run"),
			"completed $expected", "$label: the next rerun completes with the $expected documents left");
	}
	is($node->safe_psql('postgres', q{
		SELECT count(*) FILTER (WHERE l.document_id IS NULL) || ' ' || count(*) FILTER (WHERE links > 1)
		FROM billing.document d
		LEFT JOIN (SELECT buyer_id, document_id, count(*) OVER (PARTITION BY buyer_id, document_id) AS links
		           FROM billing.document_link) l ON l.buyer_id = d.buyer_id AND l.document_id = d.id
		WHERE d.reference <> 'HOLD'}),
		'0 0', "$label: every document is on exactly one invoice");
	is($node->safe_psql('postgres', q{
		SELECT sum(i.purchases) = (SELECT sum(amount) FROM billing.document WHERE reference <> 'HOLD')
		FROM billing.invoice i WHERE i.status = 'draft'}),
		't', "$label: the drafts add up to every document once");
	is($node->safe_psql('postgres',
		q{SELECT count(*) FROM billing.invoice_run WHERE status IN ('queued', 'running')}),
		'0', "$label: no run is left queued or running");
}

# 1. a worker watched: queued while it waits (with a log line), committed
#    states as they happen, then completed
my $docs = add_documents();
my $holder = hold_schedule();
my $run = request();
wait_for_worker($run, 'row', 'queued');
is($node->safe_psql('postgres', "SELECT count(*) FROM billing.run_log WHERE run_id = $run AND message LIKE 'queued behind%'"),
	'1', 'watched: a waiting run is queued with a log line that says why, visible to others');
$holder->query_safe('ROLLBACK');
quit_quietly($holder);
$node->poll_query_until('postgres', "SELECT status = 'completed' FROM billing.invoice_run WHERE id = $run")
  or die "run $run did not complete";
is($node->safe_psql('postgres', qq{
	SELECT string_agg(split_part(message, ' ', 1), ',' ORDER BY id) FROM billing.run_log WHERE run_id = $run}),
	'queued,started,rerun', 'watched: log lines for queued, started (by its worker pid) and the outcome');
is($node->safe_psql('postgres', "SELECT document_count FROM billing.invoice_run WHERE id = $run"),
	$docs, "watched: the background run billed its $docs documents");

# 2. kill -9 of the worker while it waits (a crash restart of the server)
$docs = add_documents();
$holder = hold_schedule();
$run = request();
my $pid = wait_for_worker($run, 'row', 'queued');
kill_and_wait_for_restart($pid);
quit_quietly($holder);
is($node->safe_psql('postgres', "SELECT status FROM billing.invoice_run WHERE id = $run"), 'queued',
	'kill -9 while waiting: the run is still queued after the restart');
is($node->safe_psql('postgres', "SELECT count(*) FROM billing.preview_run('M20', as_of => '$as_of')"), '3',
	'kill -9 while waiting: preview_run is the next run function called');
run_failed($run, qr/worker was gone before the run started/, 'kill -9 while waiting');
next_rerun_bills_all($docs, 'kill -9 while waiting');

# 3. kill -9 of the worker mid-run
$docs = add_documents();
$holder = hold_links();
$run = request();
$pid = wait_for_worker($run, 'relation', 'running');
is($node->safe_psql('postgres', "SELECT started_at IS NOT NULL FROM billing.invoice_run WHERE id = $run"), 't',
	'kill -9 mid-run: others see the run running, with its start time');
kill_and_wait_for_restart($pid);
quit_quietly($holder);
is($node->safe_psql('postgres', "SELECT count(*) FROM billing.issue_drafts('2026-11-01 00:00+09')"), '0',
	'kill -9 mid-run: issue_drafts (the pg_cron tick) is the next run function called');
run_failed($run, qr/worker was gone while the run made its drafts/, 'kill -9 mid-run');
next_rerun_bills_all($docs, 'kill -9 mid-run');

# 4. SIGTERM (pg_terminate_backend) of the worker mid-run: the worker fails
#    its run itself before it exits
$docs = add_documents();
$holder = hold_links();
$run = request();
$pid = wait_for_worker($run, 'relation', 'running');
is($node->safe_psql('postgres', "SELECT pg_terminate_backend($pid)"), 't', 'SIGTERM mid-run: the worker is terminated');
$node->poll_query_until('postgres', "SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $pid)")
  or die 'the terminated worker did not exit';
$holder->query_safe('ROLLBACK');
quit_quietly($holder);
run_failed($run, qr/worker was terminated \(pg_terminate_backend, SIGTERM or a shutdown\); its work was rolled back/,
	'SIGTERM mid-run');
# cancel_run afterwards: a failed run can be cancelled
is($node->safe_psql('postgres', "SELECT step FROM billing.cancel_run($run)"), 'cancelled',
	'SIGTERM mid-run: the failed run can then be cancelled');
is($node->safe_psql('postgres', qq{
	SELECT string_agg(level, ',' ORDER BY id) FROM billing.run_log WHERE run_id = $run}),
	'info,error,info', 'SIGTERM mid-run: log lines for the start, the failure and the cancel');
next_rerun_bills_all($docs, 'SIGTERM mid-run');

# 4b. SIGTERM of the worker while it waits for the schedule's lock
$docs = add_documents();
$holder = hold_schedule();
$run = request();
$pid = wait_for_worker($run, 'row', 'queued');
$node->safe_psql('postgres', "SELECT pg_terminate_backend($pid)");
$node->poll_query_until('postgres', "SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $pid)")
  or die 'the terminated worker did not exit';
$holder->query_safe('ROLLBACK');
quit_quietly($holder);
run_failed($run, qr/worker was terminated/, 'SIGTERM while waiting');
next_rerun_bills_all($docs, 'SIGTERM while waiting');

# 5. an immediate restart mid-run
$docs = add_documents();
$holder = hold_links();
$run = request();
wait_for_worker($run, 'relation', 'running');
$node->stop('immediate');
quit_quietly($holder);
$node->start;
is($node->safe_psql('postgres', "SELECT status FROM billing.invoice_run WHERE id = $run"), 'running',
	'immediate restart mid-run: the run is still running after the restart');
my $after = $node->safe_psql('postgres',
	qq{SELECT billing.rerun_invoice_run('M20', notify => '{sato}', as_of => '$as_of')});
run_failed($run, qr/worker was gone while the run made its drafts/, 'immediate restart mid-run');
is($node->safe_psql('postgres', "SELECT status || ' ' || document_count FROM billing.invoice_run WHERE id = $after"),
	"completed $docs", 'immediate restart mid-run: the next rerun (which found it) bills the documents');
next_rerun_bills_all(0, 'immediate restart mid-run');

# 6. cancel_run cancels a queued run; its worker then does nothing
$docs = add_documents();
$holder = hold_schedule();
$run = request();
$pid = wait_for_worker($run, 'row', 'queued');
is($node->safe_psql('postgres', "SELECT step FROM billing.cancel_run($run)"), 'cancelled',
	'cancel a queued run: cancel_run cancels it');
$holder->query_safe('ROLLBACK');
quit_quietly($holder);
$node->poll_query_until('postgres', "SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $pid)")
  or die 'the worker of the cancelled run did not exit';
is($node->safe_psql('postgres', "SELECT status || ' ' || (started_at IS NULL) FROM billing.invoice_run WHERE id = $run"),
	'cancelled true', 'cancel a queued run: it stays cancelled and never started');
nothing_left($run, 'cancel a queued run');
next_rerun_bills_all($docs, 'cancel a queued run');

# 7. a request after SET ROLE to a NOLOGIN group role runs as that role
$docs = add_documents();
my $alice = $node->background_psql('postgres', on_error_stop => 0,
	extra_params => [ '-U', 'alice' ]);
$run = $alice->query_safe(qq{
	SET ROLE billing_group;
	SELECT billing.rerun_invoice_run('M20', notify => '{sato}', background => true, as_of => '$as_of')});
$node->poll_query_until('postgres', "SELECT status = 'completed' FROM billing.invoice_run WHERE id = $run")
  or die "run $run of the group role did not complete";
is($node->safe_psql('postgres', "SELECT requested_by || ' ' || document_count FROM billing.invoice_run WHERE id = $run"),
	"billing_group $docs", 'NOLOGIN group role: the background run ran as the role that asked and billed the documents');
next_rerun_bills_all(0, 'NOLOGIN group role');

# 8. a login role that lost LOGIN: no worker can log in as it
$docs = add_documents();
$node->safe_psql('postgres', 'ALTER ROLE alice NOLOGIN');
$run = $alice->query(qq{
	SELECT billing.rerun_invoice_run('M20', notify => '{sato}', background => true, as_of => '$as_of')});
like($alice->{stderr}, qr/WARNING:.*failed, nothing was issued: no background worker can run it/,
	'cannot log in: the request warns that the run failed');
$alice->quit;
$node->safe_psql('postgres', 'ALTER ROLE alice LOGIN');
run_failed($run, qr/role "alice" is not permitted to log in/, 'cannot log in');
next_rerun_bills_all($docs, 'cannot log in');

# 9. no free worker slot: two runs wait for the schedule's lock in the two
#    slots left by the logical replication launcher; a third finds none
$docs = add_documents();
$holder = hold_schedule();
my $first = request();
wait_for_worker($first, 'row', 'queued');
my $second = request();
$node->poll_query_until('postgres',
	q{SELECT count(*) = 2 FROM pg_stat_activity WHERE backend_type = 'billing invoice run'
	  AND wait_event IN ('transactionid', 'tuple')})
  or die 'the second worker did not wait';
my ($stdout, $stderr);
$node->psql('postgres', qq{SELECT billing.rerun_invoice_run('M20', notify => '{sato}', background => true, as_of => '$as_of')},
	stdout => \$stdout, stderr => \$stderr);
$run = $stdout;
like($stderr, qr/WARNING:.*failed, nothing was issued: no background worker could be started: all 3 worker slots are in use/,
	'no free worker slot: the request warns that the run failed');
run_failed($run, qr/no background worker could be started/, 'no free worker slot');
$holder->query_safe('ROLLBACK');
quit_quietly($holder);
# (the second, finding its documents billed by the first, closes as
# cancelled: a rerun that finds nothing makes no run)
$node->poll_query_until('postgres',
	"SELECT count(*) = 2 FROM billing.invoice_run WHERE id IN ($first, $second) AND status IN ('completed', 'cancelled')")
  or die 'the two waiting runs did not end';
is($node->safe_psql('postgres', "SELECT sum(document_count) FROM billing.invoice_run WHERE id IN ($first, $second)"),
	$docs, 'no free worker slot: the two runs that had a slot bill the documents between them');
next_rerun_bills_all(0, 'no free worker slot');

$node->stop;
diag(sprintf('004_run_failures.pl took %.1f s', time - $started));
done_testing();
