# san.sh - sourced by tests that compile and link programs of their own
# against $BUILD's library: sets SAN_FLAGS to the sanitizer flags that
# library was built with (empty for a plain build; make test-asan builds
# it with AddressSanitizer and UBSan), so a program linked to it gets the
# same runtime.
SAN_FLAGS=""
if nm "$BUILD/liblooplive.a" 2>/dev/null | grep ' __asan_' >/dev/null; then
    SAN_FLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer"
fi
