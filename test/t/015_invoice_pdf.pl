# test/t/015_invoice_pdf.pl: the invoice on paper (issue 15), checked the
# way a user would check it, with Debian's PDF tools.  The test makes its
# own story: a JPY brand with a buyer whose invoice has every kind of line
# (10%, 8%, non-taxable, a return, a credit note, a payment and a carried
# balance), a buyer with 120 lines, a buyer with no bank account, a EUR
# brand (scale 2), another brand (the walls) and a brand without the master
# data a qualified invoice names.  Then:
# - every PDF of the runs passes `qpdf --check`, has every font embedded
#   (`pdffonts`), and `pdftotext -layout` shows the invoice number, the
#   buyer with 御中, the registration number, the six amounts of the summary
#   box in order, each per-rate line, each line's date, reference, amount and
#   rate, the due date and the bank account, equal to the rows in SQL;
# - the 120-line invoice has the pages its layout gives, each line on one
#   page in order, page numbers n/N, and the sums carried from page to page
#   add up to the lines above them;
# - a confirmed invoice's PDF is the same bytes in another session and after
#   its buyer and brand changed; a draft says DRAFT-<id>; run_pdf's bytes
#   are invoice_pdf's;
# - no thread is left in the backend, and a cancelled render leaves the
#   session able to render the same bytes again;
# - run_pdf renders a run of 200 invoices in parallel workers, in id order,
#   the bytes invoice_pdf gives, and a run of three in the session; a cancel
#   of a parallel run leaves no worker;
# - the adversary: another brand's role gets "does not exist" for this
#   brand's invoice and run, and cannot call the internal helpers; a
#   nonexistent id, NULL, a rejected invoice and missing master data are
#   refused clearly.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use MIME::Base64 qw(decode_base64);
use Digest::MD5 qw(md5_hex);

for my $tool (qw(qpdf pdffonts pdftotext pdfinfo))
{
	BAIL_OUT("$tool is missing (Debian packages qpdf, poppler-utils)")
	  unless grep { -x "$_/$tool" } split /:/, $ENV{PATH};
}

