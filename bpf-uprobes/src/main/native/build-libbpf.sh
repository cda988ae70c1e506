#!/usr/bin/env bash
# Builds libbpf-bundled.so: libbpf + libelf + zlib, all compiled from Debian's own source packages
# with -fPIC (Debian's static archives are not position-independent, see PLATFORM.md; libbpf
# with our two changes, libbpf-btf-owned.patch and libbpf-vmlinux-btf-shared.patch), plus our small C shim (jeb_shim.c) and its JNI
# binding (jeb_jni.c). The result depends on glibc only.
# Beside it, libjeb-threadctx.so (jeb_threadctx.c): our OpenTelemetry thread context pointer,
# which the shim loads RTLD_LOCAL.
#
# usage: build-libbpf.sh OUT_DIR
#   OUT_DIR receives libbpf-bundled.so, libjeb-threadctx.so and include/bpf/*.h (the headers
#   the BPF programs use).
#
# The three static archives are built from pinned source versions, each file checked against
# its pinned SHA-256, and cached under ${JEB_NATIVE_CACHE:-$HOME/.cache/jvm-ebpf-agent}, keyed by
# those pins and the flags: `mvn clean`, a change of our C files and an offline machine with the
# cache all reuse them. Our own C files are compiled and linked on every build (about a second).
set -euo pipefail

out=${1:?usage: build-libbpf.sh OUT_DIR}
here=$(cd "$(dirname "$0")" && pwd)

# Source packages, in order of preference per package: name, Debian suite list, exact version,
# then every file of that version with its SHA-256 (from the suite's signed Sources index). An
# index may list a version its pool no longer serves (seen: zlib's bookworm security update
# answered 404), so a package falls back to the next pinned version, never to an unpinned one.
# zlib and elfutils of bookworm; libbpf 1.5 of trixie, for uprobe_multi links (bookworm's 1.1
# has none, and this mirror serves no .dsc of bookworm-backports' 1.4).
PINS=(
  "zlib bookworm 1:1.2.13.dfsg-1+deb12u1
     6c230384154d40549de3514d9eb4456def3dc65e9fe24ff07449f5fa72ac1907 zlib_1.2.13.dfsg-1+deb12u1.dsc
     71feb7947e3c00ef125f83b79a4e529bde31171e5babe48b391f06758d1ab0a1 zlib_1.2.13.dfsg.orig.tar.bz2
     8d7b05728c8c4274e910c2d5a462f8aecf9e97c9445700b28c7e390ee4ccbe25 zlib_1.2.13.dfsg-1+deb12u1.debian.tar.xz"
  "zlib bookworm 1:1.2.13.dfsg-1
     3fa1e6b2fc525062aa88207dda52fed8e045373c809d362fe8a2bfbf7cf515a8 zlib_1.2.13.dfsg-1.dsc
     71feb7947e3c00ef125f83b79a4e529bde31171e5babe48b391f06758d1ab0a1 zlib_1.2.13.dfsg.orig.tar.bz2
     f66cf3d4f2d7defcd4d1fd1fb0a11ee39f1e01b42ec7d059c9dc5c1695133c44 zlib_1.2.13.dfsg-1.debian.tar.xz"
  "elfutils bookworm 0.188-2.1
     2e73c5bfe9d0ddbf837742d638c43b049590ae1de8f6e3d9c2740c28e2550760 elfutils_0.188-2.1.dsc
     fb8b0e8d0802005b9a309c60c1d8de32dd2951b56f0c3a3cb56d21ce01595dff elfutils_0.188.orig.tar.bz2
     061bb59801b8a23de4b129acb242210889be2c25b43ad2bcc2eb04966a1823e6 elfutils_0.188.orig.tar.bz2.asc
     dac77dc13f8f3bb2c541d631faf75216fc6640a359143a4545129ee096bc35ff elfutils_0.188-2.1.debian.tar.xz"
  "libbpf trixie 1.5.0-3
     b8fdd3a9c58a13d13e9da0927062f1237303db3a804207e423ec4335119d3245 libbpf_1.5.0-3.dsc
     53492aff6dd47e4da04ef5e672d753b9743848bdb38e9d90eafbe190b7983c44 libbpf_1.5.0.orig.tar.gz
     b526c99fc75f632540306a958576fe3923890cba95d4999efc458784802da460 libbpf_1.5.0-3.debian.tar.xz"
)
ARCHIVE_CFLAGS="-O2 -fPIC"
# Bump when the archive recipe below changes in a way the pins and flags do not show.
RECIPE=3
# Our own change to libbpf's sources (see the file's head), applied after unpacking; part of the
# cache key, so that an edited patch rebuilds the archives.
PATCHES=("$here/libbpf-btf-owned.patch" "$here/libbpf-vmlinux-btf-shared.patch")
key=$( (printf '%s\n' "${PINS[@]}" "$ARCHIVE_CFLAGS" "$RECIPE"; cat "${PATCHES[@]}") | sha256sum | cut -c1-16)
cache=${JEB_NATIVE_CACHE:-$HOME/.cache/jvm-ebpf-agent}/archives-$key

