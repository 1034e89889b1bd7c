/*-------------------------------------------------------------------------
 * mailer.c
 *	  The mailer: a background worker that drains the outboxes
 *	  billing.notification (members' mails about runs) and
 *	  billing.invoice_mail (invoices to buyers, with the PDF and the XML)
 *	  over SMTP with libcurl, as pg_net drains its request queue over HTTP.
 *
 *	  It is a dynamic worker, so the extension needs no
 *	  shared_preload_libraries: billing.start_mailer() starts it, and it is
 *	  started (or woken) when a transaction that queued a notification, or
 *	  that ran issue_drafts (the pg_cron tick), commits.  A worker that
 *	  crashes is started again by the postmaster (bgw_restart_time); one
 *	  that is terminated, or finds billing.smtp_url unset, stops for good;
 *	  one with no mail left to send stops after MAILER_IDLE_MS (so that it
 *	  does not hold its database, e.g. against DROP DATABASE).
 *
 *	  One mailer per database: a starting mailer takes a lock on the
 *	  extension's own catalog object (which no other role can lock), looks
 *	  for a live mailer of its database in the backend status array and, if
 *	  there is none, marks itself as the mailer (application_name) before it
 *	  lets the lock go.
 *
 *	  Delivery: each attempt is claimed in a transaction of its own that is
 *	  committed (synchronously) before the mail goes to the SMTP server: the
 *	  attempt is counted, its next attempt set by exponential backoff and its
 *	  failure written beforehand ("did not finish").  The outcome is then
 *	  committed: sent_at, or the error.  A crash between the two leaves the
 *	  row due again after the backoff, so a mail is never lost; it is sent
 *	  twice only when the crash falls after the message's end went to the
 *	  server and before the commit of sent_at, SMTP's own window for a
 *	  duplicate (README, "Mail").
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include <curl/curl.h>
#include <signal.h>
#include <sys/stat.h>

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/indexing.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lmgr.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "tcop/tcopprot.h"
#include "utils/backend_status.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/wait_event.h"

#include "guard.h"
#include "mailer.h"
#include "search_path.h"
#include "spi_util.h"
#include "worker.h"

PG_FUNCTION_INFO_V1(billing_start_mailer);
PG_FUNCTION_INFO_V1(billing_stop_mailer);
PG_FUNCTION_INFO_V1(billing_wake_mailer);
PG_FUNCTION_INFO_V1(billing_notification_queued);
PGDLLEXPORT void billing_mailer_main(Datum main_arg);

/* what the live mailer of a database calls itself in pg_stat_activity */
#define MAILER_APPNAME "billing mailer"
#define MAILER_TYPE "billing mailer"
/* a mailer with nothing left to send stops after this long */
#define MAILER_IDLE_MS 10000L

/* settings */
static char *smtp_url = NULL;
static char *smtp_from = NULL;
static char *smtp_user = NULL;
static char *smtp_password_file = NULL;
static int	smtp_tls = CURLUSESSL_ALL;
static int	smtp_timeout = 60;
static int	mail_retry_interval = 60;
static int	mail_max_attempts = 10;

static const struct config_enum_entry smtp_tls_options[] = {
	{"starttls", CURLUSESSL_ALL, false},
	{"try", CURLUSESSL_TRY, false},
	{"off", CURLUSESSL_NONE, false},
	{NULL, 0, false}
};

/* the mailer's arguments, in bgw_extra */
typedef struct MailerArgs
{
	Oid			database_oid;
	Oid			owner_oid;		/* the extension's owner: the mailer runs as it */
} MailerArgs;

StaticAssertDecl(sizeof(MailerArgs) <= BGW_EXTRALEN, "MailerArgs must fit in bgw_extra");

static bool
setting_is_set(const char *value)
{
	return value != NULL && value[0] != '\0';
}

/*
 * check_smtp_url accepts smtp:// and smtps:// URLs without a password:
 * the URL is readable by every role, the password goes in
 * billing.smtp_password_file.
 */
