# testdata/src/build-common.sh - sourced (not run) by every testdata/src/build-*.sh fixture script.
#
# Sets up what all of them share: cwd = testdata/, llvm 14 first on PATH, a reproducible environment, a temp dir
# for intermediates ($TMP, removed on exit), compiler flags that keep absolute paths out of the outputs
# ($PREFIX_MAP; sources are passed as src/...), and the helpers built/need/fail/has/summary.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
TD=$PWD
[ -d /usr/lib/llvm-14/bin ] && export PATH="/usr/lib/llvm-14/bin:$PATH"
export LC_ALL=C SOURCE_DATE_EPOCH=0 ZERO_AR_DATE=1

TMP=$(mktemp -d "${TMPDIR:-/tmp}/ffi-doctor-testdata.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

# Keep absolute paths out of the outputs (sources are passed as src/...).
PREFIX_MAP="-ffile-prefix-map=$TD=. -ffile-prefix-map=$TMP=build"

BUILT=()
# built FILE...: record (and print) shipped outputs
built() { for f in "$@"; do BUILT+=("$f"); echo "built $f"; done; }
# need TOOL...: fail early when a tool is missing
need() { for t in "$@"; do command -v "$t" >/dev/null || { echo "missing tool: $t" >&2; exit 1; }; done; }
fail() { echo "CHECK FAILED: $*" >&2; exit 1; }
# has TEXT REGEX WHAT: TEXT must match REGEX (a sanity check on a built fixture)
has() { grep -qE -- "$2" <<<"$1" || fail "$3"; }
# summary: the sizes of everything `built` recorded
summary() {
    [ ${#BUILT[@]} -gt 0 ] || return 0
    for f in "${BUILT[@]}"; do printf '  %8d  %s\n' "$(stat -c %s "$f")" "$f"; done
    echo "Total: $(du -cb "${BUILT[@]}" | tail -1 | cut -f1) bytes"
}
