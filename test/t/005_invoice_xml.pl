# test/t/005_invoice_xml.pl: every invoice of the regression stories (issue,
# run_actions, invoice_xml, run_steps; clerk_views makes none of its own) written by
# billing.run_xml() and held against OpenPeppol's official PINT JP 1.1.3
# rules with their own `validate` script (UBL 2.1 XSD + both schematron rule
# sets, Saxon-HE): every file must pass with 0 fatal.  A copy with a total
# changed by hand must fail, so the check cannot pass by not checking.
#
# The rules live outside the repository, in shared/pint-jp-1.1.3 beside the
# clone (../shared), or where BILLING_SHARED points.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use File::Basename qw(dirname);
use Cwd qw(abs_path);

my $root = abs_path(dirname(__FILE__) . '/../..');
my $shared = $ENV{BILLING_SHARED} // "$root/../shared";
my $validate = "$shared/pint-jp-1.1.3/validate";
BAIL_OUT("the PINT JP rules are missing: no $validate (put shared/ beside the repository, "
	  . "or set BILLING_SHARED to the folder that holds pint-jp-1.1.3/)")
  unless -x $validate;

my $node = PostgreSQL::Test::Cluster->new('invoice_xml');
$node->init;
$node->append_conf('postgresql.conf', "timezone = 'UTC'\nmax_worker_processes = 16\n");
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE stories');
$node->safe_psql('stories', 'CREATE EXTENSION billing');

# the regression stories, in their order (their output is checked by pg_regress)
for my $story (qw(test_setup issue run_actions invoice_xml run_steps))
{
	my ($stdout, $stderr);
	my $ok = $node->psql('stories', undef, stdout => \$stdout, stderr => \$stderr,
		extra_params => [ '-v', 'keep_suite_db=1', '-f', "$root/sql/$story.sql" ]);
	is($ok, 0, "story $story ran");
}

# Stories that run in a database of their own (issue, run_actions) keep it
# when keep_suite_db is set: their invoices are read there.
my @dbs = ('stories', split /\n/, $node->safe_psql('postgres',
	q{SELECT datname FROM pg_database WHERE datname IN ('billing_issue', 'billing_run_actions') ORDER BY 1}));
is(scalar(@dbs), 3, 'the stories of their own databases kept them');

# brands and buyers made after invoice_xml.sql filled the master data
$node->safe_psql($_, q{
	UPDATE billing.brand SET legal_name = name, registration_number = 'T' || lpad(id::text, 13, '9'),
	                         address_line = 'HQ ' || code, peppol_scheme = '0188', peppol_id = lpad(id::text, 13, '9')
	WHERE legal_name IS NULL;
	UPDATE billing.buyer SET address_line = 'HQ ' || code, peppol_scheme = '0188', peppol_id = lpad(id::text, 13, '8')
	WHERE peppol_id IS NULL;
}) for @dbs;

# Generate XML for all invoices, run by run
my $dir = PostgreSQL::Test::Utils::tempdir;
my @files;
my $expected = 0;
for my $db (@dbs)
{
my $runs = $node->safe_psql($db, 'SELECT id FROM billing.invoice_run ORDER BY id');
for my $run (split /\n/, $runs)
{
	my $ids = $node->safe_psql($db, "SELECT invoice_id FROM billing.run_xml($run) ORDER BY 1");
	for my $id (split /\n/, $ids)
	{
		my $xml = $node->safe_psql($db,
			"SELECT x.xml FROM billing.run_xml($run) AS x WHERE x.invoice_id = $id");
		my $file = "$dir/$db-invoice-$id.xml";
		open(my $fh, '>:raw', $file) or die "cannot write $file: $!";
		print $fh $xml, "\n";
		close $fh;
		push @files, $file;
	}
}
$expected += $node->safe_psql($db, q{
	SELECT count(*) FROM billing.invoice i
	WHERE i.status IN ('draft', 'quarantined', 'confirmed')
	  AND EXISTS (SELECT 1 FROM billing.document_link l
	              JOIN billing.document d ON d.buyer_id = l.buyer_id AND d.id = l.document_id
	              WHERE l.buyer_id = i.buyer_id AND l.invoice_id = i.id AND d.kind <> 'payment')});
}
is(scalar(@files), $expected, "run_xml wrote every invoice that has lines: $expected files");
cmp_ok(scalar(@files), '>=', 15, 'the stories give at least 15 invoices');

# a control: the first file with its amount due raised by 1 yen
my $bad = "$dir/tampered.xml";
{
	open(my $in, '<:raw', $files[0]) or die;
	local $/;
	my $text = <$in>;
	close $in;
	$text =~ s{(<cbc:TaxInclusiveAmount currencyID="JPY">)(-?\d+)}{$1 . ($2 + 1)}e
	  or die "no JPY TaxInclusiveAmount in $files[0]";
	open(my $out, '>:raw', $bad) or die;
	print $out $text;
	close $out;
}

# validate, in two halves side by side (about 4 s per file: two JVM starts)
my @all = (@files, $bad);
my @half = ([ @all[ grep { $_ % 2 == 0 } 0 .. $#all ] ], [ @all[ grep { $_ % 2 == 1 } 0 .. $#all ] ]);
my @pids;
for my $i (0, 1)
{
	my $pid = fork();
	die "fork: $!" unless defined $pid;
	if ($pid == 0)
	{
		open(STDOUT, '>', "$dir/validate-$i.log") or die;
		open(STDERR, '>&', \*STDOUT) or die;
		exec($validate, @{ $half[$i] }) or die "exec $validate: $!";
	}
	push @pids, $pid;
}
waitpid($_, 0) for @pids;
my $report = join('', map { slurp_file("$dir/validate-$_.log") } 0, 1);
note($report);

my @valid = ($report =~ /^valid: (.*)$/mg);
my @invalid = ($report =~ /^INVALID: (.*)$/mg);
is(scalar(@valid), scalar(@files), 'every generated invoice is valid under PINT JP 1.1.3 (0 fatal)');
is_deeply(\@invalid, [$bad], 'only the tampered copy is invalid');
like($report, qr/\[fatal\] ibr-co-15:/, 'the tampered copy breaks ibr-co-15 (total with tax)');
my @fatal = grep { !/ibr-co-1[56]/ } ($report =~ /^(.*\[fatal\].*)$/mg);
is(scalar(@fatal), 0, 'no other rule fails');

$node->stop;
done_testing();