work=$(mktemp -d "${TMPDIR:-/tmp}/jeb-libbpf.XXXXXX")
trap 'rm -rf "$work"' EXIT
jobs=$(nproc 2>/dev/null || echo 2)

if [ ! -f "$cache/libbpf.a" ]; then
  for tool in gcc make dpkg-source apt-get sha256sum patch; do
    command -v "$tool" >/dev/null || { echo "build-libbpf.sh: '$tool' is missing; run 'make deps' (as root) first" >&2; exit 1; }
  done

  # Debian's source packages, fetched through private sources lists so the system's apt
  # configuration is left alone.
  mkdir -p "$work/src"
  declare -A updated=()
  sources() { # SUITE: a private apt setup under $work/apt-SUITE, updated once
    local suite=$1
    [ -n "${updated[$suite]:-}" ] && return 0
    mkdir -p "$work/apt-$suite/parts" "$work/apt-$suite/lists/partial"
    {
      echo "Types: deb-src"
      echo "URIs: http://deb.debian.org/debian"
      echo "Suites: $suite $([ "$suite" = bookworm ] && echo bookworm-updates)"
      echo "Components: main"
      echo "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg"
      if [ "$suite" = bookworm ]; then
        echo
        echo "Types: deb-src"
        echo "URIs: http://deb.debian.org/debian-security"
        echo "Suites: bookworm-security"
        echo "Components: main"
        echo "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg"
      fi
    } > "$work/apt-$suite/parts/jeb-src.sources"
    apt-get -o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$work/apt-$suite/parts" \
        -o "Dir::State::Lists=$work/apt-$suite/lists" -o APT::Sandbox::User=root -qq update
    updated[$suite]=1
  }
  fetch() { # PKG: unpacks the first pinned version of PKG that is served and matches its pins
    local pkg=$1 pin name suite version fetched="" sum file ok
    for pin in "${PINS[@]}"; do
      read -r name suite version _ <<< "$pin"
      [ "$name" = "$pkg" ] || continue
      sources "$suite"
      rm -rf "$work/dl" && mkdir -p "$work/dl"
      if ! (cd "$work/dl" && apt-get -o Dir::Etc::SourceList=/dev/null \
              -o "Dir::Etc::SourceParts=$work/apt-$suite/parts" -o "Dir::State::Lists=$work/apt-$suite/lists" \
              -o APT::Sandbox::User=root -qq source --download-only "$pkg=$version" >/dev/null 2>&1); then
        echo "build-libbpf.sh: source of $pkg $version not served, trying the next pinned version" >&2
        continue
      fi
      ok=1
      while read -r sum file; do
        [ -n "$file" ] || continue
        if ! echo "$sum  $work/dl/$file" | sha256sum --quiet -c - >/dev/null 2>&1; then
          echo "build-libbpf.sh: $file does not match its pinned SHA-256 $sum" >&2
          ok=""
        fi
      done <<< "$(echo "$pin" | tail -n +2)"
      [ -n "$ok" ] || continue
      fetched=$version
      break
    done
    [ -n "$fetched" ] || { echo "build-libbpf.sh: no pinned version of the source package $pkg could be fetched" >&2; exit 1; }
    echo "build-libbpf.sh: $pkg $fetched (checksums match the pins)" >&2
    # The files were checked against the pins above; --no-check skips dpkg-source's signature check.
    (cd "$work/dl" && dpkg-source -x --no-check "$(ls ${pkg}_*.dsc | head -n1)" "$work/src/$pkg-src" >/dev/null)
  }
  echo "build-libbpf.sh: fetching Debian sources of libbpf, elfutils, zlib" >&2
  fetch zlib
  fetch elfutils
  fetch libbpf
  zsrc=$work/src/zlib-src
  esrc=$work/src/elfutils-src
  bsrc=$work/src/libbpf-src
  for p in "${PATCHES[@]}"; do
    patch -s -p1 -d "$bsrc" < "$p" || { echo "build-libbpf.sh: $p does not apply to libbpf's sources" >&2; exit 1; }
  done

  echo "build-libbpf.sh: building zlib" >&2
  (cd "$zsrc" && CFLAGS="$ARCHIVE_CFLAGS" ./configure --static >/dev/null && make -s -j"$jobs" libz.a >/dev/null)

  echo "build-libbpf.sh: building libelf" >&2
  (cd "$esrc" && ./configure -q --disable-debuginfod --disable-libdebuginfod --without-bzlib \
      --without-lzma --without-zstd CFLAGS="$ARCHIVE_CFLAGS -I$zsrc" LDFLAGS="-L$zsrc" >/dev/null \
    && make -s -C lib -j"$jobs" >/dev/null && make -s -C libelf -j"$jobs" libelf.a >/dev/null)

  echo "build-libbpf.sh: building libbpf" >&2
  make -s -C "$bsrc/src" -j"$jobs" BUILD_STATIC_ONLY=y OBJDIR="$work/bpfobj" \
      CFLAGS="$ARCHIVE_CFLAGS -I$esrc/libelf -I$zsrc" "$work/bpfobj/libbpf.a" >/dev/null
  make -s -C "$bsrc/src" install_headers DESTDIR="$work/hdr" PREFIX=/ >/dev/null

  mkdir -p "$cache.tmp/include" "$cache.tmp/uapi"
  cp "$work/bpfobj/libbpf.a" "$esrc/libelf/libelf.a" "$zsrc/libz.a" "$cache.tmp/"
  cp -r "$work/hdr/include/bpf" "$cache.tmp/include/"
  # libbpf's own copy of the kernel's UAPI headers: newer than the build machine's.
  cp -r "$bsrc/include/uapi/." "$cache.tmp/uapi/"
  rm -rf "$cache" && mv "$cache.tmp" "$cache"
