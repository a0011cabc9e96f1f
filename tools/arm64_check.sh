#!/bin/bash
# arm64_check.sh — perfectly's kernel on ARM64 (aarch64), on an x86-64 Debian bookworm host,
# under qemu user-mode emulation, with no change to the system; .ci/run's ARM64 step.
#
# Usage:  tools/arm64_check.sh WORK [PYTEST ARGS...]
#   WORK         a dedicated folder (packages, toolchain, build, answers); emptied and reused.
#   PYTEST ARGS  what pytest runs on aarch64; default: the kernel subset below (about a
#                minute here). The whole kernel suite, about 10 minutes more:
#                  tools/arm64_check.sh WORK tests/test_kernels.py tests/test_sigma.py \
#                    tests/test_sum_sigma.py tests/test_ranges.py tests/test_known.py \
#                    tests/test_dispatch.py
# Env:    REFERENCE  an x86-64 Python with this checkout's perfectly installed: its answers,
#                    on every CPU target this CPU runs, must equal the aarch64 build's
#                    (without it: WORK/answers/aarch64.json, for
#                    `python tools/kernel_answers.py --against` later; .ci/run does that).
#         MIRROR     Debian archive (default: the first URIs: line of this machine's apt sources)
#         PYTHON     the host Python that cythonizes (needs Cython; default: python)
#
# How (about 2 minutes here; compiling under emulation instead took 8-15):
#   1. A private apt state for bookworm, amd64 + arm64 (never /etc/apt, /var/lib/apt or dpkg's
#      database); `apt-get download` of qemu-user-static and the aarch64 cross gcc (amd64
#      packages) and of Debian's arm64 python3.11 and the libraries it loads; `dpkg -x` of the
#      first into WORK/host, of the second into WORK/sysroot. The cross gcc runs from there
#      (it finds its parts relative to itself; binutils' own libraries through
#      LD_LIBRARY_PATH, for the compiler calls only).
#   2. NumPy and the test tools: PyPI's aarch64 wheels for CPython 3.11 (pip --target).
#   3. The kernel: tools/cross_compile.py (this checkout's Cython C, with the compile and
#      link lines of Debian arm64's own Python); the package is this checkout's
#      src/perfectly (tracked files) plus that module.
#   4. WORK/bin/python3 runs the arm64 python3.11 under qemu-aarch64-static -L WORK/sysroot;
#      it is also sys.executable there (qemu's -0), so tests that start child Pythons work.
#   5. tools/kernel_answers.py on aarch64: answers (the trial method, the sieve up to 2^64,
#      the closed form, factoring) and checks against independent facts; then pytest.
set -euo pipefail

