# The public headers in every language mode (tests/header_modes.sh): C11
# -pedantic and C23 with gcc and clang, C++17 and C++20 with g++ and clang++.
TEST_PKGS += g++ clang
