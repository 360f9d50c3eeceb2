#!/bin/bash
# loop_replay.sh - the committed demo recording replays to its committed
# hashes: a regression test of the bounce application and the loop layer.
set -u
BUILD=${BUILD:-build}
$BUILD/looplive replay --module $BUILD/examples/bounce.so --recording examples/bounce/demo.llrec --check examples/bounce/demo.hashes
