# test/t/014_confirm_concurrency.pl: invoice numbers under 8 concurrent
# confirmers (issue 13 item 2).  pgbench runs 8 clients, each transaction
# confirming the invoices of two random buyers of two brands (ACME's series
# restarts each year, BETA's never does), a fifth of them rolled back after
# confirming, and selections overlapping each other and earlier ones (a
# confirmed invoice is taken as done).  Afterwards every brand's series is
# 1, 2, ... n without a gap or a number twice, its counter is n, every
# confirmed invoice has a number and no draft has one, and billing.verify()
# finds the balances equal to the confirmed invoices.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $node = PostgreSQL::Test::Cluster->new('confirmers');
$node->init;
$node->append_conf('postgresql.conf', "max_connections = 40\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION billing');

# 200 buyers per brand, each with a delivery in December 2026 and one in
# January 2027: two drafts each, in two invoice years
$node->safe_psql('postgres', q{
	SET client_min_messages = warning;
	INSERT INTO billing.brand (code, name, invoice_number_yearly_reset) VALUES ('ACME', 'ACME KK', true), ('BETA', 'Beta KK', false);
	INSERT INTO billing.schedule (brand_id, code, name, cycle, created_at)
	SELECT id, 'EOM', 'month end', 'monthly:eom', '2026-11-01' FROM billing.brand;
	INSERT INTO billing.buyer (brand_id, code, name, schedule_code, schedule_applied_at)
	SELECT br.id, br.code || '-' || n, 'buyer ' || n, 'EOM', '2026-11-15'
	FROM billing.brand br, generate_series(1, 200) AS n;
	INSERT INTO billing.document (buyer_id, kind, document_date, amount, tax_rate, reference)
	SELECT b.id, 'delivery_invoice', d, 1000 + b.id, 0.10, b.code || '-' || d
	FROM billing.buyer b, (VALUES (date '2026-12-10'), (date '2027-01-10')) AS v(d);
	SELECT count(*) FROM billing.issue_drafts('2027-02-01 10:00+09', simulate => true);
});
is($node->safe_psql('postgres', q{SELECT count(*) FROM billing.invoice WHERE status = 'draft' AND total > 0}),
	'800', '800 drafts to confirm (2 brands x 200 buyers x 2 months)');

my $script = $node->basedir . '/confirm.sql';
open my $fh, '>', $script or die "cannot write $script: $!";
print $fh <<'EOF';
\set a random(1, 200)
\set b random(1, 200)
\set r random(0, 4)
BEGIN;
SELECT count(*) FROM billing.confirm_invoices(VARIADIC ARRAY(
	SELECT i.id FROM billing.invoice i JOIN billing.buyer bu ON bu.id = i.buyer_id
	WHERE bu.code IN ('ACME-' || :a, 'BETA-' || :b) AND i.total > 0));
\if :r = 0
ROLLBACK;
\else
COMMIT;
\endif
EOF
close $fh;

my $t0 = time;
$node->command_ok(
	[ 'pgbench', '-n', '-c', '8', '-j', '8', '-t', '60', '-f', $script, '-h', $node->host,
		'-p', $node->port, 'postgres' ],
	'8 concurrent confirmers, 480 transactions: none fails (no deadlock, no lock timeout)');
my $elapsed = time - $t0;
note(sprintf('480 confirming transactions by 8 clients in %.2f s', $elapsed));

my $confirmed = $node->safe_psql('postgres', q{SELECT count(*) FROM billing.invoice WHERE status = 'confirmed'});
cmp_ok($confirmed, '>', 100, "many invoices confirmed ($confirmed)");
cmp_ok($confirmed, '<', 800, 'some left as drafts (the rolled-back and never drawn ones)');

# each series is 1..n, in the order of the numbers' own counters
is($node->safe_psql('postgres', q{
	WITH n AS (
		SELECT i.brand_id, s.year,
		       substring(i.invoice_number FROM '([0-9]+)$')::bigint AS counter
		FROM billing.invoice i JOIN billing.brand br ON br.id = i.brand_id
		JOIN billing.invoice_series s ON s.brand_id = i.brand_id
		 AND s.year = CASE WHEN br.invoice_number_yearly_reset THEN extract(year FROM i.invoice_date)::int ELSE 0 END
		WHERE i.status = 'confirmed'
	)
	SELECT count(*) FROM (
		SELECT counter, row_number() OVER (PARTITION BY brand_id, year ORDER BY counter) AS expected FROM n) AS x
	WHERE counter <> expected}), '0', 'every series is 1, 2, ... n: no gap, no number twice');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM billing.invoice WHERE status = 'confirmed'
	HAVING count(*) = count(DISTINCT invoice_number)}), $confirmed, 'no invoice number is given twice');
is($node->safe_psql('postgres', q{
	SELECT string_agg(format('%s %s %s', br.code, s.year, s.last_number = (
	           SELECT count(*) FROM billing.invoice i WHERE i.brand_id = s.brand_id AND i.status = 'confirmed'
	           AND CASE WHEN br.invoice_number_yearly_reset THEN extract(year FROM i.invoice_date)::int ELSE 0 END = s.year)),
	       ', ' ORDER BY br.code, s.year)
	FROM billing.invoice_series s JOIN billing.brand br ON br.id = s.brand_id}),
	'ACME 2026 t, ACME 2027 t, BETA 0 t', 'each counter is its series\' count: the rolled-back numbers were given back');
like($node->safe_psql('postgres', q{
	SELECT min(invoice_number) || ' ' || max(invoice_number) FROM billing.invoice
	WHERE status = 'confirmed' AND brand_id = (SELECT id FROM billing.brand WHERE code = 'ACME')
	  AND invoice_date = '2027-01-31'}),
	qr/^ACME-2027-000001 ACME-2027-\d{6}$/, 'ACME\'s 2027 series starts again at 1');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM billing.invoice
	WHERE (status = 'confirmed') <> (invoice_number IS NOT NULL)}), '0',
	'every confirmed invoice has a number, and no draft has one');
is($node->safe_psql('postgres', 'SELECT count(*) FROM billing.verify()'), '0',
	'billing.verify(): every balance is its confirmed invoices');

done_testing();
