# test/t/012_failure_attacks.pl: an adversary's findings against "a failed
# run is an error, and stays committed" (e194eba, 93cb3df).  Each test fails
# on the implementation it was written against.
#  1. brand walls: a role of ACME alone, with client_min_messages = log, is
#     sent the LOG lines of issue_drafts: BETA's error text (first pass) and
#     BETA's schedule, run id and billed total (the summary line).
#  2. a READ ONLY transaction that calls issue_drafts and rolls back commits
#     runs and drafts: the first pass fails on "read-only transaction" and
#     the worker, in a read-write transaction of its own, commits them.
#  3. the committed-work worker keeps bgworker_die as its SIGTERM handler, so
#     pg_terminate_backend (by the caller's own non-superuser role) inside a
#     critical section is a PANIC: the whole cluster restarts.
#  4. a role whose brand grants were revoked was told every brand's failures
#     (no grant counted as "every brand"); now only a session with
#     billing.report_every_brand (a superuser's ALTER ROLE) is.
#  5. a login role's default_transaction_isolation = serializable reached the
#     second pass's worker, which then refused to run at all.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(sleep);
use IPC::Run;

my $as_of = '2026-11-25 12:00+09';

my $node = PostgreSQL::Test::Cluster->new('attacks');
$node->init;
$node->append_conf('postgresql.conf', q{
max_worker_processes = 16
timezone = 'UTC'
});
$node->start;

$node->safe_psql('postgres', q{
	CREATE EXTENSION billing;
	INSERT INTO billing.brand (code, name) VALUES ('ACME', 'Acme KK'), ('BETA', 'Beta KK');
	UPDATE billing.brand SET currency = 'USD' WHERE code = 'BETA';
	INSERT INTO billing.schedule (brand_id, code, name, cycle)
	VALUES (1, 'M20', 'the 20th', 'monthly:20'), (2, 'B20', 'the 20th', 'monthly:20');
	INSERT INTO billing.buyer (brand_id, code, name, schedule_id, schedule_applied_at)
	VALUES (1, 'A1', 'Buyer A1', 1, '2026-09-01 10:00+09'), (2, 'B1', 'Buyer B1', 2, '2026-09-01 10:00+09');
	INSERT INTO billing.document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference)
	VALUES (1, 1, 'delivery_invoice', '2026-11-10', 1000, 0.10, 'A-1'),
	       (2, 2, 'delivery_invoice', '2026-11-10', 2000, 0.10, 'B-1'),
	       (1, 1, 'delivery_invoice', '2026-12-10', 500, 0.10, 'A-2'),
	       (2, 2, 'delivery_invoice', '2027-02-10', 900, 0.10, 'B-3');
	CREATE TABLE public.ctl (refuse_beta boolean NOT NULL, heavy boolean NOT NULL);
	INSERT INTO public.ctl VALUES (false, false);
	GRANT SELECT ON public.ctl TO PUBLIC;
	CREATE FUNCTION public.refuse_beta() RETURNS trigger LANGUAGE plpgsql AS $$
	DECLARE
		big text;
	BEGIN
		IF NEW.brand_id = 2 AND (SELECT refuse_beta FROM public.ctl) THEN
			-- a site's WAL-heavy audit step, in the second pass's worker only
			IF (SELECT heavy FROM public.ctl)
			   AND (SELECT backend_type FROM pg_stat_activity WHERE pid = pg_backend_pid())
			       = 'billing committed work' THEN
				big := repeat('x', 8000000);
				FOR i IN 1 .. 60 LOOP
					PERFORM pg_logical_emit_message(true, 'audit', big);
				END LOOP;
			END IF;
			RAISE EXCEPTION 'site rule: beta-secret-reason';
		END IF;
		RETURN NEW;
	END $$;
	CREATE TRIGGER refuse_beta BEFORE INSERT ON billing.invoice
	FOR EACH ROW EXECUTE FUNCTION public.refuse_beta();
	CREATE ROLE acme_admin LOGIN;
	GRANT USAGE ON SCHEMA billing TO acme_admin;
	GRANT SELECT ON billing.invoice_run, billing.run_report TO acme_admin;
	GRANT EXECUTE ON FUNCTION billing.issue_drafts, billing.rerun_invoice_run TO acme_admin;
	SELECT billing.grant_brand('ACME', 'acme_admin');
});

my ($rc, $out, $err);
# 1. brand walls through LOG messages sent to the client
$node->safe_psql('postgres', 'UPDATE public.ctl SET refuse_beta = true');
($rc, $out, $err) = $node->psql('postgres', qq{
	SET ROLE acme_admin;
	SET client_min_messages = log;
	SELECT count(*) FROM billing.issue_drafts('$as_of');});
unlike($err, qr/beta-secret-reason/, 'client_min_messages = log: ACME\'s role is not sent BETA\'s error')
	or diag($err);
unlike($err, qr/B20|USD/, 'client_min_messages = log: ACME\'s role is not sent BETA\'s schedule or billed total')
	or diag($err);

# 2. READ ONLY, then ROLLBACK: nothing may stay (BETA healthy: nothing fails)
$node->safe_psql('postgres', 'UPDATE public.ctl SET refuse_beta = false');
($rc, $out, $err) = $node->psql('postgres', q{
	BEGIN READ ONLY;
	SELECT count(*) FROM billing.issue_drafts('2027-01-25 12:00+09', simulate => true);
	ROLLBACK;});
