# Makefile of the billing extension (PGXS)

EXTENSION = billing
# the version being built: the only place that names it
EXTVERSION = 0.3

MODULE_big = billing
OBJS = \
	src/billing.o \
	src/partitions.o \
	src/textform.o \
	src/cycle.o \
	src/due_rule.o \
	src/calendar.o \
	src/document.o \
	src/run.o \
	src/run_v01.o \
	src/search_path.o \
	src/references.o \
	src/guard.o \
	src/uninstall.o \
	src/worker.o \
	src/committed.o \
	src/mailer.o \
	src/progress.o \
	src/spi_util.o \
	src/error_context.o \
	src/pdf.o \
	src/invoice_xml.o \
	src/brand_wall.o \
	src/ids.o \
	src/planner.o

# The install sources, src/sql/, one file per concern, in install order.
# The install script billing--$(EXTVERSION).sql is all of them in this order
# (src/sql/assemble.sh).  Each source is of one of two kinds:
SQL_SOURCES = $(addprefix src/sql/, \
	schema.sql types.sql calendar.sql checks.sql ids.sql tables.sql guards.sql eligibility.sql runs.sql dead_runs.sql \
	actions.sql xml.sql pdf.sql run_actions.sql views.sql verify.sql mail.sql cron.sql security.sql health.sql citus.sql grants.sql uninstall.sql)
# - run once: they create what a later version can only ALTER (schemas,
#   types, tables).  An upgrade script billing--FROM--$(EXTVERSION).sql has,
#   in place of each, the hand-written file of the same name in
#   src/sql/updates/FROM--$(EXTVERSION)/ if there is one: what changed in
#   it since FROM (ALTER, CREATE, COMMENT ON, config dumps).
SQL_RUN_ONCE = $(addprefix src/sql/, schema.sql types.sql tables.sql)
# - re-runnable: every other source (CREATE OR REPLACE, comments, grants),
#   run by an upgrade as it stands, so that an upgraded database gets what a
#   fresh install gets (test/t/003_upgrade.pl).
SQL_RERUNNABLE = $(filter-out $(SQL_RUN_ONCE),$(SQL_SOURCES))
# Both are written into src/sql/ and installed by name.  Released scripts
# (src/sql/released/: billing--0.1.sql, billing--0.2.sql and
# billing--0.1--0.2.sql) are kept byte for byte as they shipped.
UPGRADES_FROM = $(patsubst src/sql/updates/%--$(EXTVERSION)/,%,$(wildcard src/sql/updates/*--$(EXTVERSION)/))
DATA_built = src/sql/$(EXTENSION)--$(EXTVERSION).sql \
	$(foreach v,$(UPGRADES_FROM),src/sql/$(EXTENSION)--$(v)--$(EXTVERSION).sql)
DATA = $(wildcard src/sql/released/$(EXTENSION)--*.sql)
EXTRA_CLEAN = $(EXTENSION).control
# the mailer speaks SMTP through libcurl (src/mailer.c)
SHLIB_LINK += -lcurl
# the invoice PDF (src/pdf.c) draws with cairo, text in one FreeType face:
# IPAex Gothic (Debian fonts-ipaexfont) unless BILLING_PDF_FONT names another
PDF_PKGS = cairo cairo-pdf cairo-ft freetype2
PG_CPPFLAGS += $(shell pkg-config --cflags $(PDF_PKGS))
SHLIB_LINK += $(shell pkg-config --libs $(PDF_PKGS))
ifdef BILLING_PDF_FONT
PG_CPPFLAGS += -DBILLING_PDF_FONT='"$(BILLING_PDF_FONT)"'
endif

# pg_regress suites: sql/NAME.sql with expected/NAME.out
REGRESS = test_setup cycle due_rule calendar calendar_crosscheck fuzz issue run_actions inputs preview_equals_run records roles references keys invoice_xml run_steps clerk_views comments search_path isolation_of_brands brand_roles verify role_matrix bound_bodies settings stranded health invoice_numbers first_mistakes rerun_reads distribute node_ids uninstall c_conventions link_partitions
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

all: $(EXTENSION).control

$(EXTENSION).control: $(EXTENSION).control.in Makefile
	sed 's/@EXTVERSION@/$(EXTVERSION)/' $< > $@

src/sql/$(EXTENSION)--$(EXTVERSION).sql: $(SQL_SOURCES) src/sql/assemble.sh Makefile
	sh src/sql/assemble.sh install $(EXTVERSION) $(SQL_SOURCES) > $@

src/sql/$(EXTENSION)--%--$(EXTVERSION).sql: $(wildcard src/sql/updates/*--$(EXTVERSION)/*.sql) $(SQL_SOURCES) src/sql/assemble.sh Makefile
	sh src/sql/assemble.sh upgrade $* $(EXTVERSION) src/sql/updates/$*--$(EXTVERSION) '$(SQL_RUN_ONCE)' $(SQL_SOURCES) > $@

# TAP tests (test/t/*.pl) against the installed extension, as pgvector runs
# them: make prove_installcheck, as a user that may run initdb.  They write
# under TAP_TESTDIR (default: here); PROVE_TESTS picks some of them.
TAP_TESTDIR ?= $(CURDIR)
prove_installcheck:
	rm -rf '$(TAP_TESTDIR)'/tmp_check
	$(MKDIR_P) '$(TAP_TESTDIR)'/tmp_check
	cd $(srcdir) && TESTDIR='$(TAP_TESTDIR)' PATH="$(bindir):$$PATH" PGPORT='6$(DEF_PGPORT)' \
		PG_REGRESS='$(top_builddir)/src/test/regress/pg_regress' \
		$(PROVE) $(PG_PROVE_FLAGS) $(PROVE_FLAGS) $(if $(PROVE_TESTS),$(PROVE_TESTS),test/t/*.pl)

.PHONY: prove_installcheck
