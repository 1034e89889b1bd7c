# test/t/009_upgrade_dangling.pl: 0.2 kept references by triggers that let
# a row name a missing parent while the parent's table was empty.  A 0.2
# database holding such rows is not upgraded to 0.3, whose foreign keys
# refuse them: ALTER EXTENSION billing UPDATE stops before changing anything
# and lists every such row, key by key.  Once they are corrected it
# upgrades, with every foreign key validated.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('dangling');
$node->init;
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION billing VERSION '0.2';
	INSERT INTO billing.brand (code, name) VALUES ('ONE', 'One KK');
	-- while no buyer exists, a document may name any buyer; while no bank
	-- account exists, a buyer may name any account
	INSERT INTO billing.document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference)
	VALUES (42, 1, 'delivery_invoice', '2026-10-01', 100, 0.10, 'ORPHAN');
	INSERT INTO billing.buyer (brand_id, code, name, default_bank_account_id) VALUES (1, 'B1', 'one', 7);
});
my $rows = q{SELECT (SELECT string_agg(buyer_id || ' ' || reference, ',') FROM billing.document) || ' / ' ||
	(SELECT string_agg(code || ' ' || default_bank_account_id, ',') FROM billing.buyer)};
my $before = $node->safe_psql('postgres', $rows);

my ($ret, $stdout, $stderr) = $node->psql('postgres', 'ALTER EXTENSION billing UPDATE');
isnt($ret, 0, 'the upgrade of a 0.2 database with dangling references fails');
like($stderr, qr/cannot upgrade billing to 0\.3: 2 rows refer to rows that do not exist/, 'the error counts them');
like($stderr, qr/buyer_bank_account_fkey: billing\.buyer \(brand_id, default_bank_account_id\) = \(1, 7\) is not in billing\.bank_account/,
	'it names the buyer\'s missing bank account');
like($stderr, qr/document_buyer_fkey: billing\.document \(buyer_id, brand_id\) = \(42, 1\) is not in billing\.buyer/,
	'it names the document\'s missing buyer');
like($stderr, qr/HINT:  Nothing was changed\./, 'the hint says nothing was changed and what to do');
is($node->safe_psql('postgres', "SELECT extversion FROM pg_extension WHERE extname = 'billing'"),
	'0.2', 'the extension is still 0.2');
is($node->safe_psql('postgres', $rows), $before, 'every row is as it was');

$node->safe_psql('postgres', q{
	DELETE FROM billing.document WHERE reference = 'ORPHAN';
	INSERT INTO billing.bank_account (id, brand_id, code, bank_name, account_number, account_holder)
	VALUES (7, 1, 'MAIN', 'Bank', '1', 'One KK');
	ALTER EXTENSION billing UPDATE;
});
isnt($node->safe_psql('postgres', "SELECT extversion FROM pg_extension WHERE extname = 'billing'"),
	'0.2', 'corrected, it upgrades');
is($node->safe_psql('postgres', q{SELECT count(*) FILTER (WHERE NOT convalidated) || ' of ' || count(*)
	FROM pg_constraint WHERE contype = 'f' AND connamespace = 'billing'::regnamespace}),
	'0 of ' . $node->safe_psql('postgres', q{SELECT count(*) FROM pg_constraint
	WHERE contype = 'f' AND connamespace = 'billing'::regnamespace}), 'every foreign key is validated');
my ($r, $o, $e) = $node->psql('postgres', q{INSERT INTO billing.document (buyer_id, brand_id, kind, document_date,
	amount, tax_rate, reference) VALUES (42, 1, 'delivery_invoice', '2026-10-01', 100, 0.10, 'ORPHAN')});
like($e, qr/violates foreign key constraint "document_buyer_fkey"/, '0.3 refuses a document of a missing buyer');

$node->stop;
done_testing();
