#!/usr/bin/env bash
# Builds libbpf-bundled.so: libbpf + libelf + zlib, all compiled from Debian's own source packages
# with -fPIC (Debian's static archives are not position-independent, see PLATFORM.md), plus our
# small C shim (jeb_shim.c). The result depends on glibc only. Beside it, libjeb-threadctx.so
# (jeb_threadctx.c): our OpenTelemetry thread context pointer, which the shim loads RTLD_LOCAL.
#
# usage: build-libbpf.sh OUT_DIR
#   OUT_DIR receives libbpf-bundled.so, libjeb-threadctx.so and include/bpf/*.h (the headers
#   the BPF programs use).
# The build is cached under ${JEB_NATIVE_CACHE:-$HOME/.cache/jvm-ebpf-agent}, keyed by this
# script's and the shim's content, so `mvn clean` does not force a rebuild.
set -euo pipefail

out=${1:?usage: build-libbpf.sh OUT_DIR}
here=$(cd "$(dirname "$0")" && pwd)
key=$(cat "$here/build-libbpf.sh" "$here/jeb_shim.c" "$here/jeb_threadctx.c" | sha256sum | cut -c1-16)
cache=${JEB_NATIVE_CACHE:-$HOME/.cache/jvm-ebpf-agent}/libbpf-$key

