# test/t/018_xml_same_bytes.pl: the XML written in C (src/invoice_xml.c) is
# byte for byte the XML of the xmlelement query it replaced (test/xml_reference.sql,
# billing.invoices_xml as it was at c172ca5), for every invoice of
#   - the regression stories: every suite of the Makefile's REGRESS but
#     uninstall, in one database, the suites that keep a database of their
#     own with keep_suite_db (issue, run_actions) read there too;
#   - the demo (test/demo/demo.sql);
#   - a hostile brand of its own: names and texts with & < > " ' tab,
#     newline, carriage return, emoji and blanks, an empty city, no bank
#     account, an IBAN of blanks, a branch without name, amounts in euros
#     to the cent, a 0% line, a negative delivery, a credit note, a
#     document without description, a payment, a balance-only draft, a
#     confirmed invoice whose buyer was renamed after, and a second brand.
# Each invoice alone (its md5, or its error: the same SQLSTATE and message
# for missing master data), each run's invoices in one call (rows, their
# order, buyer ids), and run_xml of each run against the reference's run
# (invoice, buyer code, bytes, order); once before the master data is
# filled in (many refusals) and once after.  (A set with several invoices
# lacking master data is refused naming the first by id; the reference
# named the one its plan met first: the same refusal, another id.)  Then as a role that sees one
# brand of two.  Any difference fails, with the invoices named.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use File::Basename qw(dirname);
use Cwd qw(abs_path);

my $root = abs_path(dirname(__FILE__) . '/../..');

my $node = PostgreSQL::Test::Cluster->new('xml_same_bytes');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'pg_cron'\n"
	  . "cron.database_name = 'billing_demo'\ncron.use_background_workers = on\n"
	  . "timezone = 'UTC'\nmax_worker_processes = 32\n");
$node->start;

# the stories
my ($regress) = (slurp_file("$root/Makefile") =~ /^REGRESS = (.*)$/m);
my @suites = grep { $_ ne 'uninstall' } split ' ', $regress;
$node->safe_psql('postgres', 'CREATE DATABASE stories');
$node->safe_psql('stories', 'CREATE EXTENSION billing');
for my $suite (@suites)
{
	my ($out, $err);
	$node->psql('stories', undef, stdout => \$out, stderr => \$err,
		extra_params => [ '-v', 'keep_suite_db=1', '-f', "$root/sql/$suite.sql" ]);
}

# the demo
$node->safe_psql('postgres', 'CREATE DATABASE billing_demo');
$node->safe_psql('billing_demo', 'CREATE EXTENSION pg_cron');
$node->safe_psql('billing_demo', 'CREATE EXTENSION billing');
{
	my ($out, $err);
	my $ok = $node->psql('billing_demo', undef, stdout => \$out, stderr => \$err,
		extra_params => [ '-f', "$root/test/demo/demo.sql" ]);
	is($ok, 0, 'the demo ran') or diag($err);
}

