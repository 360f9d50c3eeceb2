# app_build.sh - sourced by the host's shell tests (which set ROOT, BUILD and
# WORK). app_build_cmd NAME prints the command that builds $WORK/src/NAME.c
# into $WORK/NAME.so with the repository's own flags (an ASan run loads an
# ASan application) and the entry padding that lets old builds forward; the library is written under a temporary name
# and renamed into place, so the running host never loads half of it.
app_build_cmd() {
    local flags
    flags=$(make -s --no-print-directory -f - print-cflags BUILD="$BUILD" <<'MAKE'
include Makefile
print-cflags:
	@echo $(ALL_CFLAGS) $(LL_PATCHABLE) $(LDFLAGS)
MAKE
)
    echo "cc $flags -I$ROOT/include -shared -o $WORK/$1.so.tmp $WORK/src/$1.c && mv $WORK/$1.so.tmp $WORK/$1.so"
}
