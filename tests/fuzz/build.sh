#!/bin/sh
# Builds every tests/fuzz/fuzz_*.c as a libFuzzer binary (clang, ASan+UBSan).
# usage: tests/fuzz/build.sh SRCDIR OUTDIR   (OUTDIR's parent is a configured build dir)
set -e
src=$1 out=$2
build=$(dirname "$out")
mkdir -p "$out"
CC=${FUZZ_CC:-clang}
flags="-g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -I$build -I$src/include"
libs="$(pkg-config --cflags --libs jansson libsodium)"
common=$(ls "$src"/common/*.c)
for h in "$src"/tests/fuzz/fuzz_*.c; do
	name=$(basename "$h" .c)
	echo "fuzz: building $name"
	$CC $flags -o "$out/$name" "$h" $common $libs
done