# the hostile brand
$node->safe_psql('postgres', 'CREATE DATABASE hostile');
$node->safe_psql('hostile', 'CREATE EXTENSION billing');
$node->safe_psql('hostile', q{
SET timezone = 'Asia/Tokyo';
INSERT INTO billing.brand (code, name, legal_name, registration_number, postal_code, prefecture, city,
                           address_line, peppol_scheme, peppol_id, currency, currency_scale)
VALUES ('HX', E'H&X <"Brand"> ''s\ttab', E'  H&X\r\n株式会社 😀  ', 'T1111111111111', ' 100-0005 ', NULL, '',
        E'A & B <1>\r\n丸の内', '0188', 'HX&<1>', 'EUR', 2),
       ('HY', 'Other brand', 'Other KK', 'T2222222222222', NULL, NULL, NULL, 'Elsewhere 1', '0188', '2222', 'JPY', 0);
INSERT INTO billing.bank_account (brand_id, code, bank_name, branch_name, account_number, account_holder, iban)
SELECT id, 'HX', E'Bank <&>', NULL, E'12\r34', E'Holder "x" & y', '   ' FROM billing.brand WHERE code = 'HX';
INSERT INTO billing.bank_account (brand_id, code, bank_name, branch_name, account_number, account_holder)
SELECT id, 'HY', 'Y Bank', ' ', '999', 'Y KK' FROM billing.brand WHERE code = 'HY';
INSERT INTO billing.schedule (brand_id, code, name, cycle, override_due_rule, due_rule)
SELECT id, code || '-EOM', 'month end', 'monthly:eom', true, 'month+1:eom' FROM billing.brand;
INSERT INTO billing.buyer (brand_id, code, name, schedule_id, schedule_applied_at, default_bank_account_id,
                           postal_code, prefecture, city, address_line, peppol_scheme, peppol_id)
SELECT br.id, v.code, v.name, s.id, '2026-09-01', CASE WHEN v.bank THEN ba.id END,
       v.postal, v.pref, v.city, v.street, '0188', v.endpoint
FROM billing.brand br JOIN billing.schedule s ON s.brand_id = br.id
JOIN billing.bank_account ba ON ba.brand_id = br.id
JOIN (VALUES ('HX', 'HX1', E'<Buyer> & "one"\t', true, '', E'大阪府\r', ' ', E'北浜 1 & 2', 'b&1'),
             ('HX', 'HX2', E'Buyer 😀 two', false, NULL, NULL, NULL, E'Street <2>', 'b2'),
             ('HX', 'HX3', 'Buyer three', true, '5410041', '大阪府', '大阪市', 'Street 3', 'b3'),
             ('HY', 'HY1', 'Y buyer', true, NULL, NULL, NULL, 'Y street', 'y1'))
     AS v(brand, code, name, bank, postal, pref, city, street, endpoint) ON v.brand = br.code;
INSERT INTO billing.document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference, description)
SELECT b.id, b.brand_id, v.kind, v.day::date, v.amount, v.rate, v.ref, v.descr
FROM billing.buyer b
JOIN (VALUES ('HX1', 'delivery_invoice', '2026-10-02', 1234.50, 0.10, 'HX1-<1>', E'Paper & <ink> "A4"\r\n'),
             ('HX1', 'delivery_invoice', '2026-10-02', 99.99, 0.08, 'HX1-2', NULL),
             ('HX1', 'delivery_invoice', '2026-10-03', 10.00, 0, 'HX1-3', '   '),
             ('HX1', 'delivery_invoice', '2026-10-04', -5.25, 0.10, 'HX1-4', E'\tadjust'),
             ('HX1', 'return_note', '2026-10-05', 12.34, 0.10, 'HX1-R', NULL),
             ('HX1', 'credit_note', '2026-10-06', 1.01, 0.08, 'HX1-C', ']]> &amp; 😀'),
             ('HX1', 'payment', '2026-10-07', 100, NULL, 'HX1-P', 'paid'),
             ('HX2', 'delivery_invoice', '2026-10-09', 0.01, 0, 'HX2-1', ''),
             ('HX3', 'delivery_invoice', '2026-10-10', 50, 0.10, 'HX3-1', 'three'),
             ('HY1', 'delivery_invoice', '2026-10-11', 700, 0.10, 'HY1-1', 'y'))
     AS v(code, kind, day, amount, rate, ref, descr) ON v.code = b.code;
SELECT billing.rerun_invoice_run(code || '-EOM', as_of => '2026-11-05 10:00+09', brand => code) FROM billing.brand ORDER BY code;
-- HX3 confirmed, then renamed and moved: its XML stays the confirmed one
SELECT count(*) FROM billing.confirm_invoices(VARIADIC ARRAY(
	SELECT i.id FROM billing.invoice i JOIN billing.buyer b ON b.id = i.buyer_id WHERE b.code = 'HX3'));
UPDATE billing.buyer SET name = 'Renamed <three>', address_line = 'Moved & gone' WHERE code = 'HX3';
-- a payment only: a balance-only draft in November
INSERT INTO billing.document (buyer_id, brand_id, kind, document_date, amount, reference)
SELECT id, brand_id, 'payment', '2026-11-03', 10, 'HX3-P' FROM billing.buyer WHERE code = 'HX3';
SELECT billing.rerun_invoice_run('HX-EOM', as_of => '2026-12-05 10:00+09', brand => 'HX');
});
is($node->safe_psql('hostile', 'SELECT count(*) FROM billing.invoice'), 5, 'the hostile brand has its invoices');

my @dbs = split /\n/, $node->safe_psql('postgres',
	q{SELECT datname FROM pg_database WHERE datname IN ('stories', 'billing_demo', 'hostile', 'billing_issue', 'billing_run_actions') ORDER BY 1});
is(scalar(@dbs), 5, 'five databases of invoices: ' . join(', ', @dbs));

