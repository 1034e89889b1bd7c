# test/t/003_upgrade.pl: a database on each released version (0.1, then
# 0.2), filled with the demo's story (drafts issued, a rerun, a
# confirmation), is upgraded with ALTER EXTENSION billing UPDATE (0.1 goes
# through 0.2).  Afterwards its catalog equals a fresh install of
# the current version (pg_dump --schema-only --binary-upgrade, which dumps the
# extension's own objects, normalized), every row of every table is still
# there with the same values, and runs still work.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use File::Basename qw(dirname);

my $story = dirname(__FILE__) . '/../demo/story.sql';
my $node = PostgreSQL::Test::Cluster->new('upgrade');
$node->init;
$node->append_conf('postgresql.conf', "timezone = 'UTC'\n");
$node->start;

my $current = $node->safe_psql('postgres',
	"SELECT default_version FROM pg_available_extensions WHERE name = 'billing'");
isnt($current, '0.1', "the current version ($current) is newer than 0.1");

$node->safe_psql('postgres', 'CREATE DATABASE fresh');
$node->safe_psql('fresh', 'CREATE EXTENSION billing');

my %columns;
for my $from ('0.1', '0.2')
{
$node->safe_psql('postgres', 'DROP DATABASE IF EXISTS upgraded');
$node->safe_psql('postgres', 'CREATE DATABASE upgraded');
$node->safe_psql('upgraded', "CREATE EXTENSION billing VERSION '$from'");
$node->command_ok([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('upgraded'),
	'-f', $story ], "the demo story loads into $from");
$node->safe_psql('upgraded', q{
	SET timezone = 'Asia/Tokyo';
	SELECT count(*) FROM billing.issue_drafts();
	INSERT INTO billing.document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference)
	SELECT b.id, 1, 'delivery_invoice', upper(billing.last_closed_period('monthly:20', current_date)) - 2,
	       15000, 0.10, 'C002-LATE'
	FROM billing.buyer b WHERE b.code = 'C002';
	SELECT billing.rerun_invoice_run('M20');
	SELECT count(*) FROM billing.confirm_invoices(ARRAY(
		SELECT i.id FROM billing.invoice i JOIN billing.buyer b ON b.id = i.buyer_id
		WHERE b.code = 'C001' ORDER BY i.id DESC LIMIT 1));
});
my $invoices = $node->safe_psql('upgraded', 'SELECT count(*) FROM billing.invoice');
cmp_ok($invoices, '>', 0, "$from issued $invoices invoices");

# until the update, 0.2's guard triggers (no arguments, the released
# symbol guard_records) still guard each table as 0.2 did (0.1 has none)
if ($from eq '0.2')
{
	my ($rc, $out, $err) = $node->psql('upgraded',
		'BEGIN; UPDATE billing.invoice SET total = total WHERE id = (SELECT min(id) FROM billing.invoice); ROLLBACK');
	like($err, qr/invoice \d+ cannot be changed: its amounts, period, buyer and documents are fixed/,
		"0.2 with this library: a hand update of an invoice is refused, naming it");
	($rc, $out, $err) = $node->psql('upgraded', 'BEGIN; TRUNCATE billing.document CASCADE; ROLLBACK');
	like($err, qr/TRUNCATE on billing.document refused: invoices keep referring to its rows/,
		"0.2 with this library: TRUNCATE of the documents is refused as a document's");
}

# every table's rows as one digest per table, over the columns $from has
%columns = ();
for my $row (split /\n/, $node->safe_psql('upgraded', q{
	SELECT c.relname, string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum)
	FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
	WHERE n.nspname = 'billing' AND c.relkind = 'r' GROUP BY c.relname ORDER BY c.relname}))
{
	my ($table, $cols) = split /\|/, $row, 2;
	$columns{$table} = $cols;
}
sub table_digests
{
	my %digest;
	for my $table (sort keys %columns)
	{
		$digest{$table} = $node->safe_psql('upgraded', qq{
			SELECT count(*) || ' rows, md5 ' || md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), ''))
			FROM (SELECT $columns{$table} FROM billing.$table) AS t});
	}
	my $sums = $node->safe_psql('upgraded', q{
		SELECT (SELECT sum(billing_balance) FROM billing.buyer) || ' / ' ||
		       (SELECT sum(total) FROM billing.invoice) || ' / ' ||
		       (SELECT sum(amount) FROM billing.document) || ' / ' ||
		       (SELECT string_agg(last_value::text, ',' ORDER BY sequencename)
		        FROM pg_sequences WHERE schemaname = 'billing')});
	return (\%digest, $sums);
}
my ($before, $sums_before) = table_digests();

$node->safe_psql('upgraded', 'ALTER EXTENSION billing UPDATE');
is($node->safe_psql('upgraded', "SELECT extversion FROM pg_extension WHERE extname = 'billing'"),
	$current, "ALTER EXTENSION billing UPDATE from $from reaches $current");