static bool
check_smtp_url(char **newval, void **extra, GucSource source)
{
	const char *url = *newval;
	const char *rest;
	const char *at;
	const char *slash;
	const char *colon;

	if (!setting_is_set(url))
		return true;
	if (pg_strncasecmp(url, "smtp://", 7) == 0)
		rest = url + 7;
	else if (pg_strncasecmp(url, "smtps://", 8) == 0)
		rest = url + 8;
	else
	{
		GUC_check_errmsg("billing.smtp_url \"%s\" is not an smtp:// or smtps:// URL", url);
		GUC_check_errhint("For example smtp://mail.example.com:587 (STARTTLS, see billing.smtp_tls) or smtps://mail.example.com:465.");
		return false;
	}
	slash = strchr(rest, '/');
	at = strchr(rest, '@');
	colon = strchr(rest, ':');
	if (at && (!slash || at < slash) && colon && colon < at)
	{
		GUC_check_errmsg("billing.smtp_url must not hold a password");
		GUC_check_errdetail("Every role can read billing.smtp_url.");
		GUC_check_errhint("Set billing.smtp_user and billing.smtp_password_file instead.");
		return false;
	}
	return true;
}

/*
 * check_smtp_from accepts an address or "Name <address>" on one line: it
 * becomes the From header and the SMTP envelope sender.
 */
static bool
check_smtp_from(char **newval, void **extra, GucSource source)
{
	const char *from = *newval;

	if (!setting_is_set(from))
		return true;
	if (strchr(from, '@') == NULL || strpbrk(from, "\r\n") != NULL)
	{
		GUC_check_errmsg("billing.smtp_from \"%s\" is not a mail address", from);
		GUC_check_errhint("For example billing@example.com or 請求システム <billing@example.com>.");
		return false;
	}
	return true;
}

/* billing_define_mail_gucs registers the mailer's settings */
void
billing_define_mail_gucs(void)
{
	DefineCustomStringVariable("billing.smtp_url",
							   "SMTP server the billing mailer sends notifications through; empty: no mail.",
							   "smtp://host:587 (with STARTTLS by billing.smtp_tls) or smtps://host:465.",
							   &smtp_url, "", PGC_SUSET, 0,
							   check_smtp_url, NULL, NULL);
	DefineCustomStringVariable("billing.smtp_from",
							   "Sender of the billing mails: an address, or Name <address>.",
							   NULL,
							   &smtp_from, "", PGC_SUSET, 0,
							   check_smtp_from, NULL, NULL);
	DefineCustomStringVariable("billing.smtp_user",
							   "User name the billing mailer logs in to the SMTP server with; empty: no login.",
							   NULL,
							   &smtp_user, "", PGC_SUSET, 0,
							   NULL, NULL, NULL);
	DefineCustomStringVariable("billing.smtp_password_file",
							   "File holding the password of billing.smtp_user (its first line); only the server's OS user may read it.",
							   "A password in a setting would be readable by every role: a session that has not loaded billing shows any billing.* setting.",
							   &smtp_password_file, "", PGC_SIGHUP, 0,
							   NULL, NULL, NULL);
	DefineCustomEnumVariable("billing.smtp_tls",
							 "TLS of smtp:// URLs: starttls (required), try, or off (a local relay).",
							 "smtps:// URLs always use TLS.",
							 &smtp_tls, CURLUSESSL_ALL, smtp_tls_options, PGC_SUSET, 0,
							 NULL, NULL, NULL);
	DefineCustomIntVariable("billing.smtp_timeout",
							"Longest time one SMTP delivery may take.",
							NULL,
							&smtp_timeout, 60, 1, 3600, PGC_SUSET, GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomIntVariable("billing.mail_retry_interval",
							"Wait before the first retry of a mail; it doubles with each attempt (at most an hour, or this).",
							NULL,
							&mail_retry_interval, 60, 1, 86400, PGC_SUSET, GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomIntVariable("billing.mail_max_attempts",
							"Attempts to send a mail before the mailer gives up on it.",
							NULL,
							&mail_max_attempts, 10, 1, 1000, PGC_SUSET, 0,
							NULL, NULL, NULL);
}

/* extension_owner is the owner of extension billing in this database */
static Oid
extension_owner(Oid *extension_oid)
{
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;
	Oid			owner = InvalidOid;

	*extension_oid = get_extension_oid("billing", false);
	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_oid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(*extension_oid));
	scan = systable_beginscan(rel, ExtensionOidIndexId, true, NULL, 1, &key);
	tuple = systable_getnext(scan);
	if (HeapTupleIsValid(tuple))
		owner = ((Form_pg_extension) GETSTRUCT(tuple))->extowner;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return owner;
}

/*
 * find_mailer returns the pid of the live mailer of this database (a
 * background worker that calls itself MAILER_APPNAME), other than this
 * process, or 0.  It reads the backend status array afresh.
 */
static int
find_mailer(void)
{
	int			n;
	int			i;

	pgstat_clear_backend_activity_snapshot();
	n = pgstat_fetch_stat_numbackends();
	for (i = 1; i <= n; i++)
	{
		LocalPgBackendStatus *local = pgstat_fetch_stat_local_beentry(i);
		PgBackendStatus *be;

		if (local == NULL)
			continue;
		be = &local->backendStatus;
		if (be->st_procpid != MyProcPid && be->st_procpid > 0 &&
			be->st_databaseid == MyDatabaseId && be->st_backendType == B_BG_WORKER &&
			strcmp(be->st_appname, MAILER_APPNAME) == 0)
			return be->st_procpid;
	}
	return 0;
}

/* wake_pid sets the latch of a process, if it still exists */
static void
wake_pid(int pid)
{
	PGPROC	   *proc = BackendPidGetProc(pid);

	if (proc != NULL)
		SetLatch(&proc->procLatch);
}

/*
 * register_mailer registers a mailer worker for this database; false when
 * no worker slot is free.  The handle is returned when asked for (the
 * worker then reports its start to this process).
 */
static bool
register_mailer(BackgroundWorkerHandle **handle)
{
	BackgroundWorker worker;
	MailerArgs	args;
	Oid			extension_oid;

	args.database_oid = MyDatabaseId;
	args.owner_oid = extension_owner(&extension_oid);

	billing_dynamic_worker(&worker, "billing_mailer_main", MAILER_TYPE);
	snprintf(worker.bgw_name, BGW_MAXLEN, "billing mailer of database %u", MyDatabaseId);
	/* a crash (kill -9, a restart after a crash) starts it again */
	worker.bgw_restart_time = 5;
	worker.bgw_notify_pid = handle ? MyProcPid : 0;
	memcpy(worker.bgw_extra, &args, sizeof(args));
	return RegisterDynamicBackgroundWorker(&worker, handle);
}

/* refuse_disabled_mailer raises when the settings leave the mailer off */
static void
refuse_disabled_mailer(void)
{
	if (!setting_is_set(smtp_url))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the billing mailer is disabled: billing.smtp_url is not set"),
				 errdetail("Notifications stay in billing.notification until a mailer can send them."),
				 errhint("ALTER SYSTEM SET billing.smtp_url = 'smtp://mail.example.com:587'; "
						 "ALTER SYSTEM SET billing.smtp_from = 'billing@example.com'; SELECT pg_reload_conf();")));
	if (!setting_is_set(smtp_from))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the billing mailer is disabled: billing.smtp_from is not set"),
				 errhint("ALTER SYSTEM SET billing.smtp_from = 'billing@example.com'; SELECT pg_reload_conf();")));
}