my $reference = slurp_file("$root/test/xml_reference.sql");
my $compare = q{
CREATE OR REPLACE FUNCTION pg_temp.xml_of(invoice bigint, reference boolean) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	r text;
BEGIN
	IF reference THEN
		SELECT md5(x.xml::text) || ' ' || x.buyer_id INTO r FROM billing_internal.invoices_xml_reference(invoice) AS x;
	ELSE
		SELECT md5(x.xml::text) || ' ' || x.buyer_id INTO r FROM billing.invoices_xml(invoice) AS x;
	END IF;
	RETURN coalesce(r, 'no row');
EXCEPTION WHEN OTHERS THEN
	RETURN 'error ' || SQLSTATE || ': ' || SQLERRM;
END
$$;
CREATE OR REPLACE FUNCTION pg_temp.run_of(ids bigint[], reference boolean) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	r text;
BEGIN
	IF reference THEN
		SELECT count(*) || ' ' || md5(string_agg(x.invoice_id || ' ' || x.buyer_id || ' ' || x.xml::text, E'\n' ORDER BY n))
		INTO r FROM billing_internal.invoices_xml_reference(VARIADIC ids) WITH ORDINALITY AS x(invoice_id, buyer_id, xml, n);
	ELSE
		SELECT count(*) || ' ' || md5(string_agg(x.invoice_id || ' ' || x.buyer_id || ' ' || x.xml::text, E'\n' ORDER BY n))
		INTO r FROM billing.invoices_xml(VARIADIC ids) WITH ORDINALITY AS x(invoice_id, buyer_id, xml, n);
	END IF;
	RETURN r;
EXCEPTION WHEN OTHERS THEN
	RETURN 'error ' || SQLSTATE || ': ' || SQLERRM;
END
$$;
CREATE OR REPLACE FUNCTION pg_temp.run_xml_of(run bigint, reference boolean) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	r text;
BEGIN
	IF reference THEN
		-- run_xml as 0.3 wrote it: the reference's rows joined to the buyer, by invoice
		SELECT count(*) || ' ' || md5(string_agg(x.invoice_id || ' ' || x.buyer || ' ' || x.xml::text, E'\n' ORDER BY x.n))
		INTO r FROM (SELECT x.invoice_id, b.code AS buyer, x.xml, row_number() OVER (ORDER BY x.invoice_id) AS n
		             FROM billing_internal.invoices_xml_reference(VARIADIC ARRAY(
		                      SELECT i.id FROM billing.invoice i WHERE i.run_id = run
		                        AND i.status IN ('draft', 'quarantined', 'confirmed'))) AS x
		             JOIN billing.buyer b ON b.id = x.buyer_id) AS x;
	ELSE
		SELECT count(*) || ' ' || md5(string_agg(x.invoice_id || ' ' || x.buyer || ' ' || x.xml::text, E'\n' ORDER BY x.n))
		INTO r FROM billing.run_xml(run) WITH ORDINALITY AS x(invoice_id, buyer, xml, n);
	END IF;
	RETURN r;
EXCEPTION WHEN OTHERS THEN
	RETURN 'error ' || SQLSTATE || ': ' || SQLERRM;
END
$$;
CREATE TEMP TABLE cmp AS
SELECT 'invoice ' || i.id AS what, pg_temp.xml_of(i.id, false) AS c, pg_temp.xml_of(i.id, true) AS reference
FROM billing.invoice i
UNION ALL
SELECT 'run ' || r.id, pg_temp.run_of(ids, false), pg_temp.run_of(ids, true)
FROM billing.invoice_run r
CROSS JOIN LATERAL (SELECT ARRAY(SELECT i.id FROM billing.invoice i WHERE i.run_id = r.id ORDER BY i.id DESC)) AS a(ids)
UNION ALL
SELECT 'run_xml ' || r.id, pg_temp.run_xml_of(r.id, false), pg_temp.run_xml_of(r.id, true)
FROM billing.invoice_run r
UNION ALL
SELECT 'all', pg_temp.run_of(ARRAY(SELECT id FROM billing.invoice), false),
       pg_temp.run_of(ARRAY(SELECT id FROM billing.invoice), true);
-- Of a set with several invoices lacking master data, the reference named
-- the one its plan met first; the C names the first by id: for a set, the
-- same refusal naming another invoice is the same
ALTER TABLE cmp ADD COLUMN same boolean;
UPDATE cmp SET same = c IS NOT DISTINCT FROM reference
       OR (what NOT LIKE 'invoice %'
           AND c ~ '^error 22023: invoice [0-9]+ cannot be written as a qualified invoice: missing '
           AND reference ~ '^error 22023: invoice [0-9]+ cannot be written as a qualified invoice: missing ');
SELECT count(*) FILTER (WHERE NOT same) || ' '
       || count(*) FILTER (WHERE what LIKE 'invoice %' AND c LIKE 'error%') || ' '
       || count(*) FILTER (WHERE what LIKE 'invoice %' AND c NOT LIKE 'error%' AND c <> 'no row') || ' '
       || coalesce(string_agg(what || ': ' || c || ' <> ' || reference, '; ') FILTER (WHERE NOT same), '')
FROM cmp;
};

