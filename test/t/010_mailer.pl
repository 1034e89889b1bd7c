# test/t/010_mailer.pl: members get the mail (issue 12, item 4).  A real
# SMTP server (aiosmtpd, test/mail/smtp_sink.py) on 127.0.0.1 takes the
# mails the mailer sends.  Checked: a scheduled run and a background rerun
# each mail the right members once, with the Japanese subject and the
# amounts readable once decoded; a failed run's mail gives its error; with
# the server down, mails are retried and arrive once it is back; a kill -9
# of the mailer before the server accepted the mail loses nothing and sends
# it once, and one after the server took the mail but before its 250 reply
# sends it twice with one Message-ID (SMTP's own window, README "Mail");
# one mailer per database; it logs in with the user and the password file,
# and the password is in no setting another role could read; an upgrade
# from 0.2 stops on two mails of one run to one member and keeps 0.2's
# unsent rows unsent.
use strict;
use utf8;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Encode qw(decode encode);
use MIME::Base64 qw(decode_base64);
use IPC::Run;

my $smtp_port = PostgreSQL::Test::Cluster::get_free_port();
my $maildir = "$PostgreSQL::Test::Utils::tmp_check/mailbox";
my $python = -x '/usr/bin/python3' ? '/usr/bin/python3' : 'python3';
my $sink;
my $sink_auth = 'billing:s3cret pass';

# start_sink / stop_sink: the SMTP server up or down
sub start_sink
{
	unlink "$maildir/ready";
	$sink = IPC::Run::start([ $python, 'test/mail/smtp_sink.py', $smtp_port, $maildir, $sink_auth ],
		'>', "$maildir.log", '2>>', "$maildir.log");
	for (1 .. 300)
	{
		return if -e "$maildir/ready";
		select(undef, undef, undef, 0.1);
	}
	die "the SMTP sink did not start: " . slurp_file("$maildir.log");
}

sub stop_sink
{
	$sink->signal('TERM');
	$sink->finish;
}

# decode_words: a header of RFC 2047 B encoded-words, each decoded on its
# own as the RFC has it, the bytes joined, then read as UTF-8
sub decode_words
{
	my ($value) = @_;
	my $bytes = '';
	while ($value =~ /=\?UTF-8\?B\?([^?]*)\?=|([^=\s][^\s]*)/gi)
	{
		$bytes .= defined $1 ? decode_base64($1) : encode('UTF-8', $2);
	}
	return decode('UTF-8', $bytes);
}

# mails: every message in the mailbox, decoded
sub mails
{
	my @mails;
	opendir(my $dh, $maildir) or die "$maildir: $!";
	for my $file (sort grep { /\.eml$/ } readdir($dh))
	{
		my $raw = slurp_file("$maildir/$file");
		my ($head, $body) = split /\r\n\r\n/, $raw, 2;
		$head =~ s/\r\n[ \t]+/ /g;    # unfold
		my %h;
		for my $line (split /\r\n/, $head)
		{
			$h{ lc $1 } = $2 if $line =~ /^([^:]+):\s*(.*)$/;
		}
		push @mails, {
			file => $file,
			to => $h{'x-envelope-to'},
			message_id => $h{'message-id'},
			subject => decode_words($h{subject}),
			content_type => $h{'content-type'},
			body => decode('UTF-8', decode_base64($body)) };
	}
	closedir($dh);
	return @mails;
}

# mails_to: the decoded mails of one notification (its Message-ID)
sub mails_of
{
	my ($notification) = @_;
	return grep { $_->{message_id} =~ /^<billing\.notification\.$notification\./ } mails();
}

mkdir $maildir;
start_sink();