/*
 * billing_start_mailer() starts the mailer of this database, or wakes the one that
 * runs, and returns its pid.
 */
Datum
billing_start_mailer(PG_FUNCTION_ARGS)
{
	BackgroundWorkerHandle *handle;
	BgwHandleStatus status;
	pid_t		pid;
	int			running;
	int			waited_ms = 0;

	refuse_disabled_mailer();
	running = find_mailer();
	if (running != 0)
	{
		wake_pid(running);
		PG_RETURN_INT32(running);
	}
	if (!register_mailer(&handle))
		ereport(ERROR,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("no background worker slot is free for the billing mailer"),
				 errhint("Raise max_worker_processes (now %d) and restart the server.", max_worker_processes)));
	status = WaitForBackgroundWorkerStartup(handle, &pid);
	if (status == BGWH_POSTMASTER_DIED)
		ereport(FATAL,
				(errcode(ERRCODE_ADMIN_SHUTDOWN),
				 errmsg("postmaster exited while starting the billing mailer")));

	/* until it has marked itself the mailer, or exited (another one was) */
	for (;;)
	{
		running = find_mailer();
		if (running != 0 || status != BGWH_STARTED)
			break;
		if (waited_ms >= 30000)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("the billing mailer (pid %d) did not start within 30 seconds", (int) pid),
					 errhint("See the server log.")));
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 10L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		waited_ms += 10;
		status = GetBackgroundWorkerPid(handle, &pid);
	}
	if (running == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the billing mailer exited as it started"),
				 errhint("See the server log: the extension's owner must be able to log in.")));
	PG_RETURN_INT32(running);
}

/*
 * billing_stop_mailer() stops the mailer of this database (it ends its current
 * attempt first); false when none runs.
 */
