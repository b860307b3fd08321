# poolsim - the only build file (non-recursive).  See README.md.
#
#   make            build everything (installs missing Debian packages first)
#   make run        build and run the main experiment, and plot it
#   make plots      render the figures of every results/*/ directory (PNG and SVG);
#                   (run and plots pass PLOT_FLAGS to poolsim plot, default --log:
#                   latencies on a log axis; e.g. PLOT_FLAGS="--slo-p99 500 --points 0,9")
#   make check      every test (Check suites, then the program-level scripts)
#   make sanitize   ASan+UBSan build of the mechanism tests (CK_FORK=no)
#   make valgrind   the mechanism tests under valgrind
#   make bench      speed figures (never fails on a timing)
#   make deps       install the Debian packages the project needs (only if missing)
#   make deps-real  the packages of the real test bed (PostgreSQL, PgBouncer, libpq, pgbench)
#   make validate-real  real PgBouncer + PostgreSQL against poolsim, point by point: VALIDATION.md
#   make validate-real-app  the node-postgres app of tests/real/app against poolsim (part of
#                   validate-real): tests/real/app/VALIDATION-app.md

B        ?= build
CC       ?= cc
PKGS     := gsl libcjson
DEBS     := libgsl-dev libcjson-dev check pkg-config gnuplot-nox parallel
# The real test bed (tests/real, issue 9): postgresql brings initdb, postgres and pgbench
# (postgresql-client-15); pgbouncer; libpq-dev for the load client; jq reads the point files.
REAL_DEBS := postgresql pgbouncer libpq-dev jq
SHARED   ?= $(firstword $(wildcard ../shared) $(wildcard /work/shared))

WARN     := -Wall -Wextra -Werror -Wpedantic -Wshadow -Wconversion -Wdouble-promotion \
            -Wstrict-prototypes -Wmissing-prototypes -Wwrite-strings -Wformat=2 \
            -Wcast-qual -Wundef -Wvla -Wswitch-enum -Wimplicit-fallthrough
OPT      ?= -O2
CFLAGS   ?= -g
# Lazily expanded: pkg-config runs only after `deps` has installed the packages.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   = $(shell pkg-config --libs $(PKGS))
CHK_CFLAGS = $(shell pkg-config --cflags check)
CHK_LIBS   = $(shell pkg-config --libs check)
ALL_CPPFLAGS = -I. -D_POSIX_C_SOURCE=200809L $(PKG_CFLAGS)
ALL_CFLAGS   = -std=c11 -ffp-contract=off -pthread $(WARN) $(OPT) $(CFLAGS)
LIBS         = $(PKG_LIBS) -lm -pthread

