#!/usr/bin/env bash
# Builds SentencePiece from Debian's own source package against the system
# protobuf (libprotobuf-lite 3.21) and installs static, PIC libraries, headers
# and the spm_* tools into a private prefix (default /opt/vlsm/sentencepiece).
#
# Why: Debian's libsentencepiece.so.0 bundles protobuf-lite 3.14 and exports its
# google::protobuf symbols, which breaks any process that also loads LibTorch
# or gRPC (both on protobuf 3.21). See model/spm_bridge.h.
#
# Idempotent: skips when the prefix's stamp matches (source version, protobuf
# version, recipe). Quiet unless it builds (one line) or fails (log tail).
# Needs root: adds a deb-src entry under /etc/apt/sources.list.d and writes the
# prefix. Needs dpkg-dev, cmake, ninja-build, g++, libprotobuf-dev,
# protobuf-compiler (deploy/install-deps.sh installs them first).
#
# Environment: VLSM_SENTENCEPIECE_ROOT (install prefix), VLSM_SPM_FORCE=1
# (rebuild even when the stamp matches).
set -euo pipefail

readonly PREFIX="${VLSM_SENTENCEPIECE_ROOT:-/opt/vlsm/sentencepiece}"
readonly STAMP="${PREFIX}/share/vlsm/build-stamp"
readonly SRC_LIST=/etc/apt/sources.list.d/vlsm-src.sources
readonly RECIPE=1  # bump when the build options below change
readonly APT_OPTS=(-qq -o DPkg::Lock::Timeout=600)

die() {
  echo "build-sentencepiece: $*" >&2
  exit 1
}

for tool in apt-get dpkg-source cmake ninja c++ protoc nm; do
  command -v "$tool" >/dev/null || die "missing $tool (run deploy/install-deps.sh)"
done
[[ -f /usr/include/google/protobuf/message_lite.h ]] || die "missing libprotobuf-dev"

# deb-src twin of debian.sources, so `apt-get source` fetches the same release.
write_src_list() {
  local want
  want=$(sed -e 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources)
  if [[ ! -f "$SRC_LIST" ]] || [[ "$(cat "$SRC_LIST")" != "$want" ]]; then
    printf '%s\n' "$want" >"$SRC_LIST"
    return 0
  fi
  return 1
}

source_version() {
  apt-cache showsrc --only-source sentencepiece 2>/dev/null |
    awk '/^Version:/ {print $2}' | sort -V | tail -n1
}

[[ -f /etc/apt/sources.list.d/debian.sources ]] || die "no /etc/apt/sources.list.d/debian.sources"
if write_src_list || [[ -z "$(source_version)" ]]; then
  apt-get "${APT_OPTS[@]}" update >/dev/null || die "apt-get update failed"
fi
version=$(source_version)
[[ -n "$version" ]] || die "apt has no source package for sentencepiece"
protobuf_version=$(dpkg-query -W -f='${Version}' libprotobuf-dev)
stamp="sentencepiece=${version} protobuf=${protobuf_version} recipe=${RECIPE}"

if [[ "${VLSM_SPM_FORCE:-0}" != 1 && -f "$STAMP" && "$(cat "$STAMP")" == "$stamp" ]]; then
  exit 0
fi

work=$(mktemp -d /tmp/vlsm-spm.XXXXXX)
log="${work}/build.log"
trap 'rm -rf "$work"' EXIT
fail() {
  echo "build-sentencepiece: $* (last lines of the log follow)" >&2
  tail -n 40 "$log" >&2
  exit 1
}

start=$SECONDS
cd "$work"
apt-get "${APT_OPTS[@]}" source "sentencepiece=${version}" >>"$log" 2>&1 || fail "apt-get source"
src=$(find "$work" -maxdepth 1 -type d -name 'sentencepiece-*' | head -n1)
[[ -d "$src" ]] || fail "unpacked source not found"

# Debian's disable-static-library.patch deletes the static targets, which
# SPM_ENABLE_SHARED=OFF needs: undo it when it was applied.
if ! grep -q 'sentencepiece-static STATIC' "$src/src/CMakeLists.txt"; then
  patch -d "$src" -R -p1 <"$src/debian/patches/disable-static-library.patch" >>"$log" 2>&1 ||
    fail "could not revert disable-static-library.patch"