Datum
billing_stop_mailer(PG_FUNCTION_ARGS)
{
	int			running = find_mailer();

	if (running == 0)
		PG_RETURN_BOOL(false);
	if (kill(running, SIGTERM) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_SYSTEM_ERROR),
				 errmsg("could not signal the billing mailer (pid %d): %m", running)));
	PG_RETURN_BOOL(true);
}

/*
 * Waking at commit.  A transaction that queues notifications, or runs the
 * pg_cron tick, asks for the mailer: just before it commits, a mailer is
 * started if none runs (its start-up outlasts the commit); once committed,
 * the running one is woken, so it sees the new rows at once.
 */
static bool wake_requested = false;
static int	wake_at_commit = 0;
static bool xact_callback_registered = false;

static void
mailer_xact_callback(XactEvent event, void *arg)
{
	Oid			extension_oid;

	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
			if (!wake_requested)
				return;
			wake_requested = false;
			if (!setting_is_set(smtp_url) || !setting_is_set(smtp_from))
				return;			/* mail is off: the rows wait */
			extension_oid = get_extension_oid("billing", true);
			if (!OidIsValid(extension_oid))
				return;
			/* a mailer that stops when idle decides under this lock */
			LockDatabaseObject(ExtensionRelationId, extension_oid, 0, ShareLock);
			wake_at_commit = find_mailer();
			/* no free slot: the next tick or queued mail tries again */
			if (wake_at_commit == 0)
				(void) register_mailer(NULL);
			break;
		case XACT_EVENT_COMMIT:
			if (wake_at_commit != 0)
				wake_pid(wake_at_commit);
			wake_at_commit = 0;
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			wake_requested = false;
			wake_at_commit = 0;
			break;
		default:
			break;
	}
}

static void
request_wake(void)
{
	if (!xact_callback_registered)
	{
		RegisterXactCallback(mailer_xact_callback, NULL);
		xact_callback_registered = true;
	}
	wake_requested = true;
}

/* wake_mailer() starts or wakes the mailer when this transaction commits */
Datum
billing_wake_mailer(PG_FUNCTION_ARGS)
{
	request_wake();
	PG_RETURN_VOID();
}

/* notification_queued: trigger after notifications are inserted */
Datum
billing_notification_queued(PG_FUNCTION_ARGS)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("billing_internal.notification_queued() is a trigger function")));
	request_wake();
	return PointerGetDatum(NULL);
}

/* ------------------------------------------------------------------------
 * The worker
 * ------------------------------------------------------------------------
 */

static volatile sig_atomic_t got_sigterm = false;

static void
mailer_sigterm(SIGNAL_ARGS)
{
	int			save_errno = errno;

	got_sigterm = true;
	SetLatch(MyLatch);
	errno = save_errno;
}

/* the mail being uploaded to libcurl */
typedef struct UploadState
{
	const char *data;
	size_t		len;
	size_t		pos;
} UploadState;

static size_t
upload_read(char *buffer, size_t size, size_t nitems, void *arg)
{
	UploadState *up = (UploadState *) arg;
	size_t		room = size * nitems;
	size_t		n = Min(room, up->len - up->pos);

	memcpy(buffer, up->data + up->pos, n);
	up->pos += n;
	return n;
}

/* a terminate (or shutdown) cuts a delivery short */
static int
transfer_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	return got_sigterm ? 1 : 0;
}

/*
 * read_password reads the first line of billing.smtp_password_file into
 * buf; NULL on success, else the error.  A file that others than the
 * server's OS user may read is refused, as libpq refuses such a .pgpass.
 */
