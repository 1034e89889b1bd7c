# Makefile of the billing extension (PGXS)

EXTENSION = billing
EXTVERSION = 0.1

MODULE_big = billing
OBJS = \
	src/billing.o \
	src/textform.o \
	src/cycle.o \
	src/due_rule.o \
	src/calendar.o \
	src/document.o \
	src/run.o \
	src/search_path.o \
	src/worker.o

DATA = $(wildcard sql/$(EXTENSION)--*.sql)

# pg_regress suites: sql/NAME.sql with expected/NAME.out
REGRESS = test_setup cycle due_rule calendar calendar_crosscheck fuzz issue run_actions search_path
REGRESS_OPTS = --load-extension=$(EXTENSION)

# Isolation specs live in test/specs with outputs in test/expected.
ISOLATION = $(basename $(notdir $(wildcard test/specs/*.spec)))
ISOLATION_OPTS = --inputdir=test --outputdir=output_iso --load-extension=$(EXTENSION)

PG_CFLAGS = -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers
ifdef WERROR
PG_CFLAGS += -Werror
endif

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# The suites one at a time (test/run_all.sh counts them separately).
installcheck-regress:
	$(pg_regress_installcheck) $(REGRESS_OPTS) $(REGRESS)

installcheck-isolation:
ifneq ($(ISOLATION),)
	$(pg_isolation_regress_installcheck) $(ISOLATION_OPTS) $(ISOLATION)
endif

.PHONY: installcheck-regress installcheck-isolation
