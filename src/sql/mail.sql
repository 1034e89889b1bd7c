-- src/sql/mail.sql: the mail members get when a run ends, and the
-- mailer that sends it (src/mailer.c).  finish_run (runs.sql) queues one
-- row of billing.notification per member with the subject and body made
-- here; the mailer turns each row into a MIME message (notification_mail)
-- and sends it over SMTP.

-- billing_internal.mail_amount: an amount as a mail shows it, with thousands
-- separators and the currency's minor unit ("12,345", "1,234.50")
CREATE OR REPLACE FUNCTION billing_internal.mail_amount(amount numeric, scale integer) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
	SELECT CASE WHEN amount IS NULL THEN '-'
	            ELSE pg_catalog.btrim(pg_catalog.to_char(amount, 'FM999,999,999,999,999,990'
	                 OPERATOR(pg_catalog.||) CASE WHEN scale > 0
	                                              THEN '.' OPERATOR(pg_catalog.||) pg_catalog.repeat('0', scale)
	                                              ELSE '' END)) END;
END;
COMMENT ON FUNCTION billing_internal.mail_amount(numeric, integer) IS
	'an amount as the run mail shows it: thousands separators, the currency''s decimals; - for NULL';
REVOKE ALL ON FUNCTION billing_internal.mail_amount(numeric, integer) FROM PUBLIC;

-- billing_internal.run_mail: the subject and body of the mail about a run that has
-- ended (read by finish_run, in its transaction, once the run row says how
-- it ended).  Japanese, as the members read it: schedule, period, counts,
-- totals and the totals per tax rate, or the error of a failed run.
CREATE OR REPLACE FUNCTION billing_internal.run_mail(run_id bigint, OUT subject text, OUT body text)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	r billing.invoice_run;
	s billing.schedule;
	b billing.brand;
	kind text;
	outcome text;
	rates text;
BEGIN
	SELECT * INTO r FROM billing.invoice_run WHERE id = run_mail.run_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'invoice run % does not exist', run_id
			USING ERRCODE = 'undefined_object', HINT = 'Runs are listed by SELECT id FROM billing.invoice_run.';
	END IF;
	SELECT * INTO s FROM billing.schedule WHERE id = r.schedule_id;
	SELECT * INTO b FROM billing.brand WHERE id = r.brand_id;
	kind := CASE r.kind WHEN 'rerun' THEN '再実行' ELSE '定期実行' END;
	-- cancelled: a background rerun that found nothing to re-run (finish_run)
	outcome := CASE r.status WHEN 'completed' THEN '完了' WHEN 'failed' THEN '失敗'
	                         WHEN 'cancelled' THEN '対象なし' ELSE r.status END;
	subject := format('[請求] %s%s: %s %s〜%s', kind, outcome, s.code,
	                  lower(r.period), upper(r.period) - 1);
	body := format(E'%s（%s）の請求締め処理が%s。\n\n'
	               '実行: %s #%s（依頼: %s）\n'
	               'スケジュール: %s %s\n'
	               '対象期間: %s 〜 %s（締め日 %s）\n'
	               '請求日: %s\n'
	               '結果: %s\n',
	               b.name, b.code,
	               CASE r.status WHEN 'completed' THEN '完了しました' WHEN 'failed' THEN '失敗しました。請求書は作成されていません'
	                             WHEN 'cancelled' THEN '再実行する伝票がなく、請求書は作成されていません'
	                             ELSE '終了しました' END,
	               kind, r.id, r.requested_by, s.code, s.name,
	               lower(r.period), upper(r.period) - 1, r.cutoff_date, r.invoice_date, outcome);
	IF r.status = 'failed' THEN
		body := body || format(E'エラー: %s\n', coalesce(r.error, '-'));
	ELSE
		SELECT string_agg(format(E'  %s%%: 対象額 %s %s / 消費税 %s %s',
		                         trim_scale(t.tax_rate * 100),
		                         billing_internal.mail_amount(t.taxable, b.currency_scale), b.currency,
		                         billing_internal.mail_amount(t.tax, b.currency_scale), b.currency),
		                  E'\n' ORDER BY t.tax_rate DESC)
		INTO rates
		FROM (SELECT l.tax_rate, sum(l.taxable_amount) AS taxable, sum(l.tax) AS tax
		      FROM billing.invoice i
		      JOIN billing.invoice_tax_line l ON l.buyer_id = i.buyer_id AND l.invoice_id = i.id
		      WHERE i.run_id = r.id
		      GROUP BY l.tax_rate) AS t;
		body := body || format(E'\n請求先数: %s\n'
		                       '請求書（下書き）数: %s\n'
		                       '伝票数: %s\n'
		                       '今回御買上額: %s %s\n'
		                       '消費税額: %s %s\n'
		                       '今回御請求額: %s %s\n'
		                       '\n税率別の内訳:\n%s\n',
		                       coalesce(r.buyer_count, 0), coalesce(r.invoice_count, 0), coalesce(r.document_count, 0),
		                       billing_internal.mail_amount(r.purchases_total, b.currency_scale), b.currency,
		                       billing_internal.mail_amount(r.tax_total, b.currency_scale), b.currency,
		                       billing_internal.mail_amount(r.billed_total, b.currency_scale), b.currency,
		                       coalesce(rates, '  （なし）'));
	END IF;
	body := body || format(E'\n詳細: SELECT * FROM billing.run_report WHERE run = %s;\n', r.id);
