# host.mk - the host layer's extras: the pong demo, the test application,
# the packages the host's tests need, and `make run`.

# SDL2 headers to build the SDL platform (libSDL2 itself is opened with
# dlopen at run time); for the host's tests a virtual X server, tmux, keys
# typed into X (xdotool) and a capture of the X screen (imagemagick).
BUILD_PKGS += libsdl2-dev
TEST_PKGS  += libsdl2-2.0-0 xvfb xauth tmux xdotool imagemagick
# Clips (looplive replay --video, alt+v) are made by ffmpeg, run as a
# program: needed by the tests, optional for users.
TEST_PKGS  += ffmpeg

# An application library: one C file, position-independent, no libraries,
# every function with room for the jump that forwards old builds to new.
# Written under a temporary name and renamed, so a running host never sees
# half a library.
$(BUILD)/examples/pong.so: examples/pong/pong.c include/looplive.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LL_PATCHABLE) -shared $(LDFLAGS) -o $@.tmp $< && mv $@.tmp $@

$(BUILD)/tests/host_app.so: tests/host_app.c include/looplive.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -shared $(LDFLAGS) -o $@.tmp $< && mv $@.tmp $@

$(BUILD)/tests/host_app_v99.so: tests/host_app.c include/looplive.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -shared $(LDFLAGS) -DAPP_API=99 -o $@.tmp $< && mv $@.tmp $@

EXTRA_TARGETS += $(BUILD)/examples/pong.so
TEST_FIXTURES += $(BUILD)/tests/host_app.so $(BUILD)/tests/host_app_v99.so

# `make run`: the terminal demo, rebuilt and reloaded when examples/bounce
# changes. Without a terminal (CI, a pipe) a short headless run that records
# a loop and plays it, then prints a report.
RUN_SO := $(BUILD)/examples/bounce.so
RUN_CMD = @if [ -t 0 ] && [ -t 1 ]; then \
	  $(CLI) run $(RUN_SO) --watch examples/bounce \
	    --build '$(MAKE) --no-print-directory $(RUN_SO)'; \
	else \
	  echo "looplive: no terminal: a 240-frame headless run of bounce instead (run 'make run' in a terminal to play)"; \
	  $(CLI) run $(RUN_SO) --headless --frames 240 --keys 20:alt+l,80:alt+l; \
	fi

# An application whose entities keep behaviour function pointers in the
# state, in variants (tests/host_behave.c): what forwarding, code maps and
# layout changes are tested with.
BEHAVE_APPS := $(addprefix $(BUILD)/tests/behave_,v1.so v2.so crash.so nohop.so layout2.so \
                 migrate.so small.so)
BEHAVE_FLAGS_v1 := -DVERSION=1
BEHAVE_FLAGS_v2 := -DVERSION=2
BEHAVE_FLAGS_crash := -DVERSION=3 -DCRASH
BEHAVE_FLAGS_nohop := -DVERSION=4 -DNO_HOP
BEHAVE_FLAGS_layout2 := -DVERSION=5 -DLAYOUT=2
BEHAVE_FLAGS_migrate := -DVERSION=6 -DLAYOUT=2 -DMIGRATE
BEHAVE_FLAGS_small := -DVERSION=7 # without the entry padding: a 1-byte function
$(BUILD)/tests/behave_%.so: tests/host_behave.c include/looplive.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(if $(filter small,$*),,$(LL_PATCHABLE)) -shared $(LDFLAGS) \
	  $(BEHAVE_FLAGS_$*) -o $@.tmp $< && mv $@.tmp $@
TEST_FIXTURES += $(BEHAVE_APPS)
