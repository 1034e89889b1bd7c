/*-------------------------------------------------------------------------
 * billing.c
 *	  Module entry point of the billing extension.
 *-------------------------------------------------------------------------
 */
#include "billing.h"

PG_MODULE_MAGIC;