my $node = PostgreSQL::Test::Cluster->new('mailer');
$node->init;
$node->append_conf('postgresql.conf', qq{
timezone = 'UTC'
restart_after_crash = on
billing.smtp_url = 'smtp://127.0.0.1:$smtp_port'
billing.smtp_from = '請求システム <billing\@acme.example>'
billing.smtp_tls = off
billing.smtp_timeout = 20
billing.mail_retry_interval = 1
billing.smtp_user = 'billing'
billing.smtp_password_file = '$PostgreSQL::Test::Utils::tmp_check/smtp_password'
});
# the password file: the server's OS user reads it, and no other
open(my $pw, '>', "$PostgreSQL::Test::Utils::tmp_check/smtp_password") or die $!;
print $pw "s3cret pass\n";
close($pw);
chmod 0600, "$PostgreSQL::Test::Utils::tmp_check/smtp_password";
$node->start;

$node->safe_psql('postgres', q{
	CREATE EXTENSION billing;
	INSERT INTO billing.brand (code, name) VALUES ('ACME', 'アクメ株式会社'), ('OTHER', 'Other KK');
	INSERT INTO billing.member (brand_id, code, name, email, notify_scheduled_runs) VALUES
		(1, 'sato', '佐藤 花子', 'sato@acme.example', true),
		(1, 'suzuki', '鈴木 一郎', 'suzuki@acme.example', false),
		(1, 'ito', '伊藤', 'ito@acme.example', false),
		(2, 'other', 'Other', 'someone@other.example', true);
	INSERT INTO billing.schedule (brand_id, code, name, cycle) VALUES (1, 'M20', '毎月20日締め', 'monthly:20');
	INSERT INTO billing.buyer (brand_id, code, name, schedule_id, schedule_applied_at)
	SELECT 1, 'B' || g, '買い手 ' || g, 1, '2026-10-01 10:00+09' FROM generate_series(1, 3) AS g;
	-- 8% and 10% deliveries in the period 2026-09-21 .. 2026-10-20
	INSERT INTO billing.document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference)
	SELECT b.id, 1, 'delivery_invoice', '2026-10-10'::date, 123456 * b.id, 0.10, 'S10-' || b.id FROM billing.buyer b
	UNION ALL
	SELECT b.id, 1, 'delivery_invoice', '2026-10-12'::date, 5432, 0.08, 'S08-' || b.id FROM billing.buyer b;
});

# one mailer per database, started on demand
my $pid = $node->safe_psql('postgres', 'SELECT billing.start_mailer()');
ok($pid > 0, 'start_mailer starts the mailer');
is($node->safe_psql('postgres', 'SELECT billing.start_mailer()'), $pid, 'a second start_mailer finds the same mailer');
is($node->safe_psql('postgres',
	q{SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'billing mailer' AND datname = 'postgres'}),
	'1', 'one mailer runs in the database');

# wait_sent: until the notifications of a run are all sent
sub wait_sent
{
	my ($run) = @_;
	$node->poll_query_until('postgres',
		qq{SELECT count(*) > 0 AND bool_and(sent_at IS NOT NULL) FROM billing.notification WHERE run_id = $run})
	  or die "the mails of run $run were not sent";
}

# late_document: one more delivery in the period, so that each rerun below
# has something to bill
my $late = 0;
sub late_document
{
	$late++;
	$node->safe_psql('postgres', qq{
		INSERT INTO billing.document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference)
		VALUES (1, 1, 'delivery_invoice', '2026-10-16', 1000, 0.10, 'LATE$late')});
}

# --- a scheduled run mails the members set to hear of scheduled runs
my $run = $node->safe_psql('postgres',
	q{SELECT run_id FROM billing.issue_drafts('2026-10-21 15:10+00')});
wait_sent($run);
my ($billed, $tax) = split /\|/, $node->safe_psql('postgres',
	qq{SELECT to_char(billed_total, 'FM999,999,999'), to_char(tax_total, 'FM999,999,999') FROM billing.invoice_run WHERE id = $run});
my ($n) = $node->safe_psql('postgres', qq{SELECT id FROM billing.notification WHERE run_id = $run});
my @got = mails_of($n);
is(scalar(@got), 1, 'the scheduled run sends one mail');
is($node->safe_psql('postgres', qq{SELECT string_agg(email, ',') FROM billing.notification WHERE run_id = $run}),
	'sato@acme.example', 'to the member set to hear of scheduled runs, and no other brand\'s');