if [ ! -f "$cache/libbpf-bundled.so" ] || [ ! -f "$cache/libjeb-threadctx.so" ]; then
  for tool in gcc make dpkg-source apt-get; do
    command -v "$tool" >/dev/null || { echo "build-libbpf.sh: '$tool' is missing; run 'make deps' (as root) first" >&2; exit 1; }
  done
  work=$(mktemp -d "${TMPDIR:-/tmp}/jeb-libbpf.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  jobs=$(nproc 2>/dev/null || echo 2)

  # Debian's source packages, fetched through private sources lists so the system's apt
  # configuration is left alone: zlib and elfutils of bookworm, libbpf of trixie (1.5: uprobe_multi
  # links, which the kernel removes in one go instead of one uprobe at a time; bookworm's 1.1 has
  # none, and this mirror serves no .dsc of bookworm-backports' 1.4).
  mkdir -p "$work/src"
  sources() { # NAME SUITES...: a private apt setup under $work/apt-NAME, updated
    local name=$1
    shift
    mkdir -p "$work/apt-$name/parts" "$work/apt-$name/lists/partial"
    {
      echo "Types: deb-src"
      echo "URIs: http://deb.debian.org/debian"
      echo "Suites: $*"
      echo "Components: main"
      echo "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg"
      if [ "$name" = bookworm ]; then
        echo
        echo "Types: deb-src"
        echo "URIs: http://deb.debian.org/debian-security"
        echo "Suites: bookworm-security"
        echo "Components: main"
        echo "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg"
      fi
    } > "$work/apt-$name/parts/jeb-src.sources"
    apt-get -o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$work/apt-$name/parts" \
        -o "Dir::State::Lists=$work/apt-$name/lists" -o APT::Sandbox::User=root -qq update
  }
  # An index may list a version its pool no longer serves (seen: a security update of zlib whose
  # files answered 404), so each version the indexes list is tried, newest first.
  fetch() { # NAME PKG: unpacks the newest served source of PKG into $work/src/PKG-src
    local aptopts=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$work/apt-$1/parts"
                   -o "Dir::State::Lists=$work/apt-$1/lists" -o APT::Sandbox::User=root)
    local pkg=$2 version fetched=""
    for version in $(apt-cache "${aptopts[@]}" showsrc "$pkg" | awk -v p="$pkg" \
        '/^Package:/ {ours = ($2 == p)} ours && /^Version:/ {print $2}' | sort -u -r -V); do
      rm -rf "$work/dl" && mkdir -p "$work/dl"
      if (cd "$work/dl" && apt-get "${aptopts[@]}" -qq source --download-only "$pkg=$version" >/dev/null 2>&1); then
        fetched=$version
        break
      fi
      echo "build-libbpf.sh: source of $pkg $version not served, trying an older one" >&2
    done
    [ -n "$fetched" ] || { echo "build-libbpf.sh: no version of the source package $pkg could be fetched" >&2; exit 1; }
    echo "build-libbpf.sh: $pkg $fetched" >&2
    (cd "$work/dl" && dpkg-source -x --no-check "$(ls ${pkg}_*.dsc | head -n1)" "$work/src/$pkg-src" >/dev/null)
  }
  echo "build-libbpf.sh: fetching Debian sources of libbpf, elfutils, zlib" >&2
  sources bookworm bookworm bookworm-updates
  sources trixie trixie
  fetch bookworm zlib
  fetch bookworm elfutils
  fetch trixie libbpf
  zsrc=$work/src/zlib-src
  esrc=$work/src/elfutils-src
  bsrc=$work/src/libbpf-src

  echo "build-libbpf.sh: building zlib" >&2
  (cd "$zsrc" && CFLAGS="-O2 -fPIC" ./configure --static >/dev/null && make -s -j"$jobs" libz.a >/dev/null)

  echo "build-libbpf.sh: building libelf" >&2
  (cd "$esrc" && ./configure -q --disable-debuginfod --disable-libdebuginfod --without-bzlib \
      --without-lzma --without-zstd CFLAGS="-O2 -fPIC -I$zsrc" LDFLAGS="-L$zsrc" >/dev/null \
    && make -s -C lib -j"$jobs" >/dev/null && make -s -C libelf -j"$jobs" libelf.a >/dev/null)

  echo "build-libbpf.sh: building libbpf" >&2
  make -s -C "$bsrc/src" -j"$jobs" BUILD_STATIC_ONLY=y OBJDIR="$work/bpfobj" \
      CFLAGS="-O2 -fPIC -I$esrc/libelf -I$zsrc" "$work/bpfobj/libbpf.a" >/dev/null
  make -s -C "$bsrc/src" install_headers DESTDIR="$work/hdr" PREFIX=/ >/dev/null

  echo "build-libbpf.sh: linking libbpf-bundled.so" >&2
  # libbpf's own copy of the kernel's UAPI headers: newer than the build machine's.
  gcc -O2 -fPIC -Wall -Wextra -Werror -I"$work/hdr/include" -I"$bsrc/include/uapi" -c "$here/jeb_shim.c" \
      -o "$work/jeb_shim.o"
  # --exclude-libs keeps libelf's and zlib's symbols private, so they never clash with another
  # copy the host process may have loaded.
  gcc -shared -fPIC -o "$work/libbpf-bundled.so" "$work/jeb_shim.o" \
      -Wl,--whole-archive "$work/bpfobj/libbpf.a" -Wl,--no-whole-archive \
      "$esrc/libelf/libelf.a" "$zsrc/libz.a" \
      -Wl,--exclude-libs,libelf.a:libz.a -Wl,-z,defs -Wl,-z,noexecstack -Wl,-Bsymbolic
  strip --strip-unneeded "$work/libbpf-bundled.so"
  # -mtls-dialect=gnu2: otel_thread_ctx_v1 (OTEP 4947) through TLSDESC, as the OTEP recommends.
  gcc -O2 -fPIC -mtls-dialect=gnu2 -Wall -Wextra -Werror -shared -o "$work/libjeb-threadctx.so" \
      "$here/jeb_threadctx.c" -Wl,-z,defs -Wl,-z,noexecstack -Wl,-Bsymbolic
  strip --strip-unneeded "$work/libjeb-threadctx.so"
  if ldd "$work/libbpf-bundled.so" | grep -vE 'linux-vdso|libc\.so|ld-linux' | grep -q .; then
    echo "build-libbpf.sh: libbpf-bundled.so depends on more than glibc:" >&2
    ldd "$work/libbpf-bundled.so" >&2
    exit 1
  fi
  mkdir -p "$cache.tmp/include"
  cp "$work/libbpf-bundled.so" "$work/libjeb-threadctx.so" "$cache.tmp/"
  cp -r "$work/hdr/include/bpf" "$cache.tmp/include/"
  rm -rf "$cache" && mv "$cache.tmp" "$cache"
fi

mkdir -p "$out"
cp "$cache/libbpf-bundled.so" "$cache/libjeb-threadctx.so" "$out/"
rm -rf "$out/include" && cp -r "$cache/include" "$out/"