static char *
read_password(char *buf, size_t len)
{
	struct stat st;
	FILE	   *f;

	if (stat(smtp_password_file, &st) != 0)
		return psprintf("could not read billing.smtp_password_file \"%s\": %m", smtp_password_file);
	if (!S_ISREG(st.st_mode) || (st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
		return psprintf("billing.smtp_password_file \"%s\" must be a plain file only its owner can read (chmod 600)",
						smtp_password_file);
	f = AllocateFile(smtp_password_file, "r");
	if (f == NULL)
		return psprintf("could not read billing.smtp_password_file \"%s\": %m", smtp_password_file);
	if (fgets(buf, len, f) == NULL)
		buf[0] = '\0';
	FreeFile(f);
	buf[strcspn(buf, "\r\n")] = '\0';
	return NULL;
}

/* the address part of "Name <address>", or the whole setting */
static char *
sender_address(const char *from)
{
	const char *lt = strrchr(from, '<');
	const char *gt = lt ? strchr(lt, '>') : NULL;

	if (lt && gt)
		return pnstrdup(lt + 1, gt - lt - 1);
	return pstrdup(from);
}

/*
 * send_mail hands one mail to the SMTP server; NULL when the server
 * accepted it, else the error.  *permanent is set when the server refused
 * it for good (a 5xx reply).
 */
static char *
send_mail(CURL *curl, const char *recipient, const char *message, bool *permanent)
{
	struct curl_slist *rcpt = NULL;
	UploadState up = {message, strlen(message), 0};
	char		errbuf[CURL_ERROR_SIZE];
	char	   *from = sender_address(smtp_from);
	char	   *rcpt_addr = psprintf("<%s>", recipient);
	char	   *mail_from = psprintf("<%s>", from);
	CURLcode	res;
	long		reply = 0;
	char	   *error = NULL;

	errbuf[0] = '\0';
	*permanent = false;
	rcpt = curl_slist_append(rcpt, rcpt_addr);
	curl_easy_setopt(curl, CURLOPT_URL, smtp_url);
	curl_easy_setopt(curl, CURLOPT_USE_SSL, (long) smtp_tls);
	if (setting_is_set(smtp_user))
	{
		char		password[1024] = "";

		if (setting_is_set(smtp_password_file) &&
			(error = read_password(password, sizeof(password))) != NULL)
		{
			curl_slist_free_all(rcpt);
			return error;
		}
		curl_easy_setopt(curl, CURLOPT_USERNAME, smtp_user);
		curl_easy_setopt(curl, CURLOPT_PASSWORD, password);
		explicit_bzero(password, sizeof(password));
	}
	else
	{
		curl_easy_setopt(curl, CURLOPT_USERNAME, NULL);
		curl_easy_setopt(curl, CURLOPT_PASSWORD, NULL);
	}
	curl_easy_setopt(curl, CURLOPT_MAIL_FROM, mail_from);
	curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(curl, CURLOPT_READFUNCTION, upload_read);
	curl_easy_setopt(curl, CURLOPT_READDATA, &up);
	curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, (long) smtp_timeout);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, (long) Min(smtp_timeout, 30));
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, transfer_progress);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);

	res = curl_easy_perform(curl);
	if (res != CURLE_OK)
	{
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply);
		*permanent = (reply >= 500 && reply < 600);
		error = psprintf("%s%s%s", curl_easy_strerror(res), errbuf[0] ? ": " : "", errbuf);
		if (reply != 0)
			error = psprintf("%s (SMTP reply %ld)", error, reply);
	}
	curl_slist_free_all(rcpt);
	/* the list is freed: no option may point at it */
	curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, NULL);
	return error;
}

/*
 * mail_sql runs one statement about a notification in a transaction of its
 * own, committed before it returns.  Returns the first row's columns as
 * strings in out[] (up to nout), and whether there was a row.
 */
static bool
mail_sql(const char *sql, int nargs, Oid *types, Datum *values, char **out, int nout)
{
	MemoryContext caller = CurrentMemoryContext;
	bool		found = false;
	int			level;
	int			i;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	level = billing_allow_api_write();
	(void) billing_spi_exec(sql, nargs, types, values, NULL, false, 0,
							BILLING_SPI_OK_ANY, "mailer statement");
	if (SPI_processed > 0 && SPI_tuptable != NULL)
	{
		found = true;
		for (i = 0; i < nout; i++)
		{
			char	   *v = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, i + 1);

			out[i] = v ? MemoryContextStrdup(caller, v) : NULL;
		}
	}
	billing_end_api_write(level);
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	MemoryContextSwitchTo(caller);
	return found;
}

/*
 * The claim: the next due notification, counted as attempted and marked
 * failed ("did not finish") with its next attempt after the backoff, all
 * committed before the mail is sent.  Then the message, as sent.
 */
