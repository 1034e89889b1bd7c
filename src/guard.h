/*-------------------------------------------------------------------------
 * guard.h
 *	  Records only the API can change (src/guard.c): the api_write switch
 *	  that the extension's own C code sets; whether Citus is in the
 *	  database, and settings passed on to its shard connections.
 *-------------------------------------------------------------------------
 */
#ifndef BILLING_GUARD_H
#define BILLING_GUARD_H

extern void billing_define_guard_gucs(void);
extern void billing_install_api_write_passing(void);
extern int	billing_allow_api_write(void);
extern void billing_end_api_write(int level);
extern bool billing_citus_here(void);
extern void billing_set_on_shards(const char *name, const char *value);

#endif							/* BILLING_GUARD_H */
