# cmake.mk - tests/cmake_package.sh installs into a temporary prefix and
# builds examples/cmake against it with CMake.
TEST_PKGS += cmake
