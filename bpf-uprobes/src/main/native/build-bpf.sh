#!/usr/bin/env bash
# Compiles every *.bpf.c of SRC_DIR into OUT_DIR/<name>.bpf.o with clang, keeping BTF (-g) so
# the Java mirrors of the shared headers can be checked against it.
#
# usage: build-bpf.sh SRC_DIR OUT_DIR LIBBPF_INCLUDE_DIR [EXTRA_INCLUDE_DIR...]
set -euo pipefail

src=${1:?usage: build-bpf.sh SRC_DIR OUT_DIR LIBBPF_INCLUDE_DIR [EXTRA_INCLUDE_DIR...]}
out=${2:?}
libbpf_include=${3:?}
shift 3
command -v clang >/dev/null || { echo "build-bpf.sh: clang is missing; run 'make deps' (as root) first" >&2; exit 1; }

includes=(-I"$src" -I"$libbpf_include")
for dir in "$@"; do includes+=(-I"$dir"); done
# asm/ptrace.h and asm/errno.h come from the multiarch include directory.
includes+=(-I/usr/include/"$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)")

mkdir -p "$out"
for file in "$src"/*.bpf.c; do
  name=$(basename "$file" .c)
  # -mcpu=v3: atomic compare-and-exchange (common.bpf.h), in kernels since 5.12.
  clang -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_x86 -Wall -Werror "${includes[@]}" \
        -c "$file" -o "$out/$name.o"
  # Drop DWARF but keep BTF: smaller resources, same layouts.
  llvm-strip -g "$out/$name.o" 2>/dev/null || true
done