is($got[0]{to}, 'sato@acme.example', 'the envelope names the member');
is($got[0]{subject}, '[請求] 定期実行完了: M20 2026-09-21〜2026-10-20', 'the subject decodes to the Japanese text');
like($got[0]{content_type}, qr{text/plain; charset=UTF-8}, 'a MIME UTF-8 text body');
like($got[0]{body}, qr/今回御請求額: \Q$billed\E JPY/, "the body gives the total $billed");
like($got[0]{body}, qr/消費税額: \Q$tax\E JPY/, "the body gives the tax $tax");
like($got[0]{body}, qr/10%: 対象額 740,736 JPY \/ 消費税 74,072 JPY/, 'the body gives the 10% rate');
like($got[0]{body}, qr/8%: 対象額 16,296 JPY \/ 消費税 1,302 JPY/, 'the body gives the 8% rate');
like($got[0]{body}, qr/請求先数: 3/, 'the body counts the buyers');

# --- a background rerun mails the members named on it
$node->safe_psql('postgres', q{
	INSERT INTO billing.document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference)
	SELECT b.id, 1, 'delivery_invoice', '2026-10-15', 20000, 0.10, 'LATE-' || b.id FROM billing.buyer b});
$run = $node->safe_psql('postgres',
	q{SELECT billing.rerun_invoice_run('M20', notify => '{suzuki,ito}', background => true, as_of => '2026-10-25 12:00+09')});
wait_sent($run);
is($node->safe_psql('postgres',
	qq{SELECT string_agg(email, ',' ORDER BY email) FROM billing.notification WHERE run_id = $run}),
	'ito@acme.example,suzuki@acme.example', 'the rerun notifies the members named on it');
for my $row (split /\n/, $node->safe_psql('postgres',
	qq{SELECT id || '|' || email FROM billing.notification WHERE run_id = $run ORDER BY id}))
{
	my ($id, $email) = split /\|/, $row;
	my @m = mails_of($id);
	is(scalar(@m), 1, "one rerun mail to $email");
	is($m[0]{to}, $email, "it goes to $email");
	is($m[0]{subject}, '[請求] 再実行完了: M20 2026-09-21〜2026-10-20', "$email reads the rerun's subject");
	like($m[0]{body}, qr/今回御請求額: 66,000 JPY/, "$email reads the rerun's total");
}

# --- a failed run's mail gives the error: a background rerun whose login
# role has lost LOGIN fails in the request
$node->safe_psql('postgres', q{CREATE ROLE clerk LOGIN SUPERUSER});
my $clerk = $node->background_psql('postgres', on_error_stop => 0, extra_params => [ '-U', 'clerk' ]);
$node->safe_psql('postgres', q{ALTER ROLE clerk NOLOGIN});
# (a background request returns its run's id and does not raise, even when
# the run fails at once: README "When a run fails")
late_document();
$clerk->query(
	q{SELECT billing.rerun_invoice_run('M20', notify => '{ito}', background => true, as_of => '2026-10-25 12:00+09')});
$clerk->quit;
$run = $node->safe_psql('postgres', q{SELECT max(id) FROM billing.invoice_run WHERE status = 'failed'});
wait_sent($run);
($n) = $node->safe_psql('postgres', qq{SELECT id FROM billing.notification WHERE run_id = $run});
@got = mails_of($n);
is($got[0]{subject}, '[請求] 再実行失敗: M20 2026-09-21〜2026-10-20', 'a failed run says so in the subject');
like($got[0]{body}, qr/エラー: .*not permitted to log in/, 'and gives the error in the body');

# --- the server is down: retried with backoff, delivered once it is back
stop_sink();
late_document();
$run = $node->safe_psql('postgres',
	q{SELECT billing.rerun_invoice_run('M20', notify => '{sato}', as_of => '2026-10-25 12:00+09')});
