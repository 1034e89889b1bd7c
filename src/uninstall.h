/*-------------------------------------------------------------------------
 * uninstall.h
 *	  DROP EXTENSION keeps the money (src/uninstall.c).
 *-------------------------------------------------------------------------
 */
#ifndef BILLING_UNINSTALL_H
#define BILLING_UNINSTALL_H

extern void billing_define_uninstall_gucs(void);

#endif							/* BILLING_UNINSTALL_H */
