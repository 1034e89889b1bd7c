# test/t/013_readme_first_steps.pl: issue 13 item 4, "a test checks that
# every SQL block of the first-steps walk runs as written".  The ```sql
# blocks of README.md between <!-- first-steps --> and <!-- /first-steps -->
# are run in order, each with psql -v ON_ERROR_STOP=1, on a fresh cluster
# where CREATE EXTENSION billing ran (as the walk says).  Any error fails.
# Then the outcome the walk promises: the steps are all there in order, two
# confirmed invoices (the scheduled run's and the rerun's) with the amounts
# of the walk's documents, the XML's amount due, and billing.verify() clean.
# Written before the README had the walk, on which it failed (no markers).
use strict;
use warnings;
use Cwd qw(abs_path);
use File::Basename qw(dirname);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $readme = abs_path(dirname(__FILE__) . '/../..') . '/README.md';
my $text = slurp_file($readme);

my ($walk) = $text =~ /^<!-- first-steps -->\n(.*?)^<!-- \/first-steps -->$/ms;
ok(defined $walk, 'README.md has the first-steps markers');
$walk //= '';
my @blocks = $walk =~ /^```sql\n(.*?)^```$/msg;
cmp_ok(scalar @blocks, '>=', 9, 'the walk has a block per step (' . scalar(@blocks) . ')');
if (!@blocks) {
	done_testing();
	exit;
}

# each step of the walk, in the order the issue asks for
my @steps = ('INSERT INTO billing.brand', 'INSERT INTO billing.schedule',
	'INSERT INTO billing.buyer', 'INSERT INTO billing.document', 'billing.issue_drafts(',
	'billing.preview_run(', 'billing.rerun_invoice_run(', 'billing.confirm_invoices(',
	'billing.invoice_xml(');
my $at = 0;
my $in_order = 1;
for my $step (@steps) {
	my $i = index($walk, $step, $at);
	if ($i < 0) {
		diag("step not found after the previous one: $step");
		$in_order = 0;
		last;
	}
	$at = $i + length($step);
}
ok($in_order, 'brand, schedule, buyer, documents, issue, preview, rerun, confirm, XML, in that order');

my $node = PostgreSQL::Test::Cluster->new('readme');
$node->init;
$node->append_conf('postgresql.conf', "max_worker_processes = 16\n");
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE shop');
$node->safe_psql('shop', 'CREATE EXTENSION billing');

my $n = 0;
for my $sql (@blocks) {
	$n++;
	my ($ret, $out, $err) = (0, '', '');
	$ret = $node->psql('shop', $sql, stdout => \$out, stderr => \$err,
		on_error_stop => 1, extra_params => ['-X']);
	my $first = (split /\n/, $sql)[0];
	is($ret, 0, "block $n runs: $first");
	unlike($err, qr/ERROR|FATAL|PANIC/, "block $n: no error") or diag($err);
	note($out);
}

is($node->safe_psql('shop',
		q{SELECT string_agg(format('%s %s %s', id, status, total), ', ' ORDER BY id) FROM billing.invoice}),
	'1 confirmed 158500, 2 confirmed 22000',
	'the scheduled draft and the rerun draft are confirmed with the walk\'s amounts');
is($node->safe_psql('shop', q{SELECT billing_balance FROM billing.buyer WHERE code = 'C001'}),
	'180500', 'the buyer\'s balance is both invoices');
like($node->safe_psql('shop', q{SELECT string_agg(invoice_number, ', ' ORDER BY id) FROM billing.invoice}),
	qr/^ACME-\d{4}-000001, ACME-\d{4}-000002$/, 'the confirmed invoices have ACME\'s numbers 1 and 2');
like($node->safe_psql('shop', 'SELECT billing.invoice_xml(1)'),
	qr{<cbc:ID>ACME-\d{4}-000001</cbc:ID>}, 'the XML carries the invoice number');
like($node->safe_psql('shop', 'SELECT billing.invoice_xml(1)'),
	qr{<cbc:PayableAmount currencyID="JPY">158500</cbc:PayableAmount>}, 'the XML carries the amount due');
is($node->safe_psql('shop', 'SELECT count(*) FROM billing.verify()'), '0', 'billing.verify() finds nothing');

# an API error carries no CONTEXT frame of billing's own functions, at any
# verbosity; billing.internal_context = on shows them
my ($ret, $out, $err);
$node->psql('shop', "\\set VERBOSITY verbose\nSELECT billing.process_run(42);",
	stdout => \$out, stderr => \$err, extra_params => ['-X']);
like($err, qr/cannot process invoice run 42/, 'a mistake is an error');
unlike($err, qr/CONTEXT|billing_internal/, 'with VERBOSITY verbose, no internal frame') or diag($err);
$node->psql('shop', "SET billing.internal_context = on;\nSELECT billing.process_run(42);",
	stdout => \$out, stderr => \$err, extra_params => ['-X']);
like($err, qr/CONTEXT:.*billing_internal\.lock_run/s, 'billing.internal_context = on: the frames are shown') or diag($err);

$node->stop;
done_testing();
