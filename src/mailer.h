/*-------------------------------------------------------------------------
 * mailer.h
 *	  The background worker that sends billing.notification (src/mailer.c).
 *-------------------------------------------------------------------------
 */
#ifndef BILLING_MAILER_H
#define BILLING_MAILER_H

extern void billing_define_mail_gucs(void);

#endif							/* BILLING_MAILER_H */
