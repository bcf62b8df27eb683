#!/usr/bin/env bash
# scripts/test-wheel.sh - build the ffi-doctor wheel with maturin (pyproject.toml, bindings = "bin"), install it
# into a fresh venv and run the installed `ffi-doctor` command: --version, then `gate` on the committed fixtures
# (a clean config must exit 0, a broken one 1). Needs python3 (with venv) and a Rust toolchain; downloads maturin
# from PyPI. Not part of `cargo test` (a release build takes minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
T=$(mktemp -d "${TMPDIR:-/tmp}/ffi-doctor-wheel-test.XXXXXX")
trap 'rm -rf "$T"' EXIT

python3 -m venv "$T/venv"
"$T/venv/bin/pip" install -q "maturin>=1.5,<2"
"$T/venv/bin/maturin" build --release --out "$T/dist"
ls -l "$T/dist"
"$T/venv/bin/pip" install -q "$T"/dist/ffi_doctor-*.whl
FD="$T/venv/bin/ffi-doctor"
"$FD" --version

mkdir -p "$T/proj"
cat > "$T/proj/ffi-doctor.toml" <<TOML
[[target]]
path = "$ROOT/testdata/wheels/good-1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
[policy]
allowed-external = "manylinux_2_17"
relative-rpath = true
TOML
(cd "$T/proj" && "$FD" gate --sarif gate.sarif --junit gate.xml)
cat > "$T/proj/ffi-doctor.toml" <<TOML
[[target]]
path = "$ROOT/testdata/wheels/badrpath-1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
[policy]
relative-rpath = true
TOML
set +e
(cd "$T/proj" && "$FD" gate --format json >/dev/null)
rc=$?
set -e
[ "$rc" = 1 ] || { echo "expected exit 1 for the broken wheel, got $rc" >&2; exit 1; }
echo "test-wheel: ok (installed command runs; gate exits 0 on a clean wheel, 1 on a broken one)"