fi
# 0.1.97's init.h includes the bundled protobuf-lite header even when
# SPM_USE_BUILTIN_PROTOBUF=OFF (fixed upstream in 0.1.98): use the system one.
sed -i 's|#include "third_party/protobuf-lite/google/protobuf/message_lite.h"|#include <google/protobuf/message_lite.h>|' \
  "$src/src/init.h"
if grep -rq 'third_party/protobuf-lite' "$src/src" --include='*.h' --include='*.cc'; then
  fail "a source file still includes the bundled protobuf-lite"
fi

cmake_args=(
  -S "$src" -B "$work/build" -G Ninja
  -DCMAKE_BUILD_TYPE=Release
  -DCMAKE_INSTALL_PREFIX="$PREFIX"
  -DCMAKE_INSTALL_LIBDIR=lib
  -DCMAKE_POSITION_INDEPENDENT_CODE=ON
  -DSPM_ENABLE_SHARED=OFF
  -DSPM_USE_BUILTIN_PROTOBUF=OFF
  -DSPM_ENABLE_TCMALLOC=OFF
)
# Newer upstream releases pick the protobuf provider with this switch.
if grep -q SPM_PROTOBUF_PROVIDER "$src/CMakeLists.txt"; then
  cmake_args+=(-DSPM_PROTOBUF_PROVIDER=package)
fi
cmake "${cmake_args[@]}" >>"$log" 2>&1 || fail "cmake configure"

# The source's CMake must have honoured the switches: no bundled protobuf-lite
# sources and no shared library in the build graph.
if grep -q 'third_party/protobuf-lite' "$work/build/build.ninja"; then
  fail "the build still compiles the bundled protobuf-lite"
fi
if grep -q 'libsentencepiece\.so' "$work/build/build.ninja"; then
  fail "the build still makes a shared libsentencepiece"
fi

cmake --build "$work/build" -j "$(nproc)" >>"$log" 2>&1 || fail "build"
DESTDIR="$work/stage" cmake --install "$work/build" >>"$log" 2>&1 || fail "install"
staged="$work/stage$PREFIX"

# No google::protobuf runtime inside: the only strong google::protobuf
# definitions allowed are the ones protoc generates for sentencepiece's own
# messages (Arena::CreateMaybeMessage<sentencepiece::...>); weak ones are
# inline template instances from the system headers.
for lib in libsentencepiece.a libsentencepiece_train.a; do
  [[ -f "$staged/lib/$lib" ]] || fail "$lib was not installed"
  defined=$(nm -C --defined-only "$staged/lib/$lib" 2>/dev/null) || fail "nm $lib"
  bundled=$(awk '$2 ~ /^[TDBRC]$/ && / google::protobuf::/ && !/sentencepiece::/' <<<"$defined")
  [[ -z "$bundled" ]] || fail "$lib defines google::protobuf symbols: $(head -n3 <<<"$bundled")"
done
# (Captured first: `grep -q` closing a pipe early would trip pipefail.)
undefined=$(nm -C --undefined-only "$staged/lib/libsentencepiece.a" 2>/dev/null)
grep -q 'google::protobuf::MessageLite::' <<<"$undefined" ||
  fail "libsentencepiece.a does not use an external protobuf"
needed=$(readelf -d "$staged/bin/spm_train")
grep -q 'NEEDED.*libprotobuf-lite\.so\.' <<<"$needed" ||
  fail "spm_train does not link the system libprotobuf-lite"
"$staged/bin/spm_train" --version >>"$log" 2>&1 || fail "spm_train --version"

mkdir -p "$staged/share/vlsm"
printf '%s\n' "$stamp" >"$staged/share/vlsm/build-stamp"
mkdir -p "$(dirname "$PREFIX")"
rm -rf "${PREFIX}.old"
if [[ -e "$PREFIX" ]]; then mv "$PREFIX" "${PREFIX}.old"; fi
mv "$staged" "$PREFIX"
rm -rf "${PREFIX}.old"
echo "sentencepiece ${version} (system protobuf ${protobuf_version}) installed in ${PREFIX}" \
  "($((SECONDS - start)) s)"
