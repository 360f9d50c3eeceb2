# perf.mk - the application library the bench's loop group drives through
# a module (loop_frame_module_us): $(BUILD)/bench/loop_app.so, found beside
# the bench binary.
BENCH_LOOP_APP := $(BUILD)/bench/loop_app.so

$(BENCH_LOOP_APP): bench/loop_module/app.c include/looplive.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -shared $(LDFLAGS) -o $@ $<

TEST_FIXTURES += $(BENCH_LOOP_APP)

# The application of the compat group's globals_snapshot_us: a 1 MiB .bss.
BENCH_COMPAT_GLOBALS := $(BUILD)/bench/compat_globals.so

$(BENCH_COMPAT_GLOBALS): bench/compat_module/globals.c include/looplive.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -shared $(LDFLAGS) -o $@ $<

TEST_FIXTURES += $(BENCH_COMPAT_GLOBALS)