($n) = $node->safe_psql('postgres', qq{SELECT id FROM billing.notification WHERE run_id = $run});
$node->poll_query_until('postgres', qq{SELECT attempts >= 2 AND sent_at IS NULL AND last_error IS NOT NULL
	AND next_attempt_at > last_attempt_at FROM billing.notification WHERE id = $n})
  or die 'no retry';
pass('with the server down the mail is retried, its error and next attempt recorded');
note($node->safe_psql('postgres', qq{SELECT last_error FROM billing.notification WHERE id = $n}));
start_sink();
wait_sent($run);
is(scalar(mails_of($n)), 1, 'once the server is back the mail arrives, once');

# kill_mailer_while: the mailer killed (-9) while the sink stalls at a step;
# returns the notification id
sub kill_mailer_while
{
	my ($stall, $member, $wait_for_file) = @_;
	open(my $fh, '>', "$maildir/$stall") or die $!;
	close($fh);
	my $before = scalar(mails());
	late_document();
	my $r = $node->safe_psql('postgres',
		qq{SELECT billing.rerun_invoice_run('M20', notify => '{$member}', as_of => '2026-10-25 12:00+09')});
	my ($id) = $node->safe_psql('postgres', qq{SELECT id FROM billing.notification WHERE run_id = $r});
	$node->poll_query_until('postgres', qq{SELECT count(*) = 1 FROM pg_stat_activity
		WHERE backend_type = 'billing mailer' AND query LIKE 'billing mailer: sending notification $id %'})
	  or die 'the mailer did not start sending';
	if ($wait_for_file)
	{
		for (1 .. 300)
		{
			last if scalar(mails()) > $before;
			select(undef, undef, undef, 0.1);
		}
		is(scalar(mails()), $before + 1, 'the server holds the message, without its 250 reply yet');
	}
	my $mailer = $node->safe_psql('postgres',
		q{SELECT pid FROM pg_stat_activity WHERE backend_type = 'billing mailer'});
	kill 'KILL', $mailer;
	unlink "$maildir/$stall";
	# the postmaster restarts after the crash, and the mailer with it
	$node->poll_query_until('postgres', qq{SELECT sent_at IS NOT NULL FROM billing.notification WHERE id = $id})
	  or die "notification $id was not sent after the crash";
	return $id;
}

# --- kill -9 before the server accepted the mail: sent once, after a retry
$n = kill_mailer_while('stall_rcpt', 'ito', 0);
is(scalar(mails_of($n)), 1, 'a mail cut short by kill -9 before the server took it arrives once');
is($node->safe_psql('postgres', qq{SELECT attempts FROM billing.notification WHERE id = $n}), '2',
	'it took a second attempt');

# --- kill -9 after the server took the mail, before its 250 reply: SMTP's
# window; the copy comes again with the same Message-ID
$n = kill_mailer_while('stall_data', 'suzuki', 1);
@got = mails_of($n);
is(scalar(@got), 2, 'a mail the server took without answering 250 comes twice (the documented bound)');
is($got[0]{message_id}, $got[1]{message_id}, 'both copies carry one Message-ID');

is($node->safe_psql('postgres',
	q{SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'billing mailer'}),
	'1', 'after the crashes one mailer runs');
is($node->safe_psql('postgres', q{SELECT count(*) FROM billing.notification WHERE sent_at IS NULL}),
	'0', 'no mail is left unsent');

# --- the password is in no setting: a tenant sees where it is, not what
$node->safe_psql('postgres', q{CREATE ROLE tenant LOGIN; GRANT USAGE ON SCHEMA billing TO tenant});
my ($ret, $out, $err) = $node->psql('postgres', q{SELECT string_agg(setting, ' ') FROM pg_settings WHERE name LIKE 'billing.smtp%'},
	extra_params => [ '-U', 'tenant' ]);
