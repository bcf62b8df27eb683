#!/usr/bin/env bash
# Download a pinned corpus of real binary wheels for testing `ffi-doctor gate`.
#
# Why: the gate must accept good wheels as they are published, for every
# platform it claims to handle (manylinux x86_64/aarch64 in manylinux2014 and
# manylinux_2_28 flavours, macOS x86_64/arm64/universal2, win32/win_amd64,
# cpXY and abi3 tags).  Versions are pinned so the corpus (and the oracle
# verdicts recorded by scripts/wheel-oracles.sh) is reproducible.
#
# Usage: scripts/wheel-corpus.sh [CACHE_DIR]    (default target/wheel-corpus)
# Wheels land in CACHE_DIR/wheels; an entry already downloaded is skipped
# (CACHE_DIR/.done/<entry>).  Needs pip and network access to PyPI.
set -euo pipefail

cache="${1:-target/wheel-corpus}"
mkdir -p "$cache/wheels" "$cache/.done"
pip="${PIP:-python3 -m pip}"

# package==version  python-version  abi  platform[,platform...]
corpus=(
  "markupsafe==3.0.2   3.12 cp312 manylinux_2_17_x86_64,manylinux2014_x86_64"
  "markupsafe==3.0.2   3.12 cp312 manylinux_2_17_aarch64,manylinux2014_aarch64"
  "markupsafe==3.0.2   3.12 cp312 macosx_10_13_universal2"
  "markupsafe==3.0.2   3.12 cp312 win32"
  "markupsafe==3.0.2   3.12 cp312 win_amd64"
  "pyyaml==6.0.2       3.12 cp312 manylinux_2_17_x86_64,manylinux2014_x86_64"
  "pyyaml==6.0.2       3.12 cp312 macosx_10_13_x86_64"
  "pyyaml==6.0.2       3.12 cp312 macosx_11_0_arm64"
  "pyyaml==6.0.2       3.12 cp312 win_amd64"
  "msgpack==1.1.0      3.11 cp311 manylinux_2_17_aarch64,manylinux2014_aarch64"
  "msgpack==1.1.0      3.11 cp311 macosx_11_0_arm64"
  "msgpack==1.1.0      3.11 cp311 win32"
  "psutil==6.1.0       3.12 abi3  manylinux_2_17_x86_64,manylinux2014_x86_64,manylinux_2_12_x86_64,manylinux2010_x86_64"
  "psutil==6.1.0       3.12 abi3  macosx_10_9_x86_64"
  "psutil==6.1.0       3.12 abi3  macosx_11_0_arm64"
  "psutil==6.1.0       3.12 abi3  win_amd64"
  "cryptography==44.0.0 3.12 abi3 manylinux_2_28_x86_64"
  "cryptography==44.0.0 3.12 abi3 manylinux_2_28_aarch64"
  "cryptography==44.0.0 3.12 abi3 macosx_10_9_universal2"
  "cryptography==44.0.0 3.12 abi3 win_amd64"
  "orjson==3.10.12     3.12 cp312 manylinux_2_17_x86_64,manylinux2014_x86_64"
  "orjson==3.10.12     3.12 cp312 macosx_10_15_x86_64.macosx_11_0_arm64.macosx_10_15_universal2,macosx_10_15_universal2"
  "orjson==3.10.12     3.12 cp312 win_amd64"
  "zstandard==0.23.0   3.10 cp310 manylinux_2_17_x86_64,manylinux2014_x86_64"
  "zstandard==0.23.0   3.10 cp310 win32"
  "ujson==5.10.0       3.9  cp39  manylinux_2_17_x86_64,manylinux2014_x86_64"
  "ujson==5.10.0       3.9  cp39  macosx_11_0_arm64"
  "regex==2024.11.6    3.13 cp313 manylinux_2_17_x86_64,manylinux2014_x86_64"
  "regex==2024.11.6    3.13 cp313 macosx_10_13_x86_64"
  "regex==2024.11.6    3.13 cp313 win_amd64"
  "cffi==1.17.1        3.8  cp38  manylinux_2_17_x86_64,manylinux2014_x86_64"
  "cffi==1.17.1        3.9  cp39  macosx_11_0_arm64"
  "cffi==1.17.1        3.8  cp38  win32"
  "lxml==5.3.0         3.11 cp311 manylinux_2_28_x86_64"
  "lxml==5.3.0         3.11 cp311 macosx_10_9_universal2"
  "pillow==11.0.0      3.13 cp313 manylinux_2_28_x86_64"
  "pillow==11.0.0      3.13 cp313 manylinux_2_28_aarch64"
  "pillow==11.0.0      3.13 cp313 win_amd64"
  "numpy==2.1.3        3.12 cp312 manylinux_2_17_x86_64,manylinux2014_x86_64"
  "numpy==2.1.3        3.12 cp312 macosx_14_0_arm64"
)

start=$(date +%s)
fail=0
for entry in "${corpus[@]}"; do
  read -r spec pyver abi platforms <<<"$entry"
  key=$(echo "$spec-$pyver-$abi-$platforms" | tr -c 'A-Za-z0-9._=-' '_')
  if [[ -e "$cache/.done/$key" ]]; then
    continue
  fi
  args=()
  IFS=',' read -ra plats <<<"$platforms"
  for p in "${plats[@]}"; do args+=(--platform "$p"); done
  echo "== $spec cp$pyver $abi $platforms"
  if $pip download --quiet --disable-pip-version-check --only-binary=:all: --no-deps \
      --implementation cp --python-version "$pyver" --abi "$abi" "${args[@]}" \
      -d "$cache/wheels" "$spec"; then
    touch "$cache/.done/$key"
  else
    echo "!! failed: $entry" >&2
    fail=1
  fi
done
echo "corpus: $(ls "$cache/wheels"/*.whl | wc -l) wheels, $(du -sh "$cache/wheels" | cut -f1), $(( $(date +%s) - start ))s"
exit $fail