LIB_SRC   := $(filter-out sim/main.c,$(wildcard sim/*.c models/*.c))
LIB_OBJ   := $(LIB_SRC:%.c=$(B)/%.o)
CHECK_SRC := $(wildcard tests/check_*.c)
TEST_SRC  := $(CHECK_SRC) tests/rig.c
TEST_OBJ  := $(TEST_SRC:%.c=$(B)/%.o)
SUITES    := $(patsubst tests/check_%.c,%,$(filter-out tests/check_main.c,$(CHECK_SRC)))
BENCH_SRC := $(wildcard tests/bench/*.c)
BENCH_BIN := $(BENCH_SRC:tests/bench/%.c=$(B)/bench/%)

.PHONY: deps-real validate-real deps-real-app validate-real-app
.PHONY: all deps run plots check check-unit check-scripts sanitize valgrind bench clean format \
        format-check check-layers fuzz fuzz-run paranoid

all: $(B)/poolsim $(B)/check_all $(BENCH_BIN)

# Install missing packages with apt-get (apt-get update first), only when
# pkg-config cannot find them.  Uses sudo when not root.
deps:
	@missing=0; \
	command -v pkg-config >/dev/null 2>&1 || missing=1; \
	[ $$missing = 1 ] || pkg-config --exists $(PKGS) check || missing=1; \
	command -v gnuplot >/dev/null 2>&1 || missing=1; \
	command -v parallel >/dev/null 2>&1 || missing=1; \
	if [ $$missing = 1 ]; then \
	    echo "make deps: installing $(DEBS)"; \
	    if [ "$$(id -u)" = 0 ]; then sudo=; else sudo=sudo; fi; \
	    $$sudo apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends \
	        $(DEBS) >/dev/null || exit 1; \
	fi

# Like deps, for the real test bed only (`make check` needs it for tests/t_real.sh).
deps-real:
	@missing=0; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing=1; \
	command -v pgbouncer >/dev/null 2>&1 || missing=1; \
	command -v pgbench >/dev/null 2>&1 || missing=1; \
	command -v jq >/dev/null 2>&1 || missing=1; \
	pkg-config --exists libpq 2>/dev/null || missing=1; \
	if [ $$missing = 1 ]; then \
	    echo "make deps-real: installing $(REAL_DEBS)"; \
	    if [ "$$(id -u)" = 0 ]; then sudo=; else sudo=sudo; fi; \
	    $$sudo apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends \
	        $(REAL_DEBS) >/dev/null || exit 1; \
	fi

# The node-postgres app of tests/real/app (issue 10): npm ci from the committed lock file (only
# when node_modules is older than it), then Prisma 7's client generated.  `prisma generate`
# would download the schema engine from binaries.prisma.sh, unreachable here, though generate
# never uses it: PRISMA_SCHEMA_ENGINE_BINARY=/bin/false skips it.  Node and npm are not Debian
# packages we install: without them this fails with a message (tests/t_real_app.sh skips).
deps-real-app:
	@command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || \
	    { echo "make deps-real-app: node and npm are needed and not installed" >&2; exit 1; }
	@cd tests/real/app && \
	if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then \
	    echo "make deps-real-app: npm ci in tests/real/app"; \
	    npm ci --no-audit --no-fund --loglevel=error >/dev/null || exit 1; \
	    rm -rf node_modules/.prisma/client; \
	fi; \
	[ -f node_modules/.prisma/client/index.js ] || \
	    PRISMA_SCHEMA_ENGINE_BINARY=/bin/false npx --no-install prisma generate >/dev/null

validate-real-app: $(B)/poolsim deps-real deps-real-app
	bash tests/real/app/validate.sh $(B) tests/real/app/VALIDATION-app.md

validate-real: validate-real-app

# The load client of the real test bed: built only for the real tests (it needs libpq).
$(B)/loadc: tests/real/loadc.c | deps-real
	@mkdir -p $(@D)
	$(CC) -D_POSIX_C_SOURCE=200809L $(shell pkg-config --cflags libpq 2>/dev/null) $(ALL_CFLAGS) \
	    $< $(shell pkg-config --libs libpq 2>/dev/null) -lm -pthread -o $@

$(B)/%.o: %.c | deps
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(B)/tests/%.o: tests/%.c | deps
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) -I$(B)/tests $(CHK_CFLAGS) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

# The runner's suite list is generated from the file names: adding
# tests/check_foo.c (exporting foo_suite) is all it takes to add a suite.
$(B)/tests/suites.inc: $(CHECK_SRC) Makefile
	@mkdir -p $(@D)
	@printf '%s\n' $(foreach s,$(SUITES),"SUITE($(s))") > $@.tmp && mv $@.tmp $@
# tests.h includes suites.inc, so every suite object needs it (a fresh B=... build).
$(TEST_OBJ): $(B)/tests/suites.inc

# `poolsim plot` finds the gnuplot scripts here when neither $$POOLSIM_PLOTS nor ./plots has them.
$(B)/sim/main.o: ALL_CPPFLAGS += -DPOOLSIM_PLOTS_DIR='"$(CURDIR)/plots"'

$(B)/poolsim: $(B)/sim/main.o $(LIB_OBJ)
	$(CC) $(LDFLAGS) $^ $(LIBS) -o $@

$(B)/check_all: $(TEST_OBJ) $(LIB_OBJ)
	$(CC) $(LDFLAGS) $^ $(CHK_LIBS) $(LIBS) -o $@

$(B)/bench/%: $(B)/tests/bench/%.o $(LIB_OBJ)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $^ $(LIBS) -o $@

-include $(shell find $(B) -name '*.d' 2>/dev/null)

# Options of `poolsim plot` for run and plots: p99 at a timeout and p50 far below it read best
# on a log axis.
PLOT_FLAGS ?= --log

# The main experiment: INCIDENT.md before and after the fix, over dashboard users.
run: $(B)/poolsim
	$(B)/poolsim run experiments/incident.json
	$(B)/poolsim plot results/incident $(PLOT_FLAGS)

plots: $(B)/poolsim
	@for d in results/*/; do \
	    [ -e "$$d/points.csv" ] || continue; \
	    $(B)/poolsim plot "$${d%/}" $(PLOT_FLAGS) || exit 1; \
	done

# Real PgBouncer + PostgreSQL against poolsim, every point of tests/real/points.txt (about
# 15 minutes): VALIDATION.md.  POINTS="real-tx-below ..." runs only those.
validate-real: $(B)/poolsim $(B)/loadc deps-real
	bash tests/real/validate.sh $(B) VALIDATION.md $(POINTS)
	@{ echo; cat tests/real/app/VALIDATION-app.md; } >> VALIDATION.md

# Every test: the Check suites (mechanism and statistical), then the
# program-level scripts (loader errors, determinism, ...).
check: check-unit check-scripts

check-unit: $(B)/check_all
	$(B)/check_all

# $(B)/loadc brings deps-real: tests/t_real.sh runs real PgBouncer and PostgreSQL.
check-scripts: $(B)/poolsim $(B)/loadc
	@for t in tests/t_*.sh; do \
	    [ -e "$$t" ] || continue; \
	    echo "== $$t"; B=$(B) bash "$$t" || exit 1; \
	done

SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# Mechanism tests only: the statistical suites are tagged "stat" and excluded.
sanitize: deps
	$(MAKE) B=build-san OPT=-O1 CFLAGS="-g $(SAN)" LDFLAGS="$(SAN)" build-san/check_all
	CK_FORK=no CK_EXCLUDE_TAGS=stat CK_TIMEOUT_MULTIPLIER=4 build-san/check_all
	$(MAKE) B=build-san OPT=-O1 CFLAGS="-g $(SAN)" LDFLAGS="$(SAN)" build-san/poolsim
	rm -rf build-san/run && build-san/poolsim run tests/data/determinism.json \
	    --set duration=20s --jobs 2 --quiet --out build-san/run

VALGRIND := valgrind -q --leak-check=full --show-leak-kinds=definite,indirect \
            --errors-for-leak-kinds=definite,indirect --error-exitcode=1
# The mechanism tests, then a small but busy poolsim run (two threads, every error path).
valgrind: $(B)/check_all $(B)/poolsim
	CK_FORK=no CK_EXCLUDE_TAGS=stat CK_TIMEOUT_MULTIPLIER=20 $(VALGRIND) $(B)/check_all
	rm -rf $(B)/valgrind-run
	$(VALGRIND) $(B)/poolsim run tests/data/determinism.json --set duration=10s \
	    --set replications=1 --jobs 2 --quiet --out $(B)/valgrind-run

bench: $(BENCH_BIN) $(B)/poolsim
	@bash tests/bench/run.sh "$(B)" "$(SHARED)"

# Every run checks every model's invariants after every event (slow; for hunting bugs).
paranoid: deps
	$(MAKE) B=build-paranoid CFLAGS="-g -DPOOLSIM_PARANOID" build-paranoid/poolsim
	build-paranoid/poolsim run tests/data/determinism.json --quiet --out build-paranoid/run

format:
	clang-format -i sim/*.[ch] models/*.[ch] tests/*.[ch] tests/bench/*.c

format-check:
	@clang-format --dry-run --Werror sim/*.[ch] models/*.[ch] tests/*.[ch] tests/bench/*.c

# sim/ knows nothing of databases: only sim/main.c may include a models/ header.
check-layers:
	@! grep -l '#include "models/' $(filter-out sim/main.c,$(wildcard sim/*.[ch]))

# libFuzzer targets for the loader (clang and its runtime from Debian: clang, libclang-rt-dev).
FUZZ_SECONDS ?= 600
FUZZ_SAN := -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_SRC := $(filter-out sim/runner.c sim/progress.c,$(LIB_SRC))
fuzz: deps
	@command -v clang >/dev/null || { sudo=; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	    $$sudo apt-get install -y -qq --no-install-recommends clang libclang-rt-dev >/dev/null; }
	@mkdir -p build-fuzz
	clang -g -O1 $(FUZZ_SAN) $(ALL_CPPFLAGS) -std=c11 tests/fuzz/fuzz_json.c $(FUZZ_SRC) \
	    $(LIBS) -o build-fuzz/fuzz_json
	clang -g -O1 $(FUZZ_SAN) $(ALL_CPPFLAGS) -std=c11 tests/fuzz/fuzz_loader.c $(FUZZ_SRC) \
	    $(LIBS) -o build-fuzz/fuzz_loader
	clang -g -O1 $(FUZZ_SAN) $(ALL_CPPFLAGS) -std=c11 tests/fuzz/fuzz_dburl.c $(FUZZ_SRC) \
	    $(LIBS) -o build-fuzz/fuzz_dburl

# Run the loader's fuzzer for FUZZ_SECONDS, starting from the committed corpora; new inputs go
# to build-fuzz/corpus (merge them into tests/fuzz/corpus-loader with -merge=1 to keep them).
fuzz-run: fuzz
	@mkdir -p build-fuzz/corpus
	build-fuzz/fuzz_loader -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
	    build-fuzz/corpus tests/fuzz/corpus-loader tests/fuzz/corpus

clean:
	rm -rf build build-san build-O0 build-fuzz
