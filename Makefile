# looplive - build, test, bench, install.
# `make` builds the libraries and the command; `make test` installs what the
# tests need (through apt-get when it can) and runs them; see README.md.

BUILD   ?= build
CC      ?= cc
PREFIX  ?= /usr/local
DESTDIR ?=
VERSION := 0.1.0

WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-unused-parameter
CFLAGS   ?= -O2 -g
ALL_CFLAGS = -std=gnu11 -D_GNU_SOURCE -fPIC $(WARN) -Iinclude -Isrc $(CFLAGS) $(EXTRA_CFLAGS)
LDFLAGS  ?=
LDLIBS   := -lxxhash -lspng -ldl -lpthread -lm
# What gives every function of an application library room for the jump
# that forwards an old build to the new one (gcc 8+, clang 10+; see
# docs/module.md): 14 bytes of nops at each entry.
LL_PATCHABLE := -fpatchable-function-entry=14

# Debian packages the build and the tests need; fragments in mk/ add theirs.
BUILD_PKGS := libxxhash-dev libspng-dev pkg-config
BENCH_PKGS := procps
TEST_PKGS  := libcriterion-dev

LAYERS  := base maps advise memory snapshot module loop host
LIB_SRC := $(foreach l,$(LAYERS),$(wildcard src/$(l)/*.c))
CLI_SRC := $(wildcard src/cli/*.c)
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
TESTS   := $(patsubst tests/%.c,$(BUILD)/tests/%,$(wildcard tests/test_*.c))
TEST_SCRIPTS := $(sort $(wildcard tests/*.sh))
BENCH_SRC := $(wildcard bench/*.c)

LIBA    := $(BUILD)/liblooplive.a
LIBSO   := $(BUILD)/liblooplive.so
CLI     := $(BUILD)/looplive
BENCH   := $(BUILD)/looplive-bench

# Extra artefacts from mk/*.mk: EXTRA_TARGETS (the example applications)
# go in `make all`; TEST_FIXTURES (applications, libraries and programs the
# tests and the bench load) only in `make build-tests` and `make test`.
EXTRA_TARGETS :=
TEST_FIXTURES :=
CLI_LDLIBS    :=

.PHONY: all build-tests test test-run test-asan bench install uninstall format format-check lint run clean deps deps-test deps-bench
all: $(LIBA) $(LIBSO) $(CLI)

-include mk/*.mk

all: $(EXTRA_TARGETS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(LIBA): $(LIB_OBJ)
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $^

$(LIBSO): $(LIB_OBJ)
	$(CC) -shared -Wl,-soname,liblooplive.so.0 $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(CLI): $(CLI_OBJ) $(LIBA)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -rdynamic -o $@ $(CLI_OBJ) $(LIBA) $(CLI_LDLIBS) $(LDLIBS)

$(BUILD)/tests/%: tests/%.c $(LIBA) | deps-test
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Itests $(LDFLAGS) -rdynamic -o $@ $< $(TEST_OBJ) $(LIBA) -lcriterion $(LDLIBS)

# The drawing of an address space is the command's (src/cli/draw.c).
$(BUILD)/tests/test_advise: TEST_OBJ := $(BUILD)/obj/src/cli/draw.o
$(BUILD)/tests/test_advise: $(BUILD)/obj/src/cli/draw.o

$(BENCH): $(BENCH_SRC) $(LIBA)
	$(CC) $(ALL_CFLAGS) -Ibench $(LDFLAGS) -rdynamic -o $@ $(BENCH_SRC) $(LIBA) $(LDLIBS)

# --- dependencies ---------------------------------------------------------
# Installs missing Debian packages when root or password-less sudo allows,
# otherwise stops with the command to run.
define ensure_pkgs
	@missing=""; for p in $(1); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then sudo=""; elif sudo -n true 2>/dev/null; then sudo="sudo -n"; \
	  else echo "looplive: missing Debian packages:$$missing (run: sudo apt-get install -y$$missing)" >&2; exit 1; fi; \
	  echo "installing:$$missing"; \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq$$missing >/dev/null \
	    || { echo "looplive: apt-get could not install$$missing (run: sudo apt-get install -y$$missing)" >&2; exit 1; }; \
	fi
endef

deps:
	$(call ensure_pkgs,$(BUILD_PKGS))
deps-test:
	$(call ensure_pkgs,$(BUILD_PKGS) $(TEST_PKGS))
deps-bench:
	$(call ensure_pkgs,$(BUILD_PKGS) $(BENCH_PKGS))

$(LIB_OBJ) $(CLI_OBJ): | deps

# --- test -----------------------------------------------------------------
# Every test and the bench, built but not run (CI builds them with clang).
build-tests: all $(TESTS) $(TEST_FIXTURES) $(BENCH)

test: deps-test
	$(MAKE) --no-print-directory all $(TESTS) $(TEST_FIXTURES)
	$(MAKE) --no-print-directory test-run

test-run:
	@set -e; fail=0; pass=0; \
	for t in $(TESTS); do \
	  echo "== $$t"; if $$t --jobs 2; then pass=$$((pass+1)); else fail=$$((fail+1)); echo "FAILED: $$t"; fi; \
	done; \
	for s in $(TEST_SCRIPTS); do \
	  echo "== $$s"; if BUILD=$(BUILD) bash $$s; then pass=$$((pass+1)); else fail=$$((fail+1)); echo "FAILED: $$s"; fi; \
	done; \
	echo "suites: $$pass passed, $$fail failed"; [ $$fail = 0 ]

SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
test-asan: deps-test
	$(MAKE) --no-print-directory BUILD=build-asan EXTRA_CFLAGS="$(SAN_FLAGS)" LDFLAGS="$(SAN_FLAGS)" \
	  CFLAGS="-O1 -g" all
	$(MAKE) --no-print-directory BUILD=build-asan EXTRA_CFLAGS="$(SAN_FLAGS)" LDFLAGS="$(SAN_FLAGS)" \
	  CFLAGS="-O1 -g" $(patsubst $(BUILD)/%,build-asan/%,$(TESTS) $(TEST_FIXTURES))
	ASAN_OPTIONS=allow_user_segv_handler=1:detect_leaks=1:abort_on_error=0 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  $(MAKE) --no-print-directory BUILD=build-asan TESTS="$(patsubst $(BUILD)/%,build-asan/%,$(TESTS))" test-run

# --- bench ----------------------------------------------------------------
bench: all $(BENCH) $(TEST_FIXTURES) deps-bench
	$(BENCH) $(GROUPS)

# --- run: the main job ----------------------------------------------------
RUN_CMD ?= $(CLI) addr --self
run: all
	$(RUN_CMD)

# --- install --------------------------------------------------------------
install: all
	install -d $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig \
	  $(DESTDIR)$(PREFIX)/lib/cmake/looplive $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 644 include/looplive.h include/looplive_app.h include/looplive_host.h \
	  include/looplive_addr.h include/looplive_compat.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 $(LIBA) $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(LIBSO) $(DESTDIR)$(PREFIX)/lib/liblooplive.so.$(VERSION)
	ln -sf liblooplive.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/liblooplive.so.0
	ln -sf liblooplive.so.0 $(DESTDIR)$(PREFIX)/lib/liblooplive.so
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' looplive.pc.in \
	  > $(DESTDIR)$(PREFIX)/lib/pkgconfig/looplive.pc
	for f in looplive-config looplive-config-version; do \
	  sed -e 's|@VERSION@|$(VERSION)|g' cmake/$$f.cmake.in > $(DESTDIR)$(PREFIX)/lib/cmake/looplive/$$f.cmake; \
	done
	install -m 755 $(CLI) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 docs/looplive.1 $(DESTDIR)$(PREFIX)/share/man/man1/

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/include/looplive*.h $(DESTDIR)$(PREFIX)/lib/liblooplive.* \
	  $(DESTDIR)$(PREFIX)/lib/pkgconfig/looplive.pc $(DESTDIR)$(PREFIX)/bin/looplive \
	  $(DESTDIR)$(PREFIX)/lib/cmake/looplive/looplive-config*.cmake \
	  $(DESTDIR)$(PREFIX)/share/man/man1/looplive.1

# --- style ----------------------------------------------------------------
FMT_FILES = $(shell git ls-files '*.c' '*.h' 2>/dev/null || find include src tests bench examples -name '*.[ch]')
format:
	clang-format -i $(FMT_FILES)
format-check:
	clang-format --dry-run --Werror $(FMT_FILES)

lint: format-check
	tools/check_layers.sh src
	tools/check_header_prose.sh
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
	  --inline-suppr --suppress=missingIncludeSystem --std=c11 -D_GNU_SOURCE -Iinclude -Isrc \
	  $(LIB_SRC) $(CLI_SRC)
	clang-tidy --quiet $(LIB_SRC) $(CLI_SRC) -- -std=gnu11 -D_GNU_SOURCE -Iinclude -Isrc

clean:
	rm -rf build build-asan

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d)
