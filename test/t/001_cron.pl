# test/t/001_cron.pl: pg_cron really fires billing.issue_drafts and drafts
# appear; cron_setup refuses clearly without pg_cron and re-registers
# without duplicating the job.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

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

$node->safe_psql('postgres', 'CREATE EXTENSION billing');

# without pg_cron: a clear error
my ($stdout, $stderr);
my $ret = $node->psql('postgres', 'SELECT billing.cron_setup()', stdout => \$stdout, stderr => \$stderr);
isnt($ret, 0, 'cron_setup fails without pg_cron');
like($stderr, qr/pg_cron is not installed in database "postgres"/, 'the error names the missing extension');

$node->safe_psql('postgres', 'CREATE EXTENSION pg_cron');

# a daily schedule, a buyer applied three days ago, documents of two and three days ago
$node->safe_psql('postgres', q{
	INSERT INTO billing.brand (code, name) VALUES ('CRON', 'Cron KK');
	INSERT INTO billing.schedule (brand_id, code, name, cycle) SELECT id, 'D', 'daily', 'daily' FROM billing.brand;
	INSERT INTO billing.buyer (brand_id, code, name, schedule_id, schedule_applied_at)
	SELECT b.id, 'B1', 'Buyer', s.id, now() - interval '3 days' FROM billing.brand b, billing.schedule s;
	INSERT INTO billing.document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference)
	SELECT id, brand_id, 'delivery_invoice', (now() AT TIME ZONE 'Asia/Tokyo')::date - g, 1000, 0.10, 'D-' || g
	FROM billing.buyer, generate_series(2, 3) AS g;  -- periods whose issue moment has surely passed
});

is($node->safe_psql('postgres', q{SELECT billing.cron_setup() > 0}), 't', 'cron_setup registers the job');
is($node->safe_psql('postgres', q{SELECT schedule FROM cron.job WHERE jobname = 'billing-issue-drafts'}),
	'5 15 * * *', 'the default schedule is 00:05 JST in UTC');

$node->safe_psql('postgres', q{SELECT billing.cron_setup('* * * * *')});
is($node->safe_psql('postgres', q{SELECT count(*) || ' ' || min(schedule) || ' ' || min(command) FROM cron.job}),
	'1 * * * * * SELECT count(*) FROM billing.issue_drafts()',
	'calling cron_setup again re-registers the one job');

is($node->safe_psql('postgres', 'SELECT count(*) FROM billing.invoice'), '0', 'no drafts before the job fires');

# pg_cron fires at the next minute boundary: wait for it (at most ~3 minutes)
ok($node->poll_query_until('postgres', q{
	SELECT EXISTS (SELECT 1 FROM cron.job_run_details d JOIN cron.job j USING (jobid)
	               WHERE j.jobname = 'billing-issue-drafts' AND d.status = 'succeeded')
}), 'pg_cron ran the job');

is($node->safe_psql('postgres', q{SELECT count(*) FROM billing.invoice WHERE status = 'draft'}), '2',
	'the job issued one draft per day with documents');
is($node->safe_psql('postgres', 'SELECT count(*) FROM billing.document_link'), '2', 'both documents are linked');
is($node->safe_psql('postgres', q{SELECT sum(total) FROM billing.invoice}), '2200', 'drafts total 2 x (1000 + 100)');
ok($node->safe_psql('postgres', q{SELECT count(*) FROM billing.invoice_run WHERE kind = 'scheduled' AND status = 'completed'}) >= 2,
	'completed scheduled runs for each day since the buyer was applied');

is($node->safe_psql('postgres', 'SELECT count(*) FROM billing.issue_drafts()'), '0',
	'issue_drafts by hand afterwards issues nothing new');

$node->stop;
done_testing();