# the master data that the stories left out, filled in as 005_invoice_xml.pl does
my $fill = q{
UPDATE billing.brand SET legal_name = name, registration_number = 'T' || lpad(id::text, 13, '9'),
                         address_line = 'HQ ' || code, peppol_scheme = '0188', peppol_id = lpad(id::text, 13, '9')
WHERE legal_name IS NULL OR peppol_id IS NULL OR address_line IS NULL;
UPDATE billing.buyer SET address_line = 'HQ ' || code, peppol_scheme = '0188', peppol_id = lpad(id::text, 13, '8')
WHERE peppol_id IS NULL OR address_line IS NULL;
};

my ($written, $refused) = (0, 0);
for my $db (@dbs)
{
	$node->safe_psql($db, $reference);
	for my $when ('as the stories left it', 'with the master data filled in')
	{
		$node->safe_psql($db, $fill) if $when =~ /filled/;
		my $r = $node->safe_psql($db, $compare);
		my ($differ, $errors, $ok, $which) = split / /, $r, 4;
		is($differ, 0, "$db, $when: the same bytes, errors and rows as the reference ($ok invoices written, $errors refused)")
		  or diag($which);
		$written += $ok;
		$refused += $errors;
	}
}
cmp_ok($written, '>=', 100, "invoices compared: $written written");

# a control: a reference that writes one element's name otherwise must be
# told apart, so the comparison cannot pass by not comparing
(my $tampered = $reference) =~ s/"cbc:Note"/"cbc:NOTE"/ or die 'no cbc:Note in the reference';
$node->safe_psql('hostile', $tampered);
my ($tampered_differ) = split / /, $node->safe_psql('hostile', $compare);
cmp_ok($tampered_differ, '>', 0, "a reference with <cbc:NOTE> differs ($tampered_differ comparisons)");
$node->safe_psql('hostile', $reference);
cmp_ok($refused, '>=', 10, "refusals compared: $refused (missing master data, no lines, ...)");

# the escaping was exercised: the hostile brand's XML has what it escapes
my $hx = $node->safe_psql('hostile', q{
	SELECT string_agg(x.xml::text, '') FROM billing.invoices_xml(VARIADIC ARRAY(SELECT id FROM billing.invoice)) AS x});
like($hx, qr/H&amp;X &lt;"Brand"&gt;/, 'content: & < > escaped, quotes kept');
like($hx, qr/&#x0d;/, 'content: a carriage return as a character reference');
like($hx, qr/<cbc:EndpointID schemeID="0188">HX&amp;&lt;1&gt;<\/cbc:EndpointID>/, 'an endpoint escaped');
like($hx, qr/<cbc:PostalZone>100-0005<\/cbc:PostalZone><cac:Country>/, 'a blank city left out, a postal code trimmed');
like($hx, qr/<cbc:Name>Buyer three<\/cbc:Name>/, 'the confirmed invoice keeps the name it was confirmed with');
like($hx, qr/<cbc:Percent>0<\/cbc:Percent>/, 'a 0% line');
like($hx, qr/currencyID="EUR">1234\.50</, 'euros to the cent');

# a role that sees one brand of two gets the same rows as the reference
# gives it, and none of the other brand's
$node->safe_psql('hostile', q{
	CREATE ROLE hx_reader;
	GRANT USAGE ON SCHEMA billing, billing_internal TO hx_reader;
	GRANT SELECT ON ALL TABLES IN SCHEMA billing TO hx_reader;
	GRANT EXECUTE ON FUNCTION billing.invoices_xml, billing.run_xml,
		billing_internal.invoices_xml_reference TO hx_reader;
	SELECT billing.grant_brand('HY', 'hx_reader');
});
my $as_role = $node->safe_psql('hostile', q{
	SET ROLE hx_reader;
	SELECT (SELECT string_agg(x.invoice_id || ' ' || md5(x.xml::text), ',' ORDER BY x.invoice_id)
	        FROM billing.invoices_xml(VARIADIC ARRAY(SELECT generate_series(1, 100)::bigint)) AS x)
	       || ' = ' ||
	       (SELECT string_agg(x.invoice_id || ' ' || md5(x.xml::text), ',' ORDER BY x.invoice_id)
	        FROM billing_internal.invoices_xml_reference(VARIADIC ARRAY(SELECT generate_series(1, 100)::bigint)) AS x);
});
my ($mine, $theirs) = split / = /, $as_role;
is($mine, $theirs, 'a role of brand HY: the same rows as the reference');
is(scalar(split /,/, $mine), 1, 'one invoice: brand HY\'s only, none of HX\'s');

$node->stop;
done_testing();