fi

# JNI's headers, from the JDK that runs this build (Maven's java) or the javac on the PATH.
jdk=${JAVA_HOME:-}
if [ -z "$jdk" ] || [ ! -f "$jdk/include/jni.h" ]; then
  jdk=$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")
fi
[ -f "$jdk/include/jni.h" ] || { echo "build-libbpf.sh: no jni.h (set JAVA_HOME to a JDK)" >&2; exit 1; }

flags=(-O2 -fPIC -Wall -Wextra -Werror -I"$cache/include" -I"$cache/uapi")
gcc "${flags[@]}" -c "$here/jeb_shim.c" -o "$work/jeb_shim.o"
gcc "${flags[@]}" -I"$jdk/include" -I"$jdk/include/linux" -c "$here/jeb_jni.c" -o "$work/jeb_jni.o"
# --exclude-libs keeps libelf's and zlib's symbols private, so they never clash with another
# copy the host process may have loaded.
gcc -shared -fPIC -o "$work/libbpf-bundled.so" "$work/jeb_shim.o" "$work/jeb_jni.o" \
    -Wl,--whole-archive "$cache/libbpf.a" -Wl,--no-whole-archive "$cache/libelf.a" "$cache/libz.a" \
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

mkdir -p "$out"
cp "$work/libbpf-bundled.so" "$work/libjeb-threadctx.so" "$out/"
rm -rf "$out/include" && cp -r "$cache/include" "$out/"