static const char *claim_sql =
"WITH due AS ("
"  SELECT n.id FROM billing.notification n"
"  WHERE n.sent_at IS NULL AND n.next_attempt_at <= pg_catalog.clock_timestamp()"
"  ORDER BY n.next_attempt_at, n.id LIMIT 1 FOR UPDATE SKIP LOCKED"
"), claimed AS ("
"  UPDATE billing.notification n"
"  SET attempts = n.attempts + 1, last_attempt_at = pg_catalog.clock_timestamp(),"
"      next_attempt_at = CASE WHEN n.attempts + 1 >= $1 THEN NULL"
"          ELSE pg_catalog.clock_timestamp() + pg_catalog.make_interval(secs =>"
"               LEAST($2::float8 * 2.0::float8 ^ LEAST(n.attempts, 30), GREATEST($2::float8, 3600.0::float8))) END,"
"      last_error = pg_catalog.format('attempt %s did not finish: the mailer stopped during it', n.attempts + 1)"
"  FROM due WHERE n.id = due.id"
"  RETURNING n.id, n.email, n.attempts, n.last_attempt_at"
") SELECT c.id, c.email, c.attempts, billing_internal.notification_mail(c.id, $3, c.last_attempt_at) FROM claimed c";

/*
 * The same claim of an invoice mail (billing.invoice_mail, pdf.sql).  Its
 * message, with the PDF and the XML, is made in a statement of its own
 * (invoice_message_sql): an error making it is that mail's failure, not the
 * mailer's.
 */
static const char *claim_invoice_sql =
"WITH due AS ("
"  SELECT m.buyer_id, m.invoice_id FROM billing.invoice_mail m"
"  WHERE m.sent_at IS NULL AND m.next_attempt_at <= pg_catalog.clock_timestamp()"
"  ORDER BY m.next_attempt_at, m.invoice_id LIMIT 1 FOR UPDATE SKIP LOCKED"
"), claimed AS ("
"  UPDATE billing.invoice_mail m"
"  SET attempts = m.attempts + 1, last_attempt_at = pg_catalog.clock_timestamp(),"
"      next_attempt_at = CASE WHEN m.attempts + 1 >= $1 THEN NULL"
"          ELSE pg_catalog.clock_timestamp() + pg_catalog.make_interval(secs =>"
"               LEAST($2::float8 * 2.0::float8 ^ LEAST(m.attempts, 30), GREATEST($2::float8, 3600.0::float8))) END,"
"      last_error = pg_catalog.format('attempt %s did not finish: the mailer stopped during it', m.attempts + 1)"
"  FROM due WHERE m.buyer_id = due.buyer_id AND m.invoice_id = due.invoice_id"
"  RETURNING m.invoice_id, m.email, m.attempts, m.last_attempt_at, m.buyer_id"
") SELECT c.invoice_id, c.email, c.attempts, c.last_attempt_at, c.buyer_id FROM claimed c";

static const char *invoice_message_sql =
"SELECT billing_internal.pdf_mail_message($1, $2, $3::pg_catalog.timestamptz)";

/*
 * how long until the next notification falls due, in ms (at most a
 * minute); -1 when no notification waits to be sent
 */
static long
next_due_ms(void)
{
	char	   *out[1] = {NULL};
	long		ms = -1;

	if (mail_sql("SELECT pg_catalog.ceil(1000 * pg_catalog.date_part('epoch',"
				 "  pg_catalog.min(q.at) - pg_catalog.clock_timestamp()))::bigint"
				 " FROM (SELECT n.next_attempt_at AS at FROM billing.notification n"
				 "       WHERE n.sent_at IS NULL AND n.next_attempt_at IS NOT NULL"
				 "       UNION ALL SELECT m.next_attempt_at FROM billing.invoice_mail m"
				 "       WHERE m.sent_at IS NULL AND m.next_attempt_at IS NOT NULL) AS q",
				 0, NULL, NULL, out, 1) && out[0] != NULL)
		ms = Min(Max(atol(out[0]), 10), 60000);
	return ms;
}

static void
report(const char *what)
{
	pgstat_report_activity(STATE_RUNNING, what);
}

/*
 * deliver_invoice_mail sends the next due invoice mail (billing.invoice_mail);
 * false when none is due.  As a notification, but the message is made
 * after the claim: an error making it (billing.smtp_from not an address, an
 * invoice no longer to be sent) is that attempt's failure, in last_error,
 * and the mailer goes on.
 */
