# test/t/016_invoice_mail.pl: invoices mailed to their buyers (issue 15
# item 4).  A run's confirmed invoices are queued by billing.mail_invoices
# and sent by the mailer to a local SMTP sink (test/mail/smtp_sink.py).
# Each mail is read back with Python's email package, as a mail client
# would: its subject, sender and recipient, and two attachments named in
# UTF-8 (RFC 2231).  The PDF is the bytes invoice_pdf gives, passes
# `qpdf --check`, has its fonts embedded and shows the invoice number and
# amount due; the XML passes the official PINT JP 1.1.3 rules
# (../shared/pint-jp-1.1.3/validate, as test 008).  A second call mails
# nothing again and says so; invoice_list shows when each was mailed; a
# buyer without an address is named; another brand's role cannot mail this
# brand's run; missing master data stops the call before anything is queued.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use File::Basename qw(dirname);
use Cwd qw(abs_path);
use Digest::MD5 qw(md5_hex);

my $root = abs_path(dirname(__FILE__) . '/../..');
my $shared = $ENV{BILLING_SHARED} // "$root/../shared";
my $validate = "$shared/pint-jp-1.1.3/validate";
BAIL_OUT("the PINT JP rules are missing: no $validate (put shared/ beside the repository, "
	  . "or set BILLING_SHARED to the folder that holds pint-jp-1.1.3/)")
  unless -x $validate;

my $smtp_port = PostgreSQL::Test::Cluster::get_free_port();
my $maildir = "$PostgreSQL::Test::Utils::tmp_check/invoice_mailbox";
my $python = -x '/usr/bin/python3' ? '/usr/bin/python3' : 'python3';
mkdir $maildir;
my $sink = IPC::Run::start([ $python, "$root/test/mail/smtp_sink.py", $smtp_port, $maildir ],
	'>', "$maildir.log", '2>>', "$maildir.log");
for (1 .. 300)
{
	last if -e "$maildir/ready";
	select(undef, undef, undef, 0.1);
}
die "the SMTP sink did not start: " . slurp_file("$maildir.log") unless -e "$maildir/ready";

