# fuzz.mk - libFuzzer harnesses (fuzz/*.c) for every reader of outside
# input: maps text, ELF files, .llsnap and .llrec files, hashes files and
# the command's values. `make fuzz` builds the library with clang and the
# fuzzer's coverage, AddressSanitizer and UBSan into build-fuzz/, then runs
# each harness for FUZZ_S seconds from its seed corpus (fuzz/corpus/NAME,
# new inputs go to build-fuzz/corpus/NAME). A crash stops with the input
# saved as build-fuzz/crash-NAME-*: add it to fuzz/corpus/NAME, and a test.
FUZZ_PKGS    := clang libclang-rt-14-dev
FUZZ_S       ?= 60
FUZZ_BUILD   := build-fuzz
FUZZ_NAMES   := $(patsubst fuzz/%.c,%,$(wildcard fuzz/*.c))
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_BINS    := $(patsubst %,$(BUILD)/fuzz/%,$(FUZZ_NAMES))
FUZZ_CLI_OBJ := $(BUILD)/obj/src/cli/replay.o $(BUILD)/obj/src/cli/replay_dir.o $(BUILD)/obj/src/cli/capture.o

.PHONY: fuzz fuzz-build fuzz-run deps-fuzz

deps-fuzz:
	$(call ensure_pkgs,$(BUILD_PKGS) $(FUZZ_PKGS))

# The harnesses, linked with libFuzzer's main; built inside the fuzz build.
$(BUILD)/fuzz/%: fuzz/%.c fuzz/fuzz.h $(LIBA) $(FUZZ_CLI_OBJ)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -o $@ $< $(if $(filter hashes who,$*),$(FUZZ_CLI_OBJ)) \
	  $(LIBA) $(LDLIBS)

fuzz-build: $(FUZZ_BINS)

fuzz: deps-fuzz
	$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) CC=clang CFLAGS="-O1 -g" \
	  EXTRA_CFLAGS="-fsanitize=fuzzer-no-link $(FUZZ_SAN)" LDFLAGS="$(FUZZ_SAN)" fuzz-build
	$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) fuzz-run

# Each harness for FUZZ_S seconds; the last line of each run (executions,
# coverage, features) is what docs/fuzzing.md reports.
fuzz-run:
	@set -e; for n in $(FUZZ_NAMES); do \
	  mkdir -p $(BUILD)/corpus/$$n; \
	  echo "== fuzz $$n ($(FUZZ_S) s)"; \
	  ASAN_OPTIONS=allow_user_segv_handler=1:detect_leaks=1 \
	  $(BUILD)/fuzz/$$n -max_total_time=$(FUZZ_S) -print_final_stats=1 -close_fd_mask=2 \
	    -artifact_prefix=$(BUILD)/crash-$$n- $(BUILD)/corpus/$$n fuzz/corpus/$$n \
	    2>$(BUILD)/fuzz-$$n.log || { tail -60 $(BUILD)/fuzz-$$n.log; echo "fuzz $$n: crashed"; exit 1; }; \
	  grep -E '^#[0-9]+.*DONE|stat::number_of_executed_units|stat::average_exec_per_sec|stat::new_units_added' \
	    $(BUILD)/fuzz-$$n.log || true; \
	done