static bool
deliver_invoice_mail(CURL *curl)
{
	Oid			claim_types[2] = {INT4OID, INT4OID};
	Datum		claim_values[2];
	char	   *row[5] = {NULL, NULL, NULL, NULL, NULL};
	Oid			msg_types[3] = {INT8OID, TEXTOID, TEXTOID};
	Datum		msg_values[3];
	Oid			types[4] = {INT8OID, INT8OID, TEXTOID, BOOLOID};
	Datum		values[4];
	char	   *message[1] = {NULL};
	char	   *volatile error = NULL;
	bool		permanent = false;
	int64		id;
	MemoryContext context = CurrentMemoryContext;

	claim_values[0] = Int32GetDatum(mail_max_attempts);
	claim_values[1] = Int32GetDatum(mail_retry_interval);
	if (!mail_sql(claim_invoice_sql, 2, claim_types, claim_values, row, 5))
		return false;
	id = strtoi64(row[0], NULL, 10);
	report(psprintf("billing mailer: sending invoice %s (attempt %s)", row[0], row[2]));

	msg_values[0] = Int64GetDatum(id);
	msg_values[1] = CStringGetTextDatum(smtp_from);
	msg_values[2] = CStringGetTextDatum(row[3]);
	PG_TRY();
	{
		mail_sql(invoice_message_sql, 3, msg_types, msg_values, message, 1);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(context);
		edata = CopyErrorData();
		FlushErrorState();
		AbortCurrentTransaction();
		/* the abort left CurrentMemoryContext at TopMemoryContext */
		MemoryContextSwitchTo(context);
		error = psprintf("the message could not be made: %s", edata->message);
		FreeErrorData(edata);
	}
	PG_END_TRY();
	if (error == NULL && message[0] == NULL)
		error = "the message could not be made: it is empty";
	/* a message not made is tried again after the backoff, as a send */
	if (error == NULL)
		error = send_mail(curl, row[1], message[0], &permanent);

	/* the mail's key: its buyer and invoice */
	values[0] = Int64GetDatum(strtoi64(row[4], NULL, 10));
	values[1] = Int64GetDatum(id);
	if (error == NULL)
	{
		mail_sql("UPDATE billing.invoice_mail SET sent_at = pg_catalog.clock_timestamp(),"
				 " next_attempt_at = NULL, last_error = NULL WHERE buyer_id = $1 AND invoice_id = $2",
				 2, types, values, NULL, 0);
		elog(DEBUG1, "billing mailer: invoice %s sent to %s", row[0], row[1]);
	}
	else
	{
		values[2] = CStringGetTextDatum(error);
		values[3] = BoolGetDatum(permanent);
		mail_sql("UPDATE billing.invoice_mail SET last_error = $3,"
				 " next_attempt_at = CASE WHEN $4 THEN NULL ELSE next_attempt_at END"
				 " WHERE buyer_id = $1 AND invoice_id = $2",
				 4, types, values, NULL, 0);
		ereport(LOG,
				(errmsg("billing mailer: invoice %s to %s not sent (attempt %s): %s",
						row[0], row[1], row[2], error)));
	}
	return true;
}

/* deliver_one sends the next due notification; false when none is due */
static bool
deliver_one(CURL *curl)
{
	Oid			claim_types[3] = {INT4OID, INT4OID, TEXTOID};
	Datum		claim_values[3];
	char	   *row[4] = {NULL, NULL, NULL, NULL};
	Oid			types[3] = {INT8OID, TEXTOID, BOOLOID};
	Datum		values[3];
	char	   *error;
	bool		permanent;
	int64		id;

	claim_values[0] = Int32GetDatum(mail_max_attempts);
	claim_values[1] = Int32GetDatum(mail_retry_interval);
	claim_values[2] = CStringGetTextDatum(smtp_from);
	if (!mail_sql(claim_sql, 3, claim_types, claim_values, row, 4))
		return deliver_invoice_mail(curl);
	id = strtoi64(row[0], NULL, 10);

	report(psprintf("billing mailer: sending notification %s (attempt %s)", row[0], row[2]));
	error = send_mail(curl, row[1], row[3], &permanent);

	values[0] = Int64GetDatum(id);
	if (error == NULL)
	{
		mail_sql("UPDATE billing.notification SET sent_at = pg_catalog.clock_timestamp(),"
				 " next_attempt_at = NULL, last_error = NULL WHERE id = $1",
				 1, types, values, NULL, 0);
		elog(DEBUG1, "billing mailer: notification %s sent to %s", row[0], row[1]);
	}
	else
	{
		/* the claim already set the next attempt; a 5xx refusal is final */
		values[1] = CStringGetTextDatum(error);
		values[2] = BoolGetDatum(permanent);
		mail_sql("UPDATE billing.notification SET last_error = $2,"
				 " next_attempt_at = CASE WHEN $3 THEN NULL ELSE next_attempt_at END WHERE id = $1",
				 3, types, values, NULL, 0);
		ereport(LOG,
				(errmsg("billing mailer: notification %s to %s not sent (attempt %s): %s",
						row[0], row[1], row[2], error)));
	}
	return true;
}