my $node = PostgreSQL::Test::Cluster->new('invoice_mail');
$node->init;
$node->append_conf('postgresql.conf', qq{
timezone = 'UTC'
billing.smtp_url = 'smtp://127.0.0.1:$smtp_port'
billing.smtp_from = '請求システム <billing\@pm.example>'
billing.smtp_tls = off
billing.mail_retry_interval = 1
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION billing');
$node->safe_psql('postgres', q{
SET timezone = 'Asia/Tokyo';
INSERT INTO billing.brand (code, name, legal_name, registration_number, postal_code, prefecture, city,
                           address_line, peppol_scheme, peppol_id)
VALUES ('PM', 'PM Trading', '株式会社ピーエム商事', 'T8010001000014', '1000005', '東京都', '千代田区',
        '丸の内3-3-3', '0188', '8010001000014'),
       ('PO', 'Other', '株式会社アザー', 'T8010001000022', '1000005', '東京都', '千代田区',
        '丸の内4-4-4', '0188', '8010001000022');
INSERT INTO billing.brand (code, name, legal_name, registration_number) VALUES ('PQ', 'No Peppol', '株式会社キュー', 'T8010001000030');
INSERT INTO billing.schedule (brand_id, code, name, cycle, override_due_rule, due_rule)
SELECT id, code || 'EOM', 'month end', 'monthly:eom', true, 'month+1:eom' FROM billing.brand;
INSERT INTO billing.bank_account (brand_id, code, bank_name, branch_name, account_number, account_holder)
SELECT id, code, 'みずほ銀行', '丸の内支店', '1111111', 'ピーエムショウジ(カ' FROM billing.brand;
INSERT INTO billing.buyer (brand_id, code, name, schedule_id, schedule_applied_at, default_bank_account_id,
                           address_line, peppol_scheme, peppol_id, invoice_email)
SELECT b.id, v.code, v.name, s.id, '2026-09-01 09:00', a.id, '大阪市北区梅田1-1', '0188', v.peppol, v.email
FROM billing.brand b JOIN billing.schedule s ON s.brand_id = b.id JOIN billing.bank_account a ON a.brand_id = b.id,
     (VALUES ('PM', 'PM1', '山田商店', '1120001000001', 'keiri@yamada.example'),
             ('PM', 'PM2', '鈴木工業株式会社', '1120001000002', 'invoice@suzuki.example'),
             ('PM', 'PM3', '田中食品', '1120001000003', NULL),
             ('PO', 'PO1', '他社の得意先', '1120001000004', 'po1@other.example'),
             ('PQ', 'PQ1', 'キューの得意先', '1120001000005', 'pq1@q.example')) AS v (brand, code, name, peppol, email)
WHERE b.code = v.brand;
INSERT INTO billing.document (buyer_id, kind, document_date, amount, tax_rate, reference, description)
SELECT b.id, d.kind, d.day, d.amount, d.rate, b.code || '-' || d.suffix, d.description
FROM billing.buyer b,
     (VALUES ('delivery_invoice', date '2026-10-05', 120000, 0.10, 'D1', 'コピー用紙'),
             ('delivery_invoice', date '2026-10-07', 54321, 0.08, 'D2', '弁当'),
             ('return_note', date '2026-10-09', 2000, 0.10, 'R1', NULL)) AS d (kind, day, amount, rate, suffix, description);
});
for my $brand (qw(PM PO PQ))
{
	$node->safe_psql('postgres',
		"SELECT billing.rerun_invoice_run('${brand}EOM', as_of => '2026-11-02 10:00+09', brand => '$brand')");
}
$node->safe_psql('postgres',
	'SELECT count(*) FROM billing.confirm_invoices(VARIADIC ARRAY(SELECT id FROM billing.invoice))');
my %run = map { split /\|/ } split /\n/, $node->safe_psql('postgres', q{
	SELECT br.code, r.id FROM billing.invoice_run r JOIN billing.brand br ON br.id = r.brand_id});
my %inv = map { split /\|/ } split /\n/, $node->safe_psql('postgres', q{
	SELECT b.code, i.id FROM billing.invoice i JOIN billing.buyer b ON b.id = i.buyer_id});

# the first call queues the two invoices whose buyers have an address
my $outcome = $node->safe_psql('postgres',
	"SELECT buyer, email, outcome FROM billing.mail_invoices($run{PM}) ORDER BY buyer");
is($outcome, "PM1|keiri\@yamada.example|queued\nPM2|invoice\@suzuki.example|queued\n"
	  . "PM3||no invoice e-mail address: not mailed", 'mail_invoices queues one mail per invoice, and names the buyer without an address');

# the mailer sends them
my $sent = 0;
for (1 .. 300)
{
	$sent = $node->safe_psql('postgres', 'SELECT count(*) FROM billing.invoice_mail WHERE sent_at IS NOT NULL');
	last if $sent == 2;
	select(undef, undef, undef, 0.1);
}
is($sent, 2, 'the mailer sent both')
  or diag($node->safe_psql('postgres', 'SELECT invoice_id, attempts, last_error FROM billing.invoice_mail'));

# each mail, as a mail client reads it
sub read_mails
{
	my $out = `$python - '$maildir' <<'PY'
import email, email.policy, pathlib, sys
for f in sorted(pathlib.Path(sys.argv[1]).glob('*.eml')):
    m = email.message_from_bytes(f.read_bytes(), policy=email.policy.default)
    files = []
    for part in m.iter_attachments():
        name = part.get_filename()
        path = f.with_suffix('.' + str(len(files)) + '.' + part.get_content_subtype())
        path.write_bytes(part.get_content() if isinstance(part.get_content(), bytes) else part.get_content().encode())
        files.append(part.get_content_type() + '=' + name + '=' + str(path))
    text = m.get_body(('plain',)).get_content()
    print('\\t'.join([f.name, str(m['X-Envelope-To']), str(m['To']), str(m['From']), str(m['Subject']),
                     m.get_content_type(), text.replace('\\n', '\\\\n')] + files))
PY`;
	die "reading the mails failed" if $?;
	return map { [ split /\t/ ] } split /\n/, $out;
}
my @mails = read_mails();
is(scalar(@mails), 2, 'two mails in the mailbox');

for my $buyer (qw(PM1 PM2))
{
	my $id = $inv{$buyer};
	my ($number, $name, $email, $total) = split /\|/, $node->safe_psql('postgres', qq{
		SELECT i.invoice_number, b.name, b.invoice_email, to_char(i.total, 'FM999,999,999') FROM billing.invoice i
		JOIN billing.buyer b ON b.id = i.buyer_id WHERE i.id = $id});
	my ($m) = grep { $_->[1] eq $email } @mails;
	ok($m, "$buyer: a mail to $email") or next;
	my ($file, $rcpt, $to, $from, $subject, $type, $text, @files) = @$m;
	is($type, 'multipart/mixed', "$buyer: multipart/mixed");
	is($to, "$name <$email>", "$buyer: To the buyer by name");
	is($from, '株式会社ピーエム商事 <billing@pm.example>', "$buyer: From the brand's legal name at the mailer's address");
	like($subject, qr/^【請求書】株式会社ピーエム商事 \Q$number\E/, "$buyer: a Japanese subject with the number");
	like($text, qr/\Q$name\E 御中/, "$buyer: the text is addressed to the buyer");
	like($text, qr/今回御請求額: \Q$total\E JPY/, "$buyer: and says the amount due");
	is(scalar(@files), 2, "$buyer: two attachments");
	my ($pdf) = grep { /^application\/pdf=/ } @files;
	my ($xml) = grep { /^application\/xml=/ } @files;
	my (undef, $pdf_name, $pdf_path) = split /=/, $pdf // '==';
	my (undef, $xml_name, $xml_path) = split /=/, $xml // '==';
	is($pdf_name, "請求書_$number.pdf", "$buyer: the PDF's file name, in UTF-8 (RFC 2231)");
	is($xml_name, "請求書_$number.xml", "$buyer: the XML's file name");

	my $bytes = slurp_file($pdf_path);
	my $expected = $node->safe_psql('postgres', "SELECT md5(billing.invoice_pdf($id))");
	is(md5_hex($bytes), $expected, "$buyer: the PDF is the bytes invoice_pdf gives");
	my $qpdf = `qpdf --check '$pdf_path' 2>&1`;
	is($? >> 8, 0, "$buyer: qpdf --check passes") or diag($qpdf);
	my @fonts = grep { defined && /\S/ } (split /\n/, `pdffonts '$pdf_path'`)[2 .. 100];
	ok(@fonts && !grep({ (split /\s+/)[-5] ne 'yes' } @fonts), "$buyer: every font embedded");
	my $pdftext = `pdftotext -layout '$pdf_path' -`;
	like($pdftext, qr/請求書番号: \Q$number\E/, "$buyer: the PDF shows the number");
	like($pdftext, qr/\s\Q$total\E\s*$/m, "$buyer: and the amount due");

	my $xml_text = slurp_file($xml_path);
	like($xml_text, qr/<cbc:ID>\Q$number\E<\/cbc:ID>/, "$buyer: the XML is the invoice's");
	my $report = `'$validate' '$xml_path' 2>&1`;
	is($? >> 8, 0, "$buyer: the XML passes the PINT JP 1.1.3 rules") or diag($report);
}

# invoice_list: when each was mailed
is($node->safe_psql('postgres', q{
	SELECT string_agg(buyer || ':' || (mailed_at IS NOT NULL), ' ' ORDER BY buyer)
	FROM billing.invoice_list WHERE brand = 'PM'}), 'PM1:true PM2:true PM3:false',
	'invoice_list shows when each invoice was mailed');

# a second call mails nothing again, and says so
$outcome = $node->safe_psql('postgres',
	"SELECT buyer, split_part(outcome, ' ', 1) || ' ' || split_part(outcome, ' ', 2) FROM billing.mail_invoices($run{PM}) ORDER BY buyer");
is($outcome, "PM1|already mailed\nPM2|already mailed\nPM3|no invoice", 'a second call reports what was already mailed');
is($node->safe_psql('postgres', 'SELECT count(*) FROM billing.invoice_mail'), '2', 'and queues nothing');
sleep 2;
is(scalar(read_mails()), 2, 'no mail is sent twice');

# a message that cannot be made fails that attempt, not the mailer: here the
# invoice is rejected by hand (a superuser, under the maintenance switch) in
# the transaction that queues it, so invoice_pdf refuses it; put back, the
# next attempt sends it
my ($number_po1) = $node->safe_psql('postgres', "SELECT invoice_number FROM billing.invoice WHERE id = $inv{PO1}");
is($node->safe_psql('postgres', qq{
	BEGIN;
	SELECT outcome FROM billing.mail_invoices($run{PO});
	SET LOCAL billing.maintenance = on;
	UPDATE billing.invoice SET status = 'rejected', invoice_number = NULL, status_reason = 'set aside by the test'
	WHERE id = $inv{PO1};
	COMMIT;}), 'queued', 'another run\'s invoice is queued');
my $err = '';
for (1 .. 300)
{
	$err = $node->safe_psql('postgres', "SELECT last_error FROM billing.invoice_mail WHERE invoice_id = $inv{PO1} AND attempts > 0 AND last_error NOT LIKE '%did not finish%'");
	last if $err ne '';
	select(undef, undef, undef, 0.1);
}
like($err, qr/^the message could not be made: invoice $inv{PO1} is rejected and has no PDF/,
	'a message that cannot be made is that attempt\'s error');
$node->safe_psql('postgres', qq{
	SET billing.maintenance = on;
	UPDATE billing.invoice SET status = 'confirmed', invoice_number = '$number_po1', status_reason = NULL
	WHERE id = $inv{PO1};});
$sent = 0;
for (1 .. 300)
{
	$sent = $node->safe_psql('postgres', "SELECT count(*) FROM billing.invoice_mail WHERE invoice_id = $inv{PO1} AND sent_at IS NOT NULL");
	last if $sent;
	select(undef, undef, undef, 0.1);
}
is($sent, '1', 'the mailer went on, and the next attempt sent it');
is(scalar(read_mails()), 3, 'one mail more in the mailbox');

# the adversary: another brand's role
$node->safe_psql('postgres', q{
	CREATE ROLE mail_po LOGIN;
	GRANT USAGE ON SCHEMA billing TO mail_po;
	GRANT EXECUTE ON FUNCTION billing.mail_invoices TO mail_po;
	SELECT billing.grant_brand('PO', 'mail_po');});
my ($ret, $stdout, $stderr) = $node->psql('postgres', "SET ROLE mail_po; SELECT * FROM billing.mail_invoices($run{PM})");
like($stderr, qr/invoice run $run{PM} does not exist/, 'another brand\'s run is as if it did not exist');
($ret, $stdout, $stderr) = $node->psql('postgres', "SET ROLE mail_po; SELECT * FROM billing.invoice_mail");
like($stderr, qr/permission denied for table invoice_mail/, 'and the mails are not its to read without the grant');
($ret, $stdout, $stderr) = $node->psql('postgres', "SET ROLE mail_po; SELECT billing_internal.pdf_mail_message($inv{PM1}, 'x\@y', now())");
like($stderr, qr/permission denied for function pdf_mail_message/, 'nor the messages to make');

# an address that is not one is refused where it is written
($ret, $stdout, $stderr) = $node->psql('postgres',
	"UPDATE billing.buyer SET invoice_email = 'keiri\@yamada.example, boss\@x.example' WHERE code = 'PM1'");
like($stderr, qr/buyer_invoice_email_format/, 'an invoice e-mail address is one address');

# missing master data stops the call before anything is queued
($ret, $stdout, $stderr) = $node->psql('postgres', "SELECT * FROM billing.mail_invoices($run{PQ})");
like($stderr, qr/invoice $inv{PQ1} cannot be written as a qualified invoice: missing .*brand\.address_line/,
	'an invoice whose XML cannot be written stops the call, naming what is missing');
is($node->safe_psql('postgres', "SELECT count(*) FROM billing.invoice_mail WHERE run_id = $run{PQ}"), '0',
	'and nothing of that run is queued');

$node->stop;
$sink->signal('TERM');
$sink->finish;
done_testing();
