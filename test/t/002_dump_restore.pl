# test/t/002_dump_restore.pl: pg_dump / pg_restore keep every row of every
# billing table, and sequences go on after their restored values.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('dump');
$node->init;
$node->start;

$node->safe_psql('postgres', q{
	CREATE DATABASE source;
});
$node->safe_psql('source', q{
	CREATE EXTENSION billing;
	INSERT INTO billing.brand (code, name) VALUES ('ACME', 'Acme');
	INSERT INTO billing.bank_account (brand_id, code, bank_name, account_number, account_holder)
	VALUES (1, 'MAIN', 'Bank', '123', 'Acme');
	INSERT INTO billing.member (brand_id, code, name, email, notify_scheduled_runs)
	VALUES (1, 'sato', 'Sato', 'sato@acme.example', true);
	INSERT INTO billing.schedule (brand_id, code, name, cycle, override_due_rule, due_rule)
	VALUES (1, 'M20', '20th', 'monthly:20', true, 'month+1:eom');
	INSERT INTO billing.buyer (brand_id, code, name, schedule_id, schedule_applied_at, default_bank_account_id, billing_balance)
	SELECT 1, 'B' || g, 'Buyer ' || g, 1, '2026-10-01', 1, 100 * g FROM generate_series(1, 5) AS g;
	INSERT INTO billing.document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference)
	SELECT b.id, 1, 'delivery_invoice', '2026-10-25'::date + g, 1000 + g, CASE WHEN g % 2 = 0 THEN 0.08 ELSE 0.10 END,
	       b.code || '-' || g
	FROM billing.buyer b, generate_series(1, 6) AS g;
	SELECT count(*) FROM billing.issue_drafts('2026-11-21 00:06+09');
	SELECT count(*) FROM billing.confirm_invoices(ARRAY[(SELECT min(id) FROM billing.invoice WHERE document_count > 0)]);
});

my $dump = $node->basedir . '/billing.dump';
$node->command_ok([ 'pg_dump', '-Fc', '-f', $dump, '-d', $node->connstr('source') ], 'pg_dump');
$node->safe_psql('postgres', 'CREATE DATABASE target');
$node->command_ok([ 'pg_restore', '-d', $node->connstr('target'), $dump ], 'pg_restore');

foreach my $table (qw(brand schedule bank_account buyer document invoice invoice_tax_line
	document_link invoice_run run_log member notification))
{
	my $sql = "SELECT count(*) || ' ' || coalesce(md5(string_agg(t::text, ',' ORDER BY t::text)), '') FROM billing.$table t";
	my $before = $node->safe_psql('source', $sql);
	my $after = $node->safe_psql('target', $sql);
	is($after, $before, "billing.$table restored row for row");
	unlike($before, qr/^0 /, "billing.$table had rows to restore");
}

$node->safe_psql('target', q{
	INSERT INTO billing.document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference)
	VALUES (1, 1, 'delivery_invoice', '2026-11-30', 5, 0.10, 'AFTER-RESTORE');
});
is($node->safe_psql('target', q{
	SELECT (SELECT id FROM billing.document WHERE reference = 'AFTER-RESTORE')
	       > (SELECT max(id) FROM billing.document WHERE reference <> 'AFTER-RESTORE')}),
	't', 'the document id sequence goes on after the restored ids');
is($node->safe_psql('target', q{SELECT count(*) FROM billing.issue_drafts('2026-11-21 00:06+09')}), '0',
	'issue_drafts after the restore issues nothing again');
is($node->safe_psql('target', q{SELECT billing_balance FROM billing.buyer WHERE id = (
	SELECT buyer_id FROM billing.invoice WHERE status = 'confirmed')} ),
	$node->safe_psql('source', q{SELECT billing_balance FROM billing.buyer WHERE id = (
	SELECT buyer_id FROM billing.invoice WHERE status = 'confirmed')}),
	'the confirmed balance survives');

$node->stop;
done_testing();
