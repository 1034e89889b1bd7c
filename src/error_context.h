/*-------------------------------------------------------------------------
 * error_context.h
 *	  Errors of the API without the extension's own CONTEXT frames.
 *-------------------------------------------------------------------------
 */
#ifndef BILLING_ERROR_CONTEXT_H
#define BILLING_ERROR_CONTEXT_H

extern void billing_error_context_init(void);

#endif							/* BILLING_ERROR_CONTEXT_H */