my ($after, $sums_after) = table_digests();
is($after->{$_}, $before->{$_}, "table $_ keeps every row: $before->{$_}") for sort keys %$before;
is($sums_after, $sums_before, "balances, totals, amounts and sequences are kept ($sums_before)");

# tax lines and links now carry their invoice's brand (for brand walls that
# read no other table), every one of them filled in by the update
is($node->safe_psql('upgraded', q{
	SELECT (SELECT count(*) FROM billing.document_link l JOIN billing.invoice i
	        ON i.buyer_id = l.buyer_id AND i.id = l.invoice_id AND i.brand_id = l.brand_id)
	     = (SELECT count(*) FROM billing.document_link)
	   AND (SELECT count(*) FROM billing.invoice_tax_line t JOIN billing.invoice i
	        ON i.buyer_id = t.buyer_id AND i.id = t.invoice_id AND i.brand_id = t.brand_id)
	     = (SELECT count(*) FROM billing.invoice_tax_line)
	   AND (SELECT count(*) FROM billing.document_link) > 0
	   AND NOT EXISTS (SELECT 1 FROM billing.verify())}), 't',
	"$from: every tax line and link has its invoice's brand after the update, and verify() is clean");

# the invoices $from confirmed are numbered, per brand and year of the
# invoice date in the order they were confirmed, and the counters start
# after them: a confirmation after the upgrade takes the next number
my $confirmed = $node->safe_psql('upgraded', q{SELECT count(*) FROM billing.invoice WHERE status = 'confirmed'});
cmp_ok($confirmed, '>', 0, "$from confirmed $confirmed invoices");
is($node->safe_psql('upgraded', q{
	SELECT count(*) FILTER (WHERE invoice_number IS DISTINCT FROM expected) || ' wrong, '
	       || count(*) FILTER (WHERE status <> 'confirmed' AND invoice_number IS NOT NULL) || ' unconfirmed numbered'
	FROM (SELECT i.status, i.invoice_number,
	             CASE WHEN i.status = 'confirmed' THEN br.code || '-' || extract(year FROM i.invoice_date) || '-'
	                  || lpad((row_number() OVER (PARTITION BY i.brand_id, i.status, extract(year FROM i.invoice_date)
	                                              ORDER BY i.confirmed_at, i.id))::text, 6, '0') END AS expected
	      FROM billing.invoice i JOIN billing.brand br ON br.id = i.brand_id) AS n}),
	'0 wrong, 0 unconfirmed numbered', "every invoice $from confirmed has its number, in confirmation order");
is($node->safe_psql('upgraded', q{
	SELECT count(*) FROM billing.invoice_series s
	WHERE s.last_number IS DISTINCT FROM (SELECT count(*) FROM billing.invoice i
	                                      WHERE i.brand_id = s.brand_id AND i.status = 'confirmed'
	                                        AND extract(year FROM i.invoice_date) = s.year)}),
	'0', 'each series counter stands at its last number given');

# The catalog: pg_dump in binary-upgrade mode writes every object of the
# extension; OIDs, pg_class fix-ups, sequence positions (data) and psql's
# \restrict keys differ between any two databases and are left out.
sub catalog
{
	my ($db) = @_;
	my ($stdout, $stderr);
	IPC::Run::run([ 'pg_dump', '--schema-only', '--binary-upgrade', '--no-owner', '-d', $node->connstr($db) ],
		'>', \$stdout, '2>', \$stderr) or die "pg_dump $db: $stderr";
	return join("\n", grep {
		!/^(--|SET |SELECT pg_catalog\.set_config|SELECT pg_catalog\.setval|\\(un)?restrict |WHERE oid = '\d+'|$)/
		  && !/binary_upgrade/
	} split /\n/, $stdout) . "\n";
}
my ($upgraded, $fresh) = (catalog('upgraded'), catalog('fresh'));
cmp_ok(length($fresh), '>', 10000, 'the dump holds the extension\'s objects');
if ($upgraded eq $fresh)
{
	pass('the upgraded catalog equals a fresh install');
}
else
{
	my $dir = PostgreSQL::Test::Utils::tempdir;
	PostgreSQL::Test::Utils::append_to_file("$dir/upgraded.sql", $upgraded);
	PostgreSQL::Test::Utils::append_to_file("$dir/fresh.sql", $fresh);
	my ($diff) = run_command([ 'diff', '-u', "$dir/fresh.sql", "$dir/upgraded.sql" ]);
	fail('the upgraded catalog equals a fresh install');
	diag($diff);
}
# what pg_dump keeps: the same tables and sequences are marked config
my $config = q{SELECT string_agg(c::regclass::text, ',' ORDER BY c::regclass::text)
	FROM pg_extension e, unnest(e.extconfig) AS c WHERE e.extname = 'billing'};
is($node->safe_psql('upgraded', $config), $node->safe_psql('fresh', $config),
	'the same tables and sequences are dumped with their rows');