is($node->safe_psql('postgres', q{SELECT count(*) FROM billing.invoice_run WHERE cutoff_date > '2026-11-20'}), '0',
	'read only + rollback: no run is committed') or diag($err);
is($node->safe_psql('postgres', q{SELECT count(*) FROM billing.invoice WHERE cutoff_date > '2026-11-20'}), '0',
	'read only + rollback: no draft is committed');
$node->safe_psql('postgres', 'UPDATE public.ctl SET refuse_beta = true');

# 4. a role with no brand left is told nothing of other brands' failures;
# the tick's role, with billing.report_every_brand set by a superuser, is
$node->safe_psql('postgres', q{
	CREATE ROLE revoked LOGIN;
	GRANT USAGE ON SCHEMA billing TO revoked;
	GRANT EXECUTE ON FUNCTION billing.issue_drafts TO revoked;
	SELECT billing.grant_brand('ACME', 'revoked');
	SELECT billing.revoke_brand('ACME', 'revoked');
	CREATE ROLE tick LOGIN;
	GRANT USAGE ON SCHEMA billing TO tick;
	GRANT EXECUTE ON FUNCTION billing.issue_drafts TO tick;
	ALTER ROLE tick SET billing.report_every_brand = on;
});
($rc, $out, $err) = $node->psql('postgres', qq{SELECT count(*) FROM billing.issue_drafts('$as_of')},
	extra_params => [ '-U', 'revoked' ]);
unlike($err, qr/B20|BETA|beta-secret/, 'a role with no brand is not told of BETA\'s failure') or diag($err);
($rc, $out, $err) = $node->psql('postgres', qq{
	SELECT count(*) FROM billing.issue_drafts('$as_of');  -- (the library loaded)
	SET billing.report_every_brand = on;},
	extra_params => [ '-U', 'revoked' ]);
like($err, qr/permission denied to set parameter "billing\.report_every_brand"/, 'a tenant cannot set billing.report_every_brand');
($rc, $out, $err) = $node->psql('postgres', qq{SELECT count(*) FROM billing.issue_drafts('$as_of')},
	extra_params => [ '-U', 'tick' ]);
like($err, qr/ERROR:.*schedule "B20" \(brand BETA\)/, 'the tick\'s role with billing.report_every_brand is told of BETA\'s failure') or diag($err);

# 5. the login role's default isolation does not reach the second pass
my $failed_before = $node->safe_psql('postgres', q{SELECT max(id) FROM billing.invoice_run WHERE status = 'failed'});
$node->safe_psql('postgres', q{ALTER ROLE acme_admin SET default_transaction_isolation = 'serializable'});
($rc, $out, $err) = $node->psql('postgres', qq{
	SET default_transaction_isolation = 'read committed';
	SELECT count(*) FROM billing.issue_drafts('$as_of');},
	extra_params => [ '-U', 'acme_admin' ]);
unlike($err, qr/could not commit|READ COMMITTED/, 'a role default of serializable: the second pass still runs') or diag($err);
is($node->safe_psql('postgres', qq{
	SELECT count(*) FROM billing.invoice_run r JOIN billing.schedule s ON s.id = r.schedule_id
	WHERE s.code = 'B20' AND r.status = 'failed' AND r.requested_by = 'acme_admin' AND r.id > $failed_before}),
	'1', 'a role default of serializable: BETA\'s failed run is committed by the second pass');
$node->safe_psql('postgres', q{ALTER ROLE acme_admin RESET default_transaction_isolation});

# 3. pg_terminate_backend of the worker by the caller's own role: no PANIC
$node->safe_psql('postgres', q{UPDATE public.ctl SET heavy = true});
my $panicked = 0;
for my $try (1 .. 5)
{
	my ($o, $e) = ('', '');
	my $h = IPC::Run::start(
		[ 'psql', '-X', '-A', '-t', '-d', $node->connstr('postgres') . ' user=acme_admin',
		  '-c', qq{SELECT count(*) FROM billing.issue_drafts('2027-03-25 12:00+09', simulate => true)} ],
		'>', \$o, '2>', \$e);
	my $pid = '';
	for (1 .. 100)
	{
		$pid = $node->safe_psql('postgres', q{
			SELECT pid FROM pg_stat_activity WHERE backend_type = 'billing committed work'
			  AND query LIKE '%issue_drafts_internal%'});
		last if $pid ne '';
		sleep 0.1;
	}
	sleep 0.5;
	$node->psql('postgres', "SELECT pg_terminate_backend($pid)", extra_params => [ '-U', 'acme_admin' ])
		if $pid ne '';
	$h->finish;
	if (slurp_file($node->logfile) =~ /PANIC:  terminating background worker/)
	{
		$panicked = 1;
		last;
	}
	$node->poll_query_until('postgres', 'SELECT true');
}
ok(!$panicked, 'pg_terminate_backend of the committed-work worker by a tenant role is not a PANIC')
	or diag(join("\n", grep { /PANIC|terminated by signal|reinitializing/ } split /\n/, slurp_file($node->logfile)));

# (a TAP cluster has restart_after_crash = off: after a PANIC it is down)
$node->stop('immediate', fail_ok => 1);
done_testing();