END
$$;
COMMENT ON FUNCTION billing_internal.run_mail(bigint) IS
	'subject and body (Japanese) of the mail about an ended run: schedule, period, counts, totals per tax rate, or the error';
REVOKE ALL ON FUNCTION billing_internal.run_mail(bigint) FROM PUBLIC;

-- billing_internal.mail_header: a header value as RFC 2047 encoded-words when it is
-- not plain printable ASCII (which also keeps a line break out of the
-- header).  Eleven characters per word: at most 44 bytes of UTF-8, so each
-- word stays within the 75 characters RFC 2047 allows.  (OPERATOR() has
-- one precedence for all: every step is bracketed.)
CREATE OR REPLACE FUNCTION billing_internal.mail_header(value text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
	SELECT CASE WHEN value OPERATOR(pg_catalog.~) '^[ -~]*$' THEN value
	            ELSE (SELECT pg_catalog.string_agg('=?UTF-8?B?'
	                         OPERATOR(pg_catalog.||) pg_catalog.encode(pg_catalog.convert_to(
	                             pg_catalog.substr(value, 1 OPERATOR(pg_catalog.+) (11 OPERATOR(pg_catalog.*) g), 11), 'UTF8'), 'base64')
	                         OPERATOR(pg_catalog.||) '?=',
	                         E'\r\n ' ORDER BY g)
	                  FROM pg_catalog.generate_series(0, (pg_catalog.length(value) OPERATOR(pg_catalog.-) 1)
	                                                     OPERATOR(pg_catalog./) 11) AS g) END;
END;
COMMENT ON FUNCTION billing_internal.mail_header(text) IS
	'a mail header value: as it is when printable ASCII, else RFC 2047 UTF-8 base64 encoded-words folded by CRLF';
REVOKE ALL ON FUNCTION billing_internal.mail_header(text) FROM PUBLIC;

-- billing_internal.notification_mail: the whole message the mailer sends for a
-- notification, lines ended by CRLF.  The Message-ID is the notification's
-- own, so that a copy sent twice (README, "Mail") is recognisably the same.
CREATE OR REPLACE FUNCTION billing_internal.notification_mail(notification_id bigint, sender text, sent_at timestamptz)
RETURNS text LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	n billing.notification;
	member_name text;
	sender_name text;
	sender_address text;
	domain text;
	crlf constant text := E'\r\n';
BEGIN
	SELECT * INTO n FROM billing.notification WHERE id = notification_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'notification % does not exist', notification_id
			USING ERRCODE = 'undefined_object', HINT = 'SELECT id FROM billing.notification WHERE sent_at IS NULL lists the unsent ones.';
	END IF;
	IF sender IS NULL OR sender !~ '@' THEN
		RAISE EXCEPTION 'sender "%" is not a mail address', coalesce(sender, 'NULL')
			USING ERRCODE = 'invalid_parameter_value', HINT = 'Set billing.smtp_from to an address, or Name <address>.';
	END IF;
	SELECT m.name INTO member_name FROM billing.member m WHERE m.id = n.member_id;
	-- "Name <address>" or a bare address
	sender_address := coalesce(substring(sender FROM '<([^<>]+)>\s*$'), btrim(sender));
	sender_name := nullif(btrim(substring(sender FROM '^(.*)<[^<>]+>\s*$')), '');
	domain := coalesce(nullif(split_part(sender_address, '@', 2), ''), 'localhost');
	RETURN concat_ws(crlf,
		'From: ' || CASE WHEN sender_name IS NULL THEN sender_address
		                 ELSE billing_internal.mail_header(sender_name) || ' <' || sender_address || '>' END,
		'To: ' || CASE WHEN member_name IS NULL THEN n.email
		               ELSE billing_internal.mail_header(member_name) || ' <' || n.email || '>' END,
		'Subject: ' || billing_internal.mail_header(n.subject),
		'Date: ' || to_char(coalesce(notification_mail.sent_at, clock_timestamp()) AT TIME ZONE 'UTC',
		                    'Dy, DD Mon YYYY HH24:MI:SS') || ' +0000',
		format('Message-ID: <billing.notification.%s.%s@%s>', n.id,
		       (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = current_database()), domain),
		'MIME-Version: 1.0',
		'Content-Type: text/plain; charset=UTF-8',
		'Content-Transfer-Encoding: base64',
		'',
		replace(encode(convert_to(replace(replace(n.body, crlf, E'\n'), E'\n', crlf), 'UTF8'), 'base64'), E'\n', crlf),
		'');
END
$$;
COMMENT ON FUNCTION billing_internal.notification_mail(bigint, text, timestamptz) IS
	'the MIME message (UTF-8, RFC 2047 headers, base64 text/plain body, CRLF lines) the mailer sends for a notification';
REVOKE ALL ON FUNCTION billing_internal.notification_mail(bigint, text, timestamptz) FROM PUBLIC;

-- The mailer (src/mailer.c)
CREATE OR REPLACE FUNCTION billing.start_mailer() RETURNS integer
	AS 'MODULE_PATHNAME', 'billing_start_mailer' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION billing.start_mailer() IS
	'starts the mailer background worker of this database (or wakes the running one); returns its pid; an error while billing.smtp_url is unset';
REVOKE ALL ON FUNCTION billing.start_mailer() FROM PUBLIC;
CREATE OR REPLACE FUNCTION billing.stop_mailer() RETURNS boolean
	AS 'MODULE_PATHNAME', 'billing_stop_mailer' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION billing.stop_mailer() IS
	'stops the mailer of this database after its current attempt; false when none runs';
REVOKE ALL ON FUNCTION billing.stop_mailer() FROM PUBLIC;
CREATE OR REPLACE FUNCTION billing_internal.wake_mailer() RETURNS void
	AS 'MODULE_PATHNAME', 'billing_wake_mailer' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION billing_internal.wake_mailer() IS
	'internal: when this transaction commits, wakes the mailer, or starts it if none runs (nothing while billing.smtp_url is unset)';
REVOKE ALL ON FUNCTION billing_internal.wake_mailer() FROM PUBLIC;

CREATE OR REPLACE FUNCTION billing_internal.notification_queued() RETURNS trigger
	AS 'MODULE_PATHNAME', 'billing_notification_queued' LANGUAGE C;
COMMENT ON FUNCTION billing_internal.notification_queued() IS
	'trigger: a transaction that queues notifications wakes (or starts) the mailer when it commits';
REVOKE ALL ON FUNCTION billing_internal.notification_queued() FROM PUBLIC;
CREATE OR REPLACE TRIGGER notification_queued AFTER INSERT ON billing.notification
	FOR EACH STATEMENT EXECUTE FUNCTION billing_internal.notification_queued();
COMMENT ON TRIGGER notification_queued ON billing.notification IS
	'wakes the mailer when the queuing transaction commits';

-- billing.retry_notifications makes unsent notifications due again now,
-- with a fresh count of attempts: the ones the mailer gave up on, and those
-- 0.2 queued without a mailer.  Only the caller's brands; all or nothing.
CREATE OR REPLACE FUNCTION billing.retry_notifications(VARIADIC notification_ids bigint[]) RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	visible bigint[] := billing_internal.caller_brands();
	missing text;
	retried integer;
BEGIN
	SELECT string_agg(w.id::text, ', ' ORDER BY w.id) INTO missing
	FROM unnest(coalesce(notification_ids, '{}')) AS w(id)
	WHERE NOT EXISTS (SELECT 1 FROM billing.notification n JOIN billing.invoice_run r ON r.id = n.run_id
	                  WHERE n.id = w.id AND n.sent_at IS NULL
	                    AND (visible IS NULL OR r.brand_id = ANY (visible)));
	IF missing IS NOT NULL THEN
		RAISE EXCEPTION 'no unsent notification %', missing
			USING ERRCODE = 'undefined_object',
			      HINT = 'SELECT id, email, last_error FROM billing.notification WHERE sent_at IS NULL lists them.';
	END IF;
	UPDATE billing.notification n
	SET attempts = 0, next_attempt_at = clock_timestamp(), last_error = NULL
	WHERE n.id = ANY (notification_ids);
	GET DIAGNOSTICS retried = ROW_COUNT;
	PERFORM billing_internal.wake_mailer();
	RETURN retried;
END
$$;
COMMENT ON FUNCTION billing.retry_notifications(bigint[]) IS
	'makes unsent notifications (given up, or queued by 0.2) due now with a fresh count of attempts; returns how many';
REVOKE ALL ON FUNCTION billing.retry_notifications(bigint[]) FROM PUBLIC;
