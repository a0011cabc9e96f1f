#!/usr/bin/env bash
# Build a free-threaded CPython 3.13 (python3.13t, configure --disable-gil) from Debian's
# source package, to run perfectly without the GIL on a machine that has no 3.13t/3.14t
# binary. Debian 13 (trixie) ships CPython 3.13; its source package is fetched with
# apt-get source, so only Debian's archive is needed. About 8 minutes on 2 cores, apt included.
#
#   tools/build_freethreaded_python.sh [PREFIX]     # default PREFIX: ~/.local/python3.13t
#   tools/wheel_proof.py --pythons PREFIX/bin/python3.13t
#
# Needs root (apt) on Debian. Adds a deb-src entry for trixie when apt has no python3.13 source.
set -euo pipefail

prefix=${1:-$HOME/.local/python3.13t}
python="$prefix/bin/python3.13t"
if [ -x "$python" ]; then
    echo "already built: $python ($("$python" -VV))"
    exit 0
fi

apt-get update -qq
if ! apt-get source --print-uris python3.13 2>/dev/null | grep -q "python3.13_3.13"; then
    sources=/etc/apt/sources.list.d/perfectly-trixie-src.sources
    echo "adding $sources (deb-src for trixie, whose python3.13 this builds)"
    cat >"$sources" <<'EOF'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    apt-get update -qq
fi
# dpkg-dev for apt-get source; the rest are what CPython's optional modules build against.
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    dpkg-dev xz-utils build-essential pkg-config libssl-dev zlib1g-dev libbz2-dev \
    liblzma-dev libffi-dev libsqlite3-dev libreadline-dev libncurses-dev uuid-dev \
    libgdbm-dev >/dev/null

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
apt-get source --download-only python3.13
tarball=$(ls python3.13_*.orig.tar.* | grep -v '\.asc$')
echo "building $tarball into $prefix"
tar -xf "$tarball"
cd Python-3.13*/
./configure --disable-gil --prefix="$prefix" --with-ensurepip=install >configure.log
make -j"$(nproc)" >make.log 2>&1 || { tail -40 make.log; exit 1; }
make install >install.log 2>&1 || { tail -40 install.log; exit 1; }

"$python" -VV
"$python" -c 'import sys, sysconfig
assert sysconfig.get_config_var("Py_GIL_DISABLED"), "not a free-threaded build"
print("free-threaded build; GIL enabled:", sys._is_gil_enabled())'
echo "done: $python"
