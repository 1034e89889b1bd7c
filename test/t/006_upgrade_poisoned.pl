# test/t/006_upgrade_poisoned.pl: a 0.1 database holding rows that 0.2
# refuses (a NaN balance, a POSIX time zone, an issue delay with a month
# part, an over-long reference) is not upgraded: ALTER EXTENSION billing
# UPDATE stops before changing anything and lists every such row.  Once they
# are corrected it upgrades, and the same values are refused from then on.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('poisoned');
$node->init;
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION billing VERSION '0.1';
	INSERT INTO billing.brand (code, name, time_zone) VALUES ('P', 'Poisoned KK', 'XYZ-167');
	INSERT INTO billing.schedule (brand_id, code, name, cycle, issue_delay)
	VALUES (1, 'EOM', 'month end', 'monthly:eom', '-1 mon +30 days 1 hour');
	INSERT INTO billing.buyer (brand_id, code, name, billing_balance) VALUES (1, 'B1', 'one', 'NaN');
	INSERT INTO billing.buyer (brand_id, code, name, billing_balance) VALUES (1, 'B2', 'two', 500);
	INSERT INTO billing.document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference)
	VALUES (2, 1, 'delivery_invoice', '2026-10-01', 100, 0.10, repeat('r', 300));
});

my $rows = q{SELECT (SELECT string_agg(time_zone, ',') FROM billing.brand) || ' / ' ||
	(SELECT string_agg(issue_delay::text, ',') FROM billing.schedule) || ' / ' ||
	(SELECT string_agg(billing_balance::text, ',' ORDER BY id) FROM billing.buyer) || ' / ' ||
	(SELECT string_agg(length(reference)::text, ',') FROM billing.document)};
my $before = $node->safe_psql('postgres', $rows);

my ($ret, $stdout, $stderr) = $node->psql('postgres', 'ALTER EXTENSION billing UPDATE');
isnt($ret, 0, 'the upgrade of a poisoned 0.1 database fails');
like($stderr, qr/cannot upgrade billing to 0\.2: 4 rows hold values that 0\.2 refuses/,
	'the error counts the rows 0.2 refuses');
like($stderr, qr/brand P: time zone "XYZ-167" is not in pg_timezone_names/, 'it names the time zone');
like($stderr, qr/schedule EOM: issue delay "-1 mons \+30 days 01:00:00"/, 'it names the issue delay');
like($stderr, qr/buyer B1: billing balance is NaN/, 'it names the NaN balance');
like($stderr, qr/document 1: reference of 300 characters/, 'it names the over-long reference');
like($stderr, qr/HINT:  Nothing was changed\./, 'the hint says nothing was changed and what to do');
is($node->safe_psql('postgres', "SELECT extversion FROM pg_extension WHERE extname = 'billing'"),
	'0.1', 'the extension is still 0.1');
is($node->safe_psql('postgres', $rows), $before, 'every row is as it was');

$node->safe_psql('postgres', q{
	UPDATE billing.brand SET time_zone = 'Asia/Tokyo';
	UPDATE billing.schedule SET issue_delay = '1 hour';
	UPDATE billing.buyer SET billing_balance = 0 WHERE code = 'B1';
	UPDATE billing.document SET reference = 'D-1';
	ALTER EXTENSION billing UPDATE;
});
isnt($node->safe_psql('postgres', "SELECT extversion FROM pg_extension WHERE extname = 'billing'"),
	'0.1', 'corrected, it upgrades');

# (a balance changes by hand only under the maintenance switch: see the records suite)
for my $bad (
	[ q{SET billing.maintenance = on; UPDATE billing.buyer SET billing_balance = 'NaN' WHERE code = 'B2'}, qr/billing balance of buyer "B2" must be a finite number/ ],
	[ q{UPDATE billing.brand SET time_zone = 'XYZ-167'}, qr/unknown time zone "XYZ-167"/ ],
	[ q{UPDATE billing.schedule SET issue_delay = '-1 mon +30 days 1 hour'}, qr/issue delay .* is out of range/ ],
	[ q{UPDATE billing.document SET reference = repeat('r', 300)}, qr/document reference "r+\.\.\." is too long: 300 characters, the limit is 200/ ])
{
	my ($r, $o, $e) = $node->psql('postgres', $bad->[0]);
	like($e, $bad->[1], "0.2 refuses: $bad->[0]");
}

$node->stop;
done_testing();
