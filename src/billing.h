/*-------------------------------------------------------------------------
 * billing.h
 *	  Shared declarations of the billing extension: the encodings of the
 *	  cycle and due_rule types, and the calendar math on Julian days.
 *-------------------------------------------------------------------------
 */
#ifndef BILLING_H
#define BILLING_H

#include "postgres.h"
#include "fmgr.h"
#include "datatype/timestamp.h"
#include "utils/array.h"

/*
 * billing.cycle is one int32: kind in the high 16 bits, parameter in the low
 * 16.  Ordering the int32 orders cycles by kind, then parameter, so the btree
 * and hash support are PostgreSQL's own int4 functions.
 */
typedef int32 Cycle;

#define CYCLE_DAILY		1
#define CYCLE_WEEKLY	2		/* param: ISO weekday, 1 = Mon ... 7 = Sun */
#define CYCLE_MONTHLY	3		/* param: day 1..30, or CYCLE_EOM */
#define CYCLE_YEARLY	4		/* param: day of year 1..363, or CYCLE_EOY */

#define CYCLE_EOM		31
#define CYCLE_EOY		366
#define CYCLE_YEARLY_MAX_DAY 363	/* 364 and above mean end of year */

#define CYCLE_MAKE(kind, param)	((Cycle) (((kind) << 16) | (param)))
#define CYCLE_KIND(c)			((int) ((uint32) (c) >> 16))
#define CYCLE_PARAM(c)			((int) ((c) & 0xFFFF))

#define DatumGetCycle(X)		((Cycle) DatumGetInt32(X))
#define CycleGetDatum(X)		Int32GetDatum(X)
#define PG_GETARG_CYCLE(n)		DatumGetCycle(PG_GETARG_DATUM(n))
#define PG_RETURN_CYCLE(x)		return CycleGetDatum(x)

/*
 * billing.due_rule is one int32 too: kind in bits 24..31, a month offset in
 * bits 16..23, and a day count or day of month in the low 16 bits.
 */
typedef int32 DueRule;

#define DUE_NET			1		/* days: 0..365 after the invoice date */
#define DUE_MONTH		2		/* months 0..12 after the cut-off's month,
								 * day 1..30 or DUE_EOM */
#define DUE_EOM			31
#define DUE_NET_MAX_DAYS 365
#define DUE_MAX_MONTHS	12

#define DUE_MAKE(kind, months, days) \
	((DueRule) (((kind) << 24) | ((months) << 16) | (days)))
#define DUE_KIND(r)		((int) ((uint32) (r) >> 24))
#define DUE_MONTHS(r)	((int) (((r) >> 16) & 0xFF))
#define DUE_DAYS(r)		((int) ((r) & 0xFFFF))

#define DatumGetDueRule(X)		((DueRule) DatumGetInt32(X))
#define DueRuleGetDatum(X)		Int32GetDatum(X)
#define PG_GETARG_DUE_RULE(n)	DatumGetDueRule(PG_GETARG_DATUM(n))

/* validity of stored encodings (binary input, defensive checks) */
extern bool cycle_is_valid(Cycle c);
extern bool due_rule_is_valid(DueRule r);
extern void cycle_format(Cycle c, char *buf, size_t len);
extern void due_rule_format(DueRule r, char *buf, size_t len);

/*
 * Calendar math works on Julian day numbers (PostgreSQL's date2j/j2date).
 * These never fail: they may return a day outside PostgreSQL's date range,
 * which callers check with julian_to_date().
 */
extern int	cutoff_on_or_after_jd(Cycle c, int jd);
extern int	cutoff_before_jd(Cycle c, int jd);
extern int	due_date_jd(DueRule r, int cutoff_jd, int invoice_jd);

/* Scanner for the types' text forms, shared by cycle and due_rule input */
typedef struct FormScanner
{
	const char *p;
} FormScanner;

#define FORM_NUMBER_NONE	(-1)	/* no digits at the cursor */
#define FORM_NUMBER_HUGE	(-2)	/* more than fits in an int32 */

extern void form_skip_blanks(FormScanner *s);
extern bool form_word(FormScanner *s, char *buf, size_t buflen);
extern bool form_char(FormScanner *s, char c);
extern int	form_number(FormScanner *s);
extern bool form_at_end(FormScanner *s);

/* errors and binary I/O shared by cycle and due_rule (textform.c) */
struct StringInfoData;
extern void form_syntax_error(const char *type_name, const char *input,
							  const char *forms_hint) pg_attribute_noreturn();
extern void form_range_error(const char *type_name, const char *input,
							 const char *detail, const char *forms_hint) pg_attribute_noreturn();
extern int32 form_recv_int32(struct StringInfoData *buf, const char *type_name,
							 bool (*is_valid) (int32));
extern bytea *form_send_int32(int32 value);

/* run.c */
extern void billing_define_run_gucs(void);
extern bool billing_lock_schedule(int64 schedule_id, bool wait);
extern bool billing_lock_rows(const char *sql, Oid argtype, Datum arg);
extern bool billing_sql_before_v03(void);
extern const char *billing_internal_sql(const char *sql);
extern void billing_error_context_init(void);

/* worker.c */
extern void billing_define_worker_gucs(void);
struct BackgroundWorker;
extern void billing_dynamic_worker(struct BackgroundWorker *worker, const char *function,
								   const char *type);
extern int	billing_worker_xact_begin(void);
extern void billing_worker_xact_end(int api_write_level);

/* committed.c: work committed by a background worker of its own */
extern ArrayType *billing_commit_issue(TimestampTz as_of, int lock_timeout_ms);
extern int	billing_lock_timeout_ms(void);

/* run_v01.c: runs while a database's extension SQL is still 0.1 */
extern bool billing_sql_is_v01(void);
extern void billing_v01_lock_key(int64 schedule_id, int32 *lock_class, int32 *lock_key);
extern void billing_v01_make_drafts(Datum *args8);

/* guard.c: records only the API can change */
extern void billing_define_guard_gucs(void);
extern int	billing_allow_api_write(void);
extern void billing_end_api_write(int level);

/* uninstall.c: DROP EXTENSION keeps the money */
extern void billing_define_uninstall_gucs(void);

/* mailer.c: the background worker that sends billing.notification */
extern void billing_define_mail_gucs(void);
extern void billing_progress_init(void);
extern void billing_set_run_phase(int64 run_id, int64 brand_id, int phase);

/* run phases (src/progress.c), in order */
#define RUN_PHASE_PLANNING 0
#define RUN_PHASE_AGGREGATING 1
#define RUN_PHASE_WRITING_INVOICES 2
#define RUN_PHASE_WRITING_LINKS 3
#define RUN_PHASE_DONE 4

/* search_path.c: what every statement of ours resolves names through */
#define BILLING_SAFE_SEARCH_PATH "pg_catalog, pg_temp"
extern int	billing_pin_search_path(void);
extern void billing_unpin_search_path(int level);

#endif							/* BILLING_H */