[ $# -ge 1 ] || { sed -n '2,19p' "$0" >&2; exit 2; }
WORK=$1; shift
# The default subset: the compiled kernel's tests of these files, less the slowest under
# emulation (the trial method's sweeps, floating point; the hypothesis and large-n
# sweeps). The trial method and the sieve near 2^64 are in kernel_answers.py's calls.
[ $# -gt 0 ] || set -- tests/test_sigma.py tests/test_known.py tests/test_kernels.py -k \
    "not trial and not _reference and not multiplicative and not large_n and not each_other"
HERE=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=${PYTHON:-python}
MIRROR=${MIRROR:-$(sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1)}
[ -n "$MIRROR" ] || { echo "no Debian archive in /etc/apt/sources.list.d/*.sources: set MIRROR" >&2; exit 2; }
mkdir -p "$WORK"; WORK=$(cd "$WORK" && pwd)
HOST=$WORK/host; SYSROOT=$WORK/sysroot; SITE=$WORK/site; PKG=$WORK/pkg; OUT=$WORK/answers
say() { printf '\n== %s (%ss)\n' "$*" "$SECONDS"; }

HOST_PKGS="qemu-user-static gcc-12-aarch64-linux-gnu cpp-12-aarch64-linux-gnu
  binutils-aarch64-linux-gnu gcc-12-cross-base libgcc-12-dev-arm64-cross libc6-dev-arm64-cross
  libc6-arm64-cross linux-libc-dev-arm64-cross libgcc-s1-arm64-cross"
ARM_PKGS="python3.11-minimal libpython3.11-minimal libpython3.11-stdlib libpython3.11-dev libc6
  libgcc-s1 libstdc++6 libexpat1 zlib1g libffi8 libssl3 libbz2-1.0 liblzma5 libuuid1
  libsqlite3-0 libncursesw6 libtinfo6 libreadline8 libdb5.3 libcrypt1 libnsl2 libtirpc3"

say "bookworm package lists for amd64 and arm64 (private apt state in $WORK/apt)"
APT=$WORK/apt
mkdir -p "$APT/etc" "$APT/lists/partial" "$APT/cache/archives/partial" "$WORK/debs"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $MIRROR bookworm main" \
    > "$APT/etc/bookworm.list"
APTO=(-o "Dir::Etc::sourcelist=$APT/etc/bookworm.list" -o "Dir::Etc::sourceparts=-"
      -o "Dir::State::Lists=$APT/lists" -o "Dir::Cache=$APT/cache" -o "Dir::State::status=/dev/null"
      -o "APT::Architecture=amd64" -o "APT::Architectures::=amd64" -o "APT::Architectures::=arm64"
      -o "APT::Sandbox::User=root")
apt-get "${APTO[@]}" -q update > "$WORK/apt-update.log" 2>&1 || { cat "$WORK/apt-update.log"; exit 1; }
# shellcheck disable=SC2086
(cd "$WORK/debs" && apt-get "${APTO[@]}" -q download $HOST_PKGS $(printf '%s:arm64 ' $ARM_PKGS) \
    > "$WORK/apt-download.log" 2>&1) || { cat "$WORK/apt-download.log"; exit 1; }
rm -rf "$HOST" "$SYSROOT"; mkdir -p "$HOST" "$SYSROOT"
for deb in "$WORK"/debs/*.deb; do
    case $deb in *_arm64.deb) dpkg -x "$deb" "$SYSROOT" ;; *) dpkg -x "$deb" "$HOST" ;; esac
done
QEMU=$HOST/usr/bin/qemu-aarch64-static
"$QEMU" --version | head -1

say "NumPy and the test tools: PyPI's aarch64 wheels for CPython 3.11"
rm -rf "$SITE"
"$PYTHON" -m pip install --quiet --disable-pip-version-check --target "$SITE" \
    --platform manylinux2014_aarch64 --platform manylinux_2_28_aarch64 --python-version 3.11 \
    --implementation cp --only-binary=:all: numpy tqdm pytest pytest-timeout hypothesis sympy

say "cross-compile the kernel for aarch64"
# From a copy of the checkout's tracked files: cythonizing writes the C beside the .pyx,
# and .ci/run builds from the checkout meanwhile.
rm -rf "$WORK/checkout" "$PKG"; mkdir -p "$WORK/checkout" "$PKG"
(cd "$HERE" && git ls-files -z | tar --null -cf - -T -) | tar -xf - -C "$WORK/checkout"
LD_LIBRARY_PATH=$HOST/usr/lib/x86_64-linux-gnu "$PYTHON" "$WORK/checkout/tools/cross_compile.py" \
    "$SYSROOT" "$HOST/usr/bin/aarch64-linux-gnu-gcc-12" "$WORK/build" --flag="--sysroot=$HOST" \
    > "$WORK/module" 2> "$WORK/compile.log" || { tail -40 "$WORK/compile.log"; exit 1; }
cp -r "$WORK/checkout/src/perfectly" "$PKG/"
rm -f "$PKG"/perfectly/_kernel.c
cp "$(cat "$WORK/module")" "$PKG/perfectly/"
file -L "$PKG"/perfectly/_kernel*.so | sed "s|$WORK/||"

mkdir -p "$WORK/bin"
cat > "$WORK/bin/python3" <<EOF
#!/bin/sh
# Debian arm64's python3.11 under qemu; sys.executable is this script (qemu -0).
export PYTHONHOME="$SYSROOT/usr" PYTHONPATH="$PKG:$SITE"
exec "$QEMU" -L "$SYSROOT" -0 "\$0" "$SYSROOT/usr/bin/python3.11" "\$@"
EOF
chmod +x "$WORK/bin/python3"
ARM=$WORK/bin/python3
(cd / && "$ARM" -c 'import perfectly, platform; i = perfectly.build_info()
print(platform.machine(), "CPython", platform.python_version(), "kernel:", i["core"], i["cpu_target"], i["module"])
assert platform.machine() == "aarch64" and i["core"] == "compiled", i')

say "the kernel's answers on aarch64"
rm -rf "$OUT"; mkdir -p "$OUT"
(cd / && "$ARM" "$WORK/checkout/tools/kernel_answers.py" "$OUT/aarch64.json")
if [ -n "${REFERENCE:-}" ]; then
    say "the same answers from $REFERENCE, on every CPU target this CPU runs"
    (cd / && "$REFERENCE" "$WORK/checkout/tools/kernel_answers.py" --against "$OUT/aarch64.json")
fi

say "pytest on aarch64: $*"
# -o timeout: pyproject's per-test limit is sized for native speed (emulation: 10-90x slower).
(cd "$WORK/checkout" && "$ARM" -m pytest -p no:cacheprovider -q -o timeout=1800 --durations=5 "$@")
say "done"
