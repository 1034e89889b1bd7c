# test/t/008_upgrade_poisoned_0_2.pl: a 0.2 database holding rows that 0.3
# refuses (issue 11: a schedule applied in 4714 BC, in 2016 and in the
# future; document dates of infinity and 4714 BC; an amount of 9e131071; a
# tax rate of 0.1000000000000000000000000000001; a balance of 10^15) is not
# upgraded: ALTER EXTENSION billing UPDATE stops before changing anything
# and lists every such row.  Once they are corrected it upgrades, and the
# same values are refused from then on.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('poisoned_0_2');
$node->init;
$node->start;
$node->safe_psql('postgres', q{
	SET timezone = 'UTC';
	CREATE EXTENSION billing VERSION '0.2';
	INSERT INTO billing.brand (code, name) VALUES ('P', 'Poisoned KK');
	INSERT INTO billing.schedule (brand_id, code, name, cycle) VALUES (1, 'EOM', 'month end', 'monthly:eom');
	INSERT INTO billing.buyer (brand_id, code, name, schedule_id, schedule_applied_at, billing_balance) VALUES
		(1, 'B1', 'one', 1, '4714-12-01 00:00:00+00 BC', 0),
		(1, 'B2', 'two', 1, '2016-01-01 00:00:00+00', 0),
		(1, 'B3', 'three', 1, now() + interval '1 day', 1e15),
		(1, 'B4', 'four', 1, now() - interval '1 day', 0);
	INSERT INTO billing.document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference) VALUES
		(4, 1, 'delivery_invoice', 'infinity', 100, 0.10, 'D-INF'),
		(4, 1, 'delivery_invoice', '4714-11-24 BC', 100, 0.10, 'D-BC'),
		(4, 1, 'delivery_invoice', '2026-10-01', 9e131071, 0.10, 'D-BIG'),
		(4, 1, 'delivery_invoice', '2026-10-02', 100, 0.1000000000000000000000000000001, 'D-RATE'),
		(4, 1, 'delivery_invoice', '2026-10-03', 100, 0.10, 'D-OK');
});

my $rows = q{SELECT (SELECT string_agg(code || '=' || schedule_applied_at || '/' || billing_balance, ',' ORDER BY id) FROM billing.buyer)
	|| ' / ' || (SELECT string_agg(reference || '=' || document_date || '/' || left(amount::text, 20) || '/' || tax_rate, ',' ORDER BY id) FROM billing.document)};
my $before = $node->safe_psql('postgres', $rows);

my ($ret, $stdout, $stderr) = $node->psql('postgres', "ALTER EXTENSION billing UPDATE TO '0.3'");
isnt($ret, 0, 'the upgrade of a poisoned 0.2 database fails');
like($stderr, qr/cannot upgrade billing to 0\.3: 8 rows hold values that 0\.3 refuses/,
	'the error counts the rows 0.3 refuses');
like($stderr, qr/buyer B1: schedule applied at -?4714-12-01 .* BC, more than a year before schedule EOM was created/,
	'it names the application in 4714 BC');
like($stderr, qr/buyer B2: schedule applied at 2016-01-01 .*, more than a year before schedule EOM was created/,
	'it names the application in 2016');
like($stderr, qr/buyer B3: schedule applied at .*, in the future/, 'it names the application in the future');
like($stderr, qr/buyer B3: billing balance 1\.000000e\+15 is not below 10\^15 in magnitude/, 'it names the balance');
like($stderr, qr/document 1 \(delivery_invoice D-INF\): dated infinity/, 'it names the infinite date');
like($stderr, qr/document 2 \(delivery_invoice D-BC\): dated 4714-11-24 BC/, 'it names the date in 4714 BC');
like($stderr, qr/document 3 \(delivery_invoice D-BIG\): amount 9\.000000e\+131071 is not below 10\^15/,
	'it names the amount of 9e131071, shortly');
like($stderr, qr/document 4 \(delivery_invoice D-RATE\): tax rate 0\.1000000000000000000000000000001 has more than 4 decimal places/,
	'it names the tax rate');
unlike($stderr, qr/B4|D-OK/, 'it lists nothing else');
like($stderr, qr/HINT:  Nothing was changed\./, 'the hint says nothing was changed and what to do');
is($node->safe_psql('postgres', "SELECT extversion FROM pg_extension WHERE extname = 'billing'"),
	'0.2', 'the extension is still 0.2');
is($node->safe_psql('postgres', $rows), $before, 'every row is as it was');

# corrected: B1 and B3 applied now, B2's schedule in use since 2015 (the
# way to back-date on purpose), the documents dated and valued in range
$node->safe_psql('postgres', q{
	UPDATE billing.buyer SET schedule_applied_at = now() WHERE code IN ('B1', 'B3');
	UPDATE billing.schedule SET created_at = '2015-06-01 00:00:00+00';
	SET billing.maintenance = on;
	UPDATE billing.buyer SET billing_balance = 0 WHERE code = 'B3';
	RESET billing.maintenance;
	UPDATE billing.document SET document_date = '2026-10-04' WHERE reference IN ('D-INF', 'D-BC');
	UPDATE billing.document SET amount = 100 WHERE reference = 'D-BIG';
	UPDATE billing.document SET tax_rate = 0.10 WHERE reference = 'D-RATE';
	ALTER EXTENSION billing UPDATE TO '0.3';
});
is($node->safe_psql('postgres', "SELECT extversion FROM pg_extension WHERE extname = 'billing'"),
	'0.3', 'corrected, it upgrades');

# (a balance changes by hand only under the maintenance switch: see the records suite)
for my $bad (
	[ q{UPDATE billing.buyer SET schedule_applied_at = '4714-12-01 00:00:00+00 BC' WHERE code = 'B4'}, qr/schedule_applied_at .* of buyer "B4" is more than a year before billing schedule "EOM" was created/ ],
	[ q{UPDATE billing.buyer SET schedule_applied_at = now() + interval '1 day' WHERE code = 'B4'}, qr/of buyer "B4" is in the future/ ],
	[ q{SET billing.maintenance = on; UPDATE billing.buyer SET billing_balance = 1e15 WHERE code = 'B4'}, qr/billing balance of buyer "B4" would be 1000000000000000, beyond the largest amount/ ],
	[ q{UPDATE billing.document SET document_date = 'infinity' WHERE reference = 'D-OK'}, qr/document "D-OK" is dated infinity, outside the dates billing accepts/ ],
	[ q{UPDATE billing.document SET amount = 9e131071 WHERE reference = 'D-OK'}, qr/document "D-OK" has amount 9\.000000e\+131071, beyond the largest amount/ ],
	[ q{UPDATE billing.document SET tax_rate = 0.1000000000000000000000000000001 WHERE reference = 'D-OK'}, qr/document "D-OK" has tax rate 0\.1000000000000000000000000000001, with more than 4 decimal places/ ])
{
	my ($r, $o, $e) = $node->psql('postgres', $bad->[0]);
	like($e, $bad->[1], "0.3 refuses: $bad->[0]");
}

$node->stop;
done_testing();
