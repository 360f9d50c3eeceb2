# loop.mk - the demo application examples/bounce, built as a shared library
# that `looplive replay` and `looplive run` load.

BOUNCE_SRC := $(wildcard examples/bounce/*.c)
BOUNCE_SO  := $(BUILD)/examples/bounce.so

$(BOUNCE_SO): $(BOUNCE_SRC) examples/bounce/bounce.h include/looplive.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LL_PATCHABLE) -shared $(LDFLAGS) -o $@ $(BOUNCE_SRC)

EXTRA_TARGETS += $(BOUNCE_SO)

# tests/loop_memory.sh reads the peak RSS of `looplive run` with GNU time.
TEST_PKGS += time

# Test applications: versions 1 and 2 (a reload changes behaviour), one that
# keeps state outside the block, one a stack address, one a byte of
# uninitialised stack (the determinism check must catch all three), one
# that prints every frame (replay keeps it out of the hashes), one that
# crashes on a given input and one whose looplive_app() faults.
LOOP_TEST_APPS := $(BUILD)/tests/loop/app_v1.so $(BUILD)/tests/loop/app_v2.so \
                  $(BUILD)/tests/loop/app_nondet.so $(BUILD)/tests/loop/app_crash.so \
                  $(BUILD)/tests/loop/app_stack_address.so $(BUILD)/tests/loop/app_stack_uninit.so \
                  $(BUILD)/tests/loop/app_prints.so $(BUILD)/tests/loop/app_bad_table.so \
                  $(BUILD)/tests/loop/app_change210.so $(BUILD)/tests/loop/app_no_effect.so \
                  $(BUILD)/tests/loop/app_crash_at60.so $(BUILD)/tests/loop/app_crash_from60.so \
                  $(BUILD)/tests/loop/app_big_input.so $(BUILD)/tests/loop/app_layout8.so \
                  $(BUILD)/tests/loop/app_arenas.so $(BUILD)/tests/loop/app_arenas_change210.so

$(BUILD)/tests/loop/app_v1.so: tests/loop/app.c include/looplive.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -shared $(LDFLAGS) -DVERSION=1 -o $@ $<
$(BUILD)/tests/loop/app_v2.so: tests/loop/app.c include/looplive.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -shared $(LDFLAGS) -DVERSION=2 -o $@ $<
$(BUILD)/tests/loop/app_nondet.so: tests/loop/app.c include/looplive.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -shared $(LDFLAGS) -DNONDET -o $@ $<
$(BUILD)/tests/loop/app_stack_address.so: tests/loop/app.c include/looplive.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -shared $(LDFLAGS) -DSTACK_ADDRESS -o $@ $<
$(BUILD)/tests/loop/app_stack_uninit.so: tests/loop/app.c include/looplive.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -shared $(LDFLAGS) -DSTACK_UNINIT -o $@ $<
$(BUILD)/tests/loop/app_prints.so: tests/loop/app.c include/looplive.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -shared $(LDFLAGS) -DPRINTS -o $@ $<
$(BUILD)/tests/loop/app_crash.so: tests/loop/app.c include/looplive.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -shared $(LDFLAGS) -DCRASH -o $@ $<

# Re-simulation (test_loop_resim, test_host_resim): a change from frame
# 210, a crash in frame 60 (and in every frame from 60), builds of another
# input size and another layout, and a change with no effect on the state.
$(BUILD)/tests/loop/app_change210.so: tests/loop/app.c include/looplive.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -shared $(LDFLAGS) -DCHANGE_FROM=210 -o $@ $<
$(BUILD)/tests/loop/app_crash_at60.so: tests/loop/app.c include/looplive.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -shared $(LDFLAGS) -DCRASH_AT=60 -o $@ $<
$(BUILD)/tests/loop/app_crash_from60.so: tests/loop/app.c include/looplive.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -shared $(LDFLAGS) -DCRASH_FROM=60 -o $@ $<
$(BUILD)/tests/loop/app_big_input.so: tests/loop/app.c include/looplive.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -shared $(LDFLAGS) -DBIG_INPUT -o $@ $<
$(BUILD)/tests/loop/app_layout8.so: tests/loop/app.c include/looplive.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -shared $(LDFLAGS) -DLAYOUT8 -o $@ $<
$(BUILD)/tests/loop/app_no_effect.so: tests/loop/app.c include/looplive.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -shared $(LDFLAGS) -DNO_EFFECT -o $@ $<
# The counter in an arena, and the change from frame 210 on it.
$(BUILD)/tests/loop/app_arenas.so: tests/loop/app.c include/looplive.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -shared $(LDFLAGS) -DARENAS -o $@ $<
$(BUILD)/tests/loop/app_arenas_change210.so: tests/loop/app.c include/looplive.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -shared $(LDFLAGS) -DARENAS -DCHANGE_FROM=210 -o $@ $<

$(BUILD)/tests/loop/app_bad_table.so: tests/loop/app.c include/looplive.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -shared $(LDFLAGS) -DBAD_TABLE -o $@ $<

TEST_FIXTURES += $(LOOP_TEST_APPS)

# The out-of-memory test makes one realloc size fail (see the test).
$(BUILD)/tests/test_loop_oom: override LDFLAGS += -Wl,--wrap=realloc

# An application that keeps its state in globals (issue 15): versions that
# reload with the same globals, one whose counter grew, and one that grew
# it with a new layout version and a migrate function.
GLOBALS_APPS := $(BUILD)/tests/loop/globals_v1.so $(BUILD)/tests/loop/globals_v2.so \
                $(BUILD)/tests/loop/globals_grow.so $(BUILD)/tests/loop/globals_migrates.so \
                $(BUILD)/tests/loop/globals_c_heap.so
GLOBALS_FLAGS_v1 :=
GLOBALS_FLAGS_v2 := -DTIMES=2
GLOBALS_FLAGS_grow := -DGROW
GLOBALS_FLAGS_migrates := -DGROW -DLAYOUT=2 -DMIGRATES
GLOBALS_FLAGS_c_heap := -DC_HEAP
$(BUILD)/tests/loop/globals_%.so: tests/loop/globals_app.c include/looplive.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -shared $(LDFLAGS) $(GLOBALS_FLAGS_$*) -o $@ $<

TEST_FIXTURES += $(GLOBALS_APPS)

# Applications that keep a pointer out of the block (issue 15): into the
# C heap, into memory malloc mapped, into a stack.
HEAP_APPS := $(BUILD)/tests/loop/heap_heap.so $(BUILD)/tests/loop/heap_mmap.so \
             $(BUILD)/tests/loop/heap_stack.so
HEAP_FLAGS_heap :=
HEAP_FLAGS_mmap := -DMMAP
HEAP_FLAGS_stack := -DSTACK
$(BUILD)/tests/loop/heap_%.so: tests/loop/heap_app.c include/looplive.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -shared $(LDFLAGS) $(HEAP_FLAGS_$*) -o $@ $<

TEST_FIXTURES += $(HEAP_APPS)