unlike($out . $err, qr/s3cret/, 'no billing setting shows the password to a tenant');
($ret, $out, $err) = $node->psql('postgres', q{SELECT pg_read_file(current_setting('billing.smtp_password_file'))},
	extra_params => [ '-U', 'tenant' ]);
like($err, qr/permission denied for function pg_read_file/, 'a tenant cannot read the password file');
($ret, $out, $err) = $node->psql('postgres', q{SELECT billing.start_mailer()}, extra_params => [ '-U', 'tenant' ]);
like($err, qr/permission denied for function start_mailer/, 'a tenant cannot start the mailer');

# --- a password file others may read is refused, and the mail waits
chmod 0644, "$PostgreSQL::Test::Utils::tmp_check/smtp_password";
late_document();
$run = $node->safe_psql('postgres',
	q{SELECT billing.rerun_invoice_run('M20', notify => '{ito}', as_of => '2026-10-25 12:00+09')});
$node->poll_query_until('postgres', qq{SELECT last_error LIKE '%must be a plain file only its owner can read%'
	FROM billing.notification WHERE run_id = $run})
  or die 'the readable password file was used';
pass('a password file others may read is refused, and the mail kept for a retry');
chmod 0600, "$PostgreSQL::Test::Utils::tmp_check/smtp_password";
wait_sent($run);
pass('once the file is private again, the mail is sent');

# --- no smtp_url: the mailer is off, and says so when asked to start
($ret, $out, $err) = $node->psql('postgres', q{SET billing.smtp_url = ''; SELECT billing.start_mailer()});
like($err, qr/the billing mailer is disabled: billing.smtp_url is not set/, 'start_mailer says the mailer is disabled');

# --- the upgrade from 0.2: two mails of one run to one member stop it,
# listed; once corrected, 0.2's unsent rows are kept, not due, and say why
$node->safe_psql('postgres', 'CREATE DATABASE old02');
$node->safe_psql('old02', q{
	CREATE EXTENSION billing VERSION '0.2';
	SET billing.maintenance = on;
	INSERT INTO billing.brand (code, name) VALUES ('ACME', 'Acme');
	INSERT INTO billing.member (brand_id, code, name, email) VALUES (1, 'sato', 'Sato', 'sato@acme.example');
	INSERT INTO billing.schedule (brand_id, code, name, cycle) VALUES (1, 'M20', 'the 20th', 'monthly:20');
	INSERT INTO billing.invoice_run (brand_id, schedule_id, kind, period, cutoff_date, issue_at, as_of,
	                                 invoice_date, status)
	VALUES (1, 1, 'rerun', '[2026-10-21,2026-11-21)', '2026-11-20', now(), now(), '2026-11-20', 'completed');
	INSERT INTO billing.notification (run_id, member_id, email, subject, body)
	VALUES (1, 1, 'sato@acme.example', 'old', 'old'), (1, 1, 'sato@acme.example', 'old', 'old');
});
($ret, $out, $err) = $node->psql('old02', 'ALTER EXTENSION billing UPDATE');
like($err, qr/cannot upgrade billing to 0.3: 1 runs notify a member more than once.*notification 1: run 1, member 1 \(2 rows\)/s,
	'an upgrade meeting two mails of one run to one member stops, listing them');
is($node->safe_psql('old02', q{SELECT extversion FROM pg_extension WHERE extname = 'billing'}), '0.2',
	'and changes nothing');
$node->safe_psql('old02', q{SET billing.maintenance = on; DELETE FROM billing.notification WHERE id = 2;
	ALTER EXTENSION billing UPDATE});
is($node->safe_psql('old02', q{SELECT attempts || ' ' || coalesce(next_attempt_at::text, 'not due') || ' '
	|| (sent_at IS NULL) || ' ' || last_error FROM billing.notification}),
	'0 not due true written by billing 0.2, which had no mailer: not sent (billing.retry_notifications sends it)',
	'a row 0.2 queued is kept unsent and not due after the upgrade, saying why');

$node->stop;
stop_sink();
done_testing();