# runs still work on the upgraded database: a late document is re-run, and
# the scheduled runs are not issued again
$node->safe_psql('upgraded', q{
	INSERT INTO billing.document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference)
	SELECT b.id, 1, 'delivery_invoice', upper(billing.last_closed_period('monthly:20', current_date)) - 3,
	       7000, 0.10, 'C001-AFTER-UPGRADE'
	FROM billing.buyer b WHERE b.code = 'C001'});
my $rerun = $node->safe_psql('upgraded', q{
	SET timezone = 'Asia/Tokyo';
	SELECT billing.rerun_invoice_run('M20') AS id \\gset
	SELECT r.status || ' ' || r.invoice_count || ' ' || r.document_count || ' ' || r.purchases_total
	FROM billing.invoice_run r WHERE r.id = :id});
is($rerun, 'completed 1 1 7000', 'a rerun after the upgrade bills the late document');
is($node->safe_psql('upgraded', 'SELECT count(*) FROM billing.issue_drafts()'), '0',
	'issue_drafts after the upgrade issues nothing again');
my $next = $node->safe_psql('upgraded', q{
	SET client_min_messages = warning;
	SELECT i.id AS draft, br.code || '-' || extract(year FROM i.invoice_date) || '-'
	       || lpad((1 + (SELECT count(*) FROM billing.invoice c
	                     WHERE c.brand_id = i.brand_id AND c.status = 'confirmed'
	                       AND extract(year FROM c.invoice_date) = extract(year FROM i.invoice_date)))::text,
	               6, '0') AS expected
	FROM billing.invoice i JOIN billing.brand br ON br.id = i.brand_id
	WHERE i.status = 'draft' AND i.document_count > 0 ORDER BY i.id LIMIT 1 \\gset
	SELECT c.invoice_number || ' ' || (c.invoice_number = :'expected')
	FROM billing.confirm_invoices(VARIADIC ARRAY[:draft]::bigint[]) AS c});
like($next, qr/^\S+ true$/, "a confirmation after the upgrade from $from takes the next number of its series ($next)");
}

# The DBA's grants on 0.2's API (the README's recipe) survive the update,
# also for the functions 0.3 re-signs (reordered arguments, VARIADIC ids,
# narrow results): the role may call the new signature, and no PUBLIC
# grant appears.
$node->safe_psql('postgres', 'CREATE DATABASE granted');
$node->safe_psql('postgres', 'CREATE ROLE recipe_app');
$node->safe_psql('granted', q{
	CREATE EXTENSION billing VERSION '0.2';
	GRANT EXECUTE ON FUNCTION billing.confirm_invoices(bigint[]), billing.quarantine_invoices(bigint[], text),
		billing.delete_drafts(bigint[]), billing.cancel_run(bigint, boolean),
		billing.rerun_invoice_run(text, text[], boolean, timestamptz, text),
		billing.issue_drafts(timestamptz, boolean) TO recipe_app;
	GRANT SELECT ON billing.document_link, billing.invoice_tax_line TO recipe_app;
	GRANT SELECT ON billing.document_link TO PUBLIC;
	ALTER EXTENSION billing UPDATE;
});
is($node->safe_psql('granted', q{
	SELECT string_agg(p.proname || ' ' || has_function_privilege('recipe_app', p.oid, 'EXECUTE')
	                  || ' ' || has_function_privilege('public', p.oid, 'EXECUTE'), ', ' ORDER BY p.proname)
	FROM pg_proc p WHERE p.pronamespace = 'billing'::regnamespace
	  AND p.proname IN ('confirm_invoices', 'quarantine_invoices', 'delete_drafts', 'cancel_run',
	                    'rerun_invoice_run', 'issue_drafts', 'reject_invoices')}),
	'cancel_run true false, confirm_invoices true false, delete_drafts true false, issue_drafts true false, '
	. 'quarantine_invoices true false, reject_invoices false false, rerun_invoice_run true false',
	'the DBA\'s EXECUTE grants follow the re-signed API functions; nothing is granted to PUBLIC');
# the links and tax lines became partitioned tables: the grants on 0.2's
# tables are the new parents' now, and their first partitions keep none
is($node->safe_psql('granted', q{
	SELECT string_agg(format('%s %s %s', t, has_table_privilege('recipe_app', t, 'SELECT'),
	                         has_table_privilege('public', t, 'SELECT')), ', ' ORDER BY t)
	FROM unnest(ARRAY['billing.document_link', 'billing.document_link_0',
	                  'billing.invoice_tax_line', 'billing.invoice_tax_line_0']) AS t}),
	'billing.document_link t t, billing.document_link_0 f f, '
	. 'billing.invoice_tax_line t f, billing.invoice_tax_line_0 f f',
	'the DBA\'s SELECT grants on the links and tax lines (also to PUBLIC) are their new parents\', not their first partitions\'');

$node->stop;
done_testing();