my $node = PostgreSQL::Test::Cluster->new('invoice_pdf');
$node->init;
$node->append_conf('postgresql.conf', "timezone = 'UTC'\nmax_worker_processes = 16\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION billing');

$node->safe_psql('postgres', q{
SET timezone = 'Asia/Tokyo';
INSERT INTO billing.brand (code, name, legal_name, registration_number, postal_code, prefecture, city,
                           address_line, peppol_scheme, peppol_id)
VALUES ('PJ', 'PJ Trading', '株式会社ピージェー商事', 'T5010001000017', '1000005', '東京都', '千代田区',
        '丸の内2-2-2 ピージェービル', '0188', '5010001000017'),
       ('PX', 'PX Other', '株式会社ピーエックス', 'T6010001000016', '5300001', '大阪府', '大阪市北区',
        '梅田3-3-3', '0188', '6010001000016');
INSERT INTO billing.brand (code, name, currency, currency_scale, legal_name, registration_number,
                           address_line, city, country, peppol_scheme, peppol_id)
VALUES ('PE', 'PE GmbH', 'EUR', 2, 'PE Handels GmbH', 'T7010001000025', 'Hauptstrasse 1', 'Berlin', 'DE',
        '0204', 'PE-1');
INSERT INTO billing.brand (code, name) VALUES ('PN', 'No master data');
INSERT INTO billing.schedule (brand_id, code, name, cycle, override_due_rule, due_rule)
SELECT id, code || 'EOM', 'month end', 'monthly:eom', true, 'month+1:eom' FROM billing.brand
WHERE code IN ('PJ', 'PX', 'PE', 'PN');
INSERT INTO billing.bank_account (brand_id, code, bank_name, branch_name, account_number, account_holder, iban)
SELECT id, code || '-MAIN', CASE code WHEN 'PE' THEN 'Deutsche Bank' ELSE 'みずほ銀行' END,
       CASE code WHEN 'PE' THEN NULL ELSE '丸の内支店' END, '7654321', 'ピージェーショウジ(カ',
       CASE code WHEN 'PE' THEN 'DE89370400440532013000' END
FROM billing.brand WHERE code IN ('PJ', 'PX', 'PE');
-- PJ1: every kind of line and a balance; PJ2: 120 lines; PJ3: no bank account
INSERT INTO billing.buyer (brand_id, code, name, schedule_id, schedule_applied_at, default_bank_account_id,
                           billing_balance, postal_code, prefecture, city, address_line)
SELECT b.id, v.code, v.name, s.id, '2026-09-01 09:00', CASE WHEN v.bank THEN a.id END, v.balance,
       '5410041', '大阪府', '大阪市中央区', '北浜1-1'
FROM billing.brand b JOIN billing.schedule s ON s.brand_id = b.id
LEFT JOIN billing.bank_account a ON a.brand_id = b.id,
     (VALUES ('PJ', 'PJ1', '山田商店', true, 11000), ('PJ', 'PJ2', '鈴木工業株式会社', true, 0),
             ('PJ', 'PJ3', '田中食品', false, 0), ('PX', 'PX1', '他社の得意先', true, 0),
             ('PE', 'PE1', 'Müller KG', true, 0), ('PN', 'PN1', '登録なしの得意先', false, 0))
     AS v (brand, code, name, bank, balance)
WHERE b.code = v.brand;
INSERT INTO billing.document (buyer_id, kind, document_date, amount, tax_rate, reference, description)
SELECT b.id, d.kind, d.day, d.amount, d.rate, d.ref, d.description
FROM billing.buyer b,
     (VALUES ('PJ1', 'delivery_invoice', date '2026-10-03', 120000, 0.10, 'PJ1-D1', 'コピー用紙 A4 (10箱)'),
             ('PJ1', 'delivery_invoice', date '2026-10-05', 54321, 0.08, 'PJ1-D2', '弁当・飲料'),
             ('PJ1', 'delivery_invoice', date '2026-10-07', 3000, 0, 'PJ1-D3', '収入印紙 (非課税)'),
             ('PJ1', 'return_note', date '2026-10-09', 2000, 0.10, 'PJ1-R1', NULL),
             ('PJ1', 'credit_note', date '2026-10-11', 1000, 0.08, 'PJ1-C1', '値引: 弁当'),
             ('PJ1', 'payment', date '2026-10-15', 5000, NULL, 'PJ1-P1', NULL),
             ('PJ3', 'delivery_invoice', date '2026-10-20', 8000, 0.10, 'PJ3-D1', 'トナー'),
             ('PX1', 'delivery_invoice', date '2026-10-20', 7000, 0.10, 'PX1-D1', '他社の品目'),
             ('PE1', 'delivery_invoice', date '2026-10-20', 1234.56, 0.10, 'PE1-D1', 'Widgets'),
             ('PE1', 'delivery_invoice', date '2026-10-21', 99.99, 0.08, 'PE1-D2', 'Coffee'),
             ('PE1', 'return_note', date '2026-10-22', 10.05, 0.10, 'PE1-R1', 'Widget returned'),
             ('PN1', 'delivery_invoice', date '2026-10-20', 5000, 0.10, 'PN1-D1', '品目'))
     AS d (buyer, kind, day, amount, rate, ref, description)
WHERE b.code = d.buyer;
-- 120 lines over the month; every tenth has a description that wraps to two rows
INSERT INTO billing.document (buyer_id, kind, document_date, amount, tax_rate, reference, description)
SELECT b.id, 'delivery_invoice', date '2026-10-01' + (g % 28), 1000 + g * 37,
       (ARRAY[0.10, 0.08, 0])[1 + g % 3], 'PJ2-' || lpad(g::text, 3, '0'),
       CASE WHEN g % 10 = 0 THEN '事務用品一式（ボールペン・ノート・クリップ・付箋・封筒・ファイル）第' || g || '回'
            ELSE '品目 ' || g END
FROM billing.buyer b, generate_series(1, 120) AS g WHERE b.code = 'PJ2';
});
for my $brand (qw(PJ PX PE PN))
{
	$node->safe_psql('postgres',
		"SELECT billing.rerun_invoice_run('${brand}EOM', as_of => '2026-11-02 10:00+09', brand => '$brand')");
}
$node->safe_psql('postgres', q{
SELECT count(*) FROM billing.confirm_invoices(VARIADIC ARRAY(
	SELECT i.id FROM billing.invoice i JOIN billing.buyer b ON b.id = i.buyer_id
	WHERE b.code IN ('PJ1', 'PJ2', 'PX1', 'PE1')));
});
my %inv = map { split /\|/ } split /\n/, $node->safe_psql('postgres', q{
	SELECT b.code, i.id FROM billing.invoice i JOIN billing.buyer b ON b.id = i.buyer_id});
my %run = map { split /\|/ } split /\n/, $node->safe_psql('postgres', q{
	SELECT br.code, r.id FROM billing.invoice_run r JOIN billing.brand br ON br.id = r.brand_id});

my $dir = PostgreSQL::Test::Utils::tempdir;

# the PDF of an invoice, through invoice_pdf, as a file
sub pdf_bytes
{
	my ($id, $db) = @_;
	my $b64 = $node->safe_psql($db // 'postgres',
		"SELECT translate(encode(billing.invoice_pdf($id), 'base64'), E'\\n', '')");
	return decode_base64($b64);
}

sub write_file
{
	my ($name, $bytes) = @_;
	my $file = "$dir/$name";
	open(my $fh, '>:raw', $file) or die "cannot write $file: $!";
	print $fh $bytes;
	close $fh;
	return $file;
}

# an amount as the PDF prints it: grouped by three, the scale's minor units
sub fmt
{
	my ($n, $scale) = @_;
	my $s = sprintf("%.${scale}f", $n);
	my ($sign, $int, $frac) = $s =~ /^(-?)(\d+)(\.\d+)?$/ or die "bad amount $n";
	1 while $int =~ s/^(\d+)(\d{3})/$1,$2/;
	return $sign . $int . ($frac // '');
}

sub text_of
{
	my ($file, $page) = @_;
	my @range = defined $page ? ('-f', $page, '-l', $page) : ();
	my $text = `pdftotext -layout @range '$file' -`;
	die "pdftotext failed on $file" if $?;
	return $text;
}

# Generate PDF for all invoices of the runs of PJ and PE
my %file;
for my $brand (qw(PJ PE))
{
	my $rows = $node->safe_psql('postgres',
		"SELECT invoice_id, translate(encode(pdf, 'base64'), E'\\n', '') FROM billing.run_pdf($run{$brand})");
	for my $row (split /\n/, $rows)
	{
		my ($id, $b64) = split /\|/, $row;
		$file{$id} = write_file("invoice-$id.pdf", decode_base64($b64));
	}
}
is(scalar(keys %file), 4, 'run_pdf wrote the four invoices of PJ and PE');

for my $id (sort { $a <=> $b } keys %file)
{
	my $f = $file{$id};
	my $qpdf = `qpdf --check '$f' 2>&1`;
	is($? >> 8, 0, "invoice $id: qpdf --check passes") or diag($qpdf);

	my @fonts = grep { defined && /\S/ } (split /\n/, `pdffonts '$f'`)[2 .. 100];
	ok(@fonts > 0, "invoice $id: pdffonts lists its fonts");
	my @not_embedded = grep { (split /\s+/)[-5] ne 'yes' } @fonts;
	is(scalar(@not_embedded), 0, "invoice $id: every font is embedded") or diag(join "\n", @not_embedded);

	my $text = text_of($f);
	my %h = split /\|/, $node->safe_psql('postgres', qq{
		SELECT 'number', coalesce(i.invoice_number, 'DRAFT-' || i.id), 'buyer', b.name,
		       'reg', br.registration_number, 'scale', br.currency_scale, 'currency', i.currency,
		       'due', to_char(i.due_date, 'YYYY"年"FMMM"月"FMDD"日"'),
		       'amounts', concat_ws(' ', l.previous_billed, l.deposit, l.carried_over, l.purchases, l.tax, l.total),
		       'bank', coalesce(a.bank_name || ' ' || a.branch_name || ' 普通 ' || a.account_number,
		                        a.bank_name || ' 普通 ' || a.account_number, '登録なし')
		FROM billing.invoice i JOIN billing.buyer b ON b.id = i.buyer_id
		JOIN billing.brand br ON br.id = i.brand_id
		JOIN billing.invoice_list l ON l.invoice = i.id
		LEFT JOIN billing.bank_account a ON a.id = i.bank_account_id
		WHERE i.id = $id});
	my $scale = $h{scale};
	like($text, qr/請求書番号: \Q$h{number}\E/, "invoice $id: its number $h{number}");
	like($text, qr/\Q$h{buyer}\E 御中/, "invoice $id: the buyer with 御中");
	like($text, qr/登録番号: \Q$h{reg}\E/, "invoice $id: the registration number");
	like($text, qr/お支払期限: \Q$h{due}\E/, "invoice $id: the due date");
	like($text, qr/振込先: \Q$h{bank}\E/, "invoice $id: the bank account");
	like($text, qr/（通貨: EUR）/, "invoice $id: the currency") if $h{currency} eq 'EUR';

	# the summary box: labels, then the six amounts of invoice_list in their order
	my @amounts = map { fmt($_, $scale) } split / /, $h{amounts};
	like($text, qr/前回御請求額\s+御入金額\s+繰越金額\s+今回御買上額\s+消費税額\s+今回御請求額/,
		"invoice $id: the summary box's labels");
	my $box = join('\s+', map { quotemeta } @amounts);
	like($text, qr/^\s*$box\s*$/m, "invoice $id: the summary box is invoice_list's (@amounts)");

	# the per-rate summary: the invoice's tax lines
	my $taxes = $node->safe_psql('postgres', qq{
		SELECT CASE WHEN tax_rate = 0 THEN '非課税' ELSE trim_scale(tax_rate * 100) || '%対象' END
		       || CASE WHEN tax_rate = 0.08 THEN '※' ELSE '' END, taxable_amount, tax
		FROM billing.invoice_tax_line WHERE invoice_id = $id ORDER BY tax_rate DESC});
	for my $t (split /\n/, $taxes)
	{
		my ($label, $taxable, $tax) = split /\|/, $t;
		my ($ft, $fx) = (fmt($taxable, $scale), fmt($tax, $scale));
		like($text, qr/^\s*\Q$label\E\s+\Q$ft\E\s+\Q$fx\E\s*$/m, "invoice $id: per-rate line $label $ft $fx");
	}

	# every line: date, reference, signed amount, rate
	my $lines = $node->safe_psql('postgres', qq{
		SELECT to_char(d.document_date, 'YYYY/MM/DD'), d.reference,
		       CASE d.kind WHEN 'delivery_invoice' THEN d.amount ELSE -d.amount END,
		       CASE WHEN d.tax_rate = 0 THEN '非課税' ELSE trim_scale(d.tax_rate * 100) || '%' END
		       || CASE WHEN d.tax_rate = 0.08 THEN '※' ELSE '' END
		FROM billing.document_link l JOIN billing.document d ON d.buyer_id = l.buyer_id AND d.id = l.document_id
		WHERE l.invoice_id = $id AND d.kind <> 'payment' ORDER BY d.document_date, d.id});
	my ($seen, $all) = (0, 0);
	for my $l (split /\n/, $lines)
	{
		my ($date, $ref, $amount, $rate) = split /\|/, $l;
		my $fa = fmt($amount, $scale);
		$all++;
		$seen++ if $text =~ /^\s*\Q$date\E\s+\Q$ref\E\s.*\s\Q$fa\E\s+\Q$rate\E\s*$/m;
		diag("invoice $id: line $date $ref $fa $rate not found") unless $text =~ /\Q$ref\E.*\Q$fa\E/;
	}
	is($seen, $all, "invoice $id: each of its $all lines with its date, reference, amount and rate");
	like($text, qr/※は軽減税率対象/, "invoice $id: the legend of ※") if $lines =~ /※/;
}

# the kinds of line: non-taxable, a return and a credit note are negative
my $pj1 = text_of($file{ $inv{PJ1} });
like($pj1, qr/^\s*非課税\s+3,000\s+0\s*$/m, 'PJ1: the non-taxable line in the per-rate summary');
like($pj1, qr/PJ1-R1\s+返品\s+返品 PJ1-R1\s+-2,000\s+10%/, 'PJ1: a return without description is named by kind and reference');
like($pj1, qr/PJ1-C1\s+値引\s+値引: 弁当\s+-1,000\s+8%※/, 'PJ1: a credit note, reduced rate, negative');
unlike($pj1, qr/PJ1-P1/, 'PJ1: the payment is no line (it is in 御入金額)');

# the 120-line invoice: its pages, each line on one page in order, the carried sums
{
	my $f = $file{ $inv{PJ2} };
	my ($pages) = `pdfinfo '$f'` =~ /^Pages:\s+(\d+)/m;
	# the layout: 36 rows on the first page, 50 on the others; a page that
	# is not the last keeps one row for 次頁へ繰越, one after the first for
	# 前頁より繰越; the last needs the subtotal and 9 rows below it (legend,
	# gap, per-rate header and 3 rates, gap, due date, 2 bank rows); every
	# tenth line takes two rows
	my @rows = map { $_ % 10 == 0 ? 2 : 1 } 1 .. 120;
	my ($expected, $i) = (0, 0);
	while (1)
	{
		my $cap = $expected == 0 ? 36 : 49;
		my $rest = 0;
		$rest += $rows[$_] for $i .. $#rows;
		$expected++;
		last if $rest + 10 <= $cap;
		my $used = 0;
		$used += $rows[$i++] while $i < @rows && $used + $rows[$i] <= $cap - 1;
	}
	is($pages, $expected, "the 120-line invoice has $expected pages");
	cmp_ok($pages, '>=', 3, 'and breaks across more than two');

	my $amounts = $node->safe_psql('postgres', qq{
		SELECT d.reference, d.amount FROM billing.document_link l
		JOIN billing.document d ON d.buyer_id = l.buyer_id AND d.id = l.document_id
		WHERE l.invoice_id = $inv{PJ2} ORDER BY d.document_date, d.id});
	my @refs = map { [ split /\|/ ] } split /\n/, $amounts;
	my ($next, $sum, $ok_order, $ok_carry) = (0, 0, 1, 1);
	for my $p (1 .. $pages)
	{
		my $text = text_of($f, $p);
		like($text, qr/^\s*$p\/$pages\s*$/m, "page $p shows $p/$pages");
		like($text, qr/請求書番号: \Q${\ $node->safe_psql('postgres', "SELECT invoice_number FROM billing.invoice WHERE id = $inv{PJ2}")}\E/,
			"page $p has the running header");
		if ($p > 1)
		{
			my ($carried) = $text =~ /前頁より繰越\s+(\S+)/;
			is($carried, fmt($sum, 0), "page $p starts with the sum carried from the pages before");
		}
		my @on_page = $text =~ /(PJ2-\d{3})/g;
		for my $r (@on_page)
		{
			$ok_order = 0 unless $next < @refs && $refs[$next][0] eq $r;
			$sum += $refs[$next++][1];
		}
		if ($p < $pages)
		{
			my ($carry) = $text =~ /次頁へ繰越\s+(\S+)/;
			is($carry, fmt($sum, 0), "page $p ends with the sum carried to the next");
		}
		else
		{
			my ($sub) = $text =~ /小計\s+(\S+)/;
			my $purchases = $node->safe_psql('postgres', "SELECT purchases FROM billing.invoice WHERE id = $inv{PJ2}");
			is($sub, fmt($purchases, 0), 'the last page\'s subtotal is the purchases (今回御買上額)');
		}
	}
	ok($ok_order, 'every line is on one page, in order');
	is($next, 120, 'all 120 lines are printed');
}

# reproducible: another session, and after the master data changed
my $md5 = md5_hex(pdf_bytes($inv{PJ1}));
is(md5_hex(pdf_bytes($inv{PJ1})), $md5, 'a confirmed invoice renders to the same bytes in another session');
my $from_run = md5_hex(do { local $/; open(my $fh, '<:raw', $file{ $inv{PJ1} }) or die; <$fh> });
is($from_run, $md5, 'run_pdf gives the bytes invoice_pdf gives');
$node->safe_psql('postgres', q{
	UPDATE billing.buyer SET name = '山田商店（新）', address_line = '北浜9-9' WHERE code = 'PJ1';
	UPDATE billing.brand SET legal_name = '株式会社ピージェー新商事', address_line = '大手町1-1' WHERE code = 'PJ';
	UPDATE billing.buyer SET name = '田中食品（新）' WHERE code = 'PJ3';});
is(md5_hex(pdf_bytes($inv{PJ1})), $md5,
	'the same bytes after its buyer and brand were renamed and moved (the versions it was confirmed with)');
my $draft = text_of(write_file('draft.pdf', pdf_bytes($inv{PJ3})));
like($draft, qr/請求書番号: DRAFT-$inv{PJ3}/, 'a draft is numbered DRAFT-<id>, as its XML');
like($draft, qr/田中食品（新） 御中/, 'a draft prints its buyer as it is now');
like($draft, qr/株式会社ピージェー新商事/, 'and its brand as it is now');
like($draft, qr/振込先: 登録なし/, 'a buyer without a bank account: "none registered"');
like(text_of(write_file('eur.pdf', pdf_bytes($inv{PE1}))), qr/1,234\.56/, 'EUR prints its minor units');

# a function that returns the SQLSTATE and message of a statement
$node->safe_psql('postgres', q{
CREATE FUNCTION public.err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE q;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;});

# backend safety: no thread left; a cancel in the middle of renders, then the same bytes
my $threads = $node->safe_psql('postgres', qq{
	SELECT length(billing.invoice_pdf($inv{PJ2})) > 0;
	SELECT (regexp_match(pg_read_file('/proc/self/status'), 'Threads:\\s+(\\d+)'))[1];});
is((split /\n/, $threads)[-1], '1', 'the backend runs one thread after rendering');
my ($after_cancel, $cancel_err);
$node->psql('postgres', qq{
	SET statement_timeout = '300ms';
	SELECT count(billing.invoice_pdf($inv{PJ2})) FROM generate_series(1, 100000);
	RESET statement_timeout;
	SELECT md5(billing.invoice_pdf($inv{PJ1}));
	SELECT (regexp_match(pg_read_file('/proc/self/status'), 'Threads:\\s+(\\d+)'))[1];},
	stdout => \$after_cancel, stderr => \$cancel_err, on_error_stop => 0);
my @ac = split /\n/, $after_cancel;
like($cancel_err, qr/canceling statement due to statement timeout/, 'a long run of renders is cancelled');
is($ac[0], $md5, 'the session then renders the same bytes');
is($ac[1], '1', 'and still runs one thread');

# both cores: run_pdf renders a run of many invoices in parallel workers (a
# Gather in its plan, workers launched), in id order, each PDF the bytes
# invoice_pdf gives (in the session), the same for a role of the brand; a
# run of three invoices is rendered by the session alone; a cancel in the
# middle of a parallel run leaves no worker behind and the same bytes after
$node->safe_psql('postgres', q{
SET timezone = 'Asia/Tokyo';
INSERT INTO billing.brand (code, name, legal_name, registration_number)
VALUES ('PP', 'PP Many', '株式会社ピーピー', 'T8010001000014');
INSERT INTO billing.schedule (brand_id, code, name, cycle, override_due_rule, due_rule)
SELECT id, 'PPEOM', 'month end', 'monthly:eom', true, 'month+1:eom' FROM billing.brand WHERE code = 'PP';
INSERT INTO billing.buyer (brand_id, code, name, schedule_id, schedule_applied_at)
SELECT b.id, 'PP' || g, '得意先' || g || '商会', s.id, '2026-09-01 09:00'
FROM billing.brand b JOIN billing.schedule s ON s.brand_id = b.id, generate_series(1, 200) AS g
WHERE b.code = 'PP';
INSERT INTO billing.document (buyer_id, kind, document_date, amount, tax_rate, reference, description)
SELECT bu.id, 'delivery_invoice', date '2026-10-01' + k, 1000 * k + bu.id % 97, (ARRAY[0.10, 0.08])[1 + k % 2],
       bu.code || '-' || k, '品目 ' || k
FROM billing.buyer bu JOIN billing.brand b ON b.id = bu.brand_id, generate_series(1, 3) AS k
WHERE b.code = 'PP';
SELECT billing.rerun_invoice_run('PPEOM', as_of => '2026-11-02 10:00+09', brand => 'PP');
SELECT count(*) FROM billing.confirm_invoices(VARIADIC ARRAY(
	SELECT i.id FROM billing.invoice i JOIN billing.buyer b ON b.id = i.buyer_id
	WHERE b.code LIKE 'PP%' AND i.id % 2 = 0));
ANALYZE billing.invoice, billing.buyer;
});
$run{PP} = $node->safe_psql('postgres',
	"SELECT r.id FROM billing.invoice_run r JOIN billing.brand b ON b.id = r.brand_id WHERE b.code = 'PP'");

# the plan of run_pdf's query, as auto_explain writes it (ANALYZE, no timing)
sub run_pdf_plan
{
	my ($run, $min_ms) = @_;
	my ($out, $err) = ('', '');
	$node->psql('postgres', qq{
		LOAD 'auto_explain';
		SET auto_explain.log_min_duration = $min_ms;
		SET auto_explain.log_nested_statements = on;
		SET auto_explain.log_analyze = on;
		SET auto_explain.log_timing = off;
		SET auto_explain.log_level = notice;
		SELECT count(*) FROM billing.run_pdf($run);},
		stdout => \$out, stderr => \$err, on_error_stop => 1);
	my ($plan) = grep { /^\s*SELECT r\.invoice_id/ } split /Query Text:/, $err;
	return $plan // "no plan of run_pdf's query in: $err";
}
my $plan = run_pdf_plan($run{PP}, 50);
like($plan, qr/Gather/, 'a run of 200 invoices is rendered under a Gather');
like($plan, qr/Workers Launched: [1-9]/, 'by parallel workers');
unlike(run_pdf_plan($run{PJ}, 0), qr/Gather/, 'a run of three invoices by the session alone');

my $pp_ids = $node->safe_psql('postgres', qq{
	SELECT string_agg(id::text, ',' ORDER BY id) FROM billing.invoice WHERE run_id = $run{PP}});
my $pp_md5 = $node->safe_psql('postgres', qq{
	SELECT md5(string_agg(md5(billing.invoice_pdf(id)), ',' ORDER BY id)) FROM billing.invoice WHERE run_id = $run{PP}});
my ($ids, $md5s) = split /\|/, $node->safe_psql('postgres', qq{
	SELECT string_agg(invoice_id::text, ','), md5(string_agg(md5(pdf), ',')) FROM billing.run_pdf($run{PP})});
is($ids, $pp_ids, 'the parallel run_pdf gives one row per invoice, in id order');
is($md5s, $pp_md5, 'each the bytes invoice_pdf gives in the session');
$node->safe_psql('postgres', q{
	CREATE ROLE pdf_pp LOGIN;
	GRANT USAGE ON SCHEMA billing TO pdf_pp;
	GRANT SELECT ON billing.invoice, billing.invoice_run, billing.brand, billing.buyer TO pdf_pp;
	GRANT EXECUTE ON FUNCTION billing.invoice_pdf, billing.run_pdf TO pdf_pp;
	SELECT billing.grant_brand('PP', 'pdf_pp');});
is($node->safe_psql('postgres', qq{
	SET ROLE pdf_pp; SELECT md5(string_agg(md5(pdf), ',')) FROM billing.run_pdf($run{PP})}),
	$pp_md5, 'the same rows for a role of the brand (its brands reach the workers)');

my ($after_pcancel, $pcancel_err);
$node->psql('postgres', qq{
	SET statement_timeout = '300ms';
	-- the run id depends on g, so each of the 50 calls renders anew (a
	-- function scan without outer references is read once, and a fast
	-- render of 200 invoices can end within the timeout)
	SELECT count(*) FROM generate_series(1, 50) AS g, LATERAL billing.run_pdf($run{PP} + 0 * g);
	RESET statement_timeout;
	SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'parallel worker';
	SELECT md5(string_agg(md5(pdf), ',')) FROM billing.run_pdf($run{PP});
	SELECT (regexp_match(pg_read_file('/proc/self/status'), 'Threads:\\s+(\\d+)'))[1];},
	stdout => \$after_pcancel, stderr => \$pcancel_err, on_error_stop => 0);
my @apc = split /\n/, $after_pcancel;
like($pcancel_err, qr/canceling statement due to statement timeout/, 'a parallel run_pdf is cancelled');
is($apc[0], '0', 'and leaves no parallel worker');
is($apc[1], $pp_md5, 'the session then renders the same bytes');
is($apc[2], '1', 'and still runs one thread');

# the adversary: another brand's role
$node->safe_psql('postgres', q{
	CREATE ROLE pdf_px LOGIN;
	GRANT USAGE ON SCHEMA billing TO pdf_px;
	GRANT SELECT ON billing.invoice, billing.invoice_run, billing.brand, billing.buyer TO pdf_px;
	GRANT EXECUTE ON FUNCTION billing.invoice_pdf, billing.run_pdf TO pdf_px;
	SELECT billing.grant_brand('PX', 'pdf_px');});
my $as_px = sub {
	my ($q) = @_;
	return $node->safe_psql('postgres', "SET ROLE pdf_px; SELECT public.err(\$q\$$q\$q\$)");
};
is($as_px->("SELECT billing.invoice_pdf($inv{PX1})"), 'ok', 'the other brand prints its own invoice');
is($as_px->("SELECT billing.invoice_pdf($inv{PJ1})"), "P0002: invoice $inv{PJ1} does not exist",
	'another brand\'s invoice is as if it did not exist');
is($as_px->("SELECT billing.invoice_pdf(-1)"), 'P0002: invoice -1 does not exist',
	'and says what a nonexistent id says');
is($as_px->("SELECT * FROM billing.run_pdf($run{PJ})"), "P0002: invoice run $run{PJ} does not exist",
	'another brand\'s run is as if it did not exist');
like($as_px->("SELECT billing_internal.pdf_render('{}')"), qr/^42501: permission denied for function pdf_render/,
	'the renderer is no caller\'s to call');
like($as_px->("SELECT * FROM billing_internal.pdf_invoice_data(ARRAY[$inv{PJ1}], NULL)"),
	qr/^42501: permission denied for function pdf_invoice_data/, 'nor the data it renders');
like($as_px->("SELECT billing_internal.pdf_invoice($inv{PJ1}, NULL)"),
	qr/^42501: permission denied for function pdf_invoice/, 'nor the per-invoice render run_pdf\'s workers call');
is($as_px->("SELECT * FROM billing.run_pdf($run{PP})"), "P0002: invoice run $run{PP} does not exist",
	'a run rendered in parallel is walled as well');

# refusals
is($node->safe_psql('postgres', 'SELECT billing.invoice_pdf(NULL) IS NULL'), 't', 'NULL gives NULL');
is($node->safe_psql('postgres', "SELECT public.err('SELECT billing.invoice_pdf($inv{PN1})')"),
	"22023: invoice $inv{PN1} cannot be printed as a qualified invoice: missing brand.legal_name, brand.registration_number",
	'missing master data is named, field by field');
$node->safe_psql('postgres', "SELECT count(*) FROM billing.reject_invoices('wrong buyer', VARIADIC ARRAY[$inv{PN1}]::bigint[])");
is($node->safe_psql('postgres', "SELECT public.err('SELECT billing.invoice_pdf($inv{PN1})')"),
	"55000: invoice $inv{PN1} is rejected and has no PDF", 'a rejected invoice has no PDF');
is($node->safe_psql('postgres', "SELECT count(*) FROM billing.run_pdf($run{PN})"), '0',
	'run_pdf leaves a rejected invoice out');

$node->stop;
done_testing();