/* the extension's catalog object, whose lock orders mailers and wakers */
static Oid	mailer_extension_oid = InvalidOid;

/*
 * stop_when_idle: under the lock that wakers take before they look for the
 * mailer, either no notification waits and this process stops being the
 * mailer (true), or one does and it stays (false).  A transaction that
 * queues mail either commits before the check, which sees its rows, or
 * looks for the mailer after it, and starts a new one.
 */
static bool
stop_when_idle(void)
{
	bool		pending;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	LockDatabaseObject(ExtensionRelationId, mailer_extension_oid, 0, ExclusiveLock);
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	(void) billing_spi_exec("SELECT 1 FROM billing.notification n"
							" WHERE n.sent_at IS NULL AND n.next_attempt_at IS NOT NULL"
							" UNION ALL SELECT 1 FROM billing.invoice_mail m"
							" WHERE m.sent_at IS NULL AND m.next_attempt_at IS NOT NULL LIMIT 1",
							0, NULL, NULL, NULL, true, 1, SPI_OK_SELECT, "mailer statement");
	pending = SPI_processed > 0;
	if (!pending)
		pgstat_report_appname("");
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	return !pending;
}

/* claim_mailer_role: true when this process is now the database's mailer */
static bool
claim_mailer_role(void)
{
	Oid			extension_oid;
	int			other;

	StartTransactionCommand();
	extension_oid = get_extension_oid("billing", true);
	if (!OidIsValid(extension_oid))
	{
		CommitTransactionCommand();
		ereport(LOG, (errmsg("billing mailer: extension billing is not installed in this database; stopping")));
		return false;
	}
	/* only the extension's owner can lock its catalog object */
	LockDatabaseObject(ExtensionRelationId, extension_oid, 0, ExclusiveLock);
	mailer_extension_oid = extension_oid;
	other = find_mailer();
	if (other == 0)
		pgstat_report_appname(MAILER_APPNAME);
	CommitTransactionCommand();
	if (other != 0)
		ereport(LOG, (errmsg("billing mailer: pid %d already sends this database's mail; stopping", other)));
	return other == 0;
}

/* billing_mailer_main is the mailer worker's entry point */
void
billing_mailer_main(Datum main_arg)
{
	MailerArgs	args;
	CURL	   *curl;
	MemoryContext loop_context;
	long		wait_ms;
	int			rc;

	memcpy(&args, MyBgworkerEntry->bgw_extra, sizeof(args));
	pqsignal(SIGTERM, mailer_sigterm);
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnectionByOid(args.database_oid, args.owner_oid, 0);
	SetConfigOption("search_path", BILLING_SAFE_SEARCH_PATH, PGC_SUSET, PGC_S_OVERRIDE);
	/* sent_at must survive a crash, or the mail would go twice */
	SetConfigOption("synchronous_commit", "on", PGC_SUSET, PGC_S_OVERRIDE);

	if (!claim_mailer_role())
		proc_exit(0);

	curl_global_init(CURL_GLOBAL_DEFAULT);
	curl = curl_easy_init();
	if (curl == NULL)
		ereport(ERROR, (errmsg("billing mailer: libcurl could not be initialized")));
	ereport(LOG, (errmsg("billing mailer started: sending through %s", smtp_url)));
	loop_context = AllocSetContextCreate(TopMemoryContext, "billing mailer", ALLOCSET_DEFAULT_SIZES);

	while (!got_sigterm)
	{
		MemoryContextSwitchTo(loop_context);
		MemoryContextReset(loop_context);
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		if (!setting_is_set(smtp_url) || !setting_is_set(smtp_from))
		{
			ereport(LOG, (errmsg("billing mailer: billing.smtp_url or billing.smtp_from is not set; stopping")));
			break;
		}
		if (deliver_one(curl))
			continue;
		wait_ms = next_due_ms();
		report("billing mailer: waiting for mail");
		rc = WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
					   wait_ms < 0 ? MAILER_IDLE_MS : wait_ms, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		/* nothing to send for a while: stop (the next mail starts a mailer) */
		if (wait_ms < 0 && (rc & WL_TIMEOUT) && stop_when_idle())
		{
			ereport(LOG, (errmsg("billing mailer: no mail left to send; stopping")));
			break;
		}
	}
	curl_easy_cleanup(curl);
	pgstat_report_activity(STATE_IDLE, NULL);
	/* exit code 0: not started again by the postmaster */
	proc_exit(0);
}
