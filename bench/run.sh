#!/usr/bin/env bash
# Benchmark `ffi-doctor exports` against `nm -D` and `llvm-nm -D` on one large shared library, all in the same
# hyperfine run, and write docs/performance.md.
#
#   bench/run.sh [LIBRARY]
#   BENCH_BASELINE=/path/to/older/ffi-doctor bench/run.sh [LIBRARY]
#
# With BENCH_BASELINE, one more hyperfine run times that binary and this one side by side on exports, deps,
# check and gate (same machine, same run), for before/after comparisons of a change.
# LIBRARY defaults to /usr/lib/x86_64-linux-gnu/libLLVM-15.so.1, else the largest libLLVM*.so* / libstdc++.so*
# found under /usr/lib, /usr/lib64 and /lib. Needs hyperfine, nm (binutils), llvm-nm and python3.
# Output of every command goes to /dev/null. Raw results: target/bench/hyperfine.json.
# Anything in docs/performance.md below the line `<!-- notes -->` is kept when the file is regenerated.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

WARMUP="${BENCH_WARMUP:-2}"
RUNS="${BENCH_RUNS:-10}"
OUT_DIR="$ROOT/target/bench"
DOC="$ROOT/docs/performance.md"
BIN="$ROOT/target/release/ffi-doctor"

need() { command -v "$1" >/dev/null 2>&1 || { echo "bench/run.sh: $1 not found" >&2; exit 2; }; }
need hyperfine
need nm
need llvm-nm
need python3

pick_library() {
    local default=/usr/lib/x86_64-linux-gnu/libLLVM-15.so.1
    if [[ -f "$default" ]]; then
        echo "$default"
        return
    fi
    # The largest real file among libLLVM*.so* and libstdc++.so*.
    find /usr/lib /usr/lib64 /lib -maxdepth 3 -type f \( -name 'libLLVM*.so*' -o -name 'libstdc++.so*' \) \
        -printf '%s %p\n' 2>/dev/null | sort -rn | head -n1 | cut -d' ' -f2-
}

LIB="${1:-$(pick_library)}"
if [[ -z "$LIB" || ! -f "$LIB" ]]; then
    echo "bench/run.sh: no library to benchmark (give one as the first argument)" >&2
    exit 2
fi
LIB="$(readlink -f "$LIB")"

echo "== building (release)" >&2
cargo build --release --quiet

mkdir -p "$OUT_DIR" "$(dirname "$DOC")"
JSON="$OUT_DIR/hyperfine.json"

# Symbol counts: ours from the JSON document, nm's from its line count.
OUR_COUNT="$("$BIN" exports --format json --no-demangle "$LIB" |
    python3 -c 'import json,sys; print(sum(i["count"] for i in json.load(sys.stdin)["images"]))')"
NM_COUNT="$(nm -D --defined-only "$LIB" | wc -l)"
LLVM_NM_VERSION="$(llvm-nm --version | sed -n 's/.*LLVM version \([0-9.]*\).*/\1/p' | head -n1)"
NM_VERSION="$(nm --version | head -n1)"

echo "== benchmarking $LIB ($OUR_COUNT exports)" >&2
hyperfine --shell=none --warmup "$WARMUP" --runs "$RUNS" --output=null --export-json "$JSON" \
    --command-name 'ffi-doctor exports' "$BIN exports $LIB" \
    --command-name 'ffi-doctor exports --format json' "$BIN exports --format json $LIB" \
    --command-name 'ffi-doctor exports --no-demangle' "$BIN exports --no-demangle $LIB" \
    --command-name 'nm -D --defined-only' "nm -D --defined-only $LIB" \
    --command-name 'llvm-nm -D --defined-only' "llvm-nm -D --defined-only $LIB" \
    --command-name 'nm -D --defined-only -C' "nm -D --defined-only -C $LIB" \
    --command-name 'llvm-nm -D --defined-only -C' "llvm-nm -D --defined-only -C $LIB"

# `inspect` and `imports` on the same library (imports compared with `nm -D --undefined-only`).
SYM_JSON="$OUT_DIR/hyperfine-symbols.json"
echo "== benchmarking inspect and imports on $LIB" >&2
hyperfine --shell=none --warmup "$WARMUP" --runs "$RUNS" --output=null --export-json "$SYM_JSON" \
    --command-name 'ffi-doctor inspect' "$BIN inspect $LIB" \
    --command-name 'ffi-doctor inspect --format json' "$BIN inspect --format json $LIB" \
    --command-name 'ffi-doctor imports' "$BIN imports $LIB" \
    --command-name 'ffi-doctor imports --no-demangle' "$BIN imports --no-demangle $LIB" \
    --command-name 'nm -D --undefined-only' "nm -D --undefined-only $LIB"

# The largest Mach-O and PE binaries of the wheel corpus (scripts/wheel-corpus.sh; skipped without it), against
# llvm-nm (Mach-O exports) and llvm-readobj --coff-exports (PE).
CORPUS="${FFI_DOCTOR_WHEEL_CORPUS:-$ROOT/target/wheel-corpus}"
OTHER_JSON="$OUT_DIR/hyperfine-macho-pe.json"
rm -f "$OTHER_JSON" "$OUT_DIR"/largest-*
if compgen -G "$CORPUS/wheels/*.whl" >/dev/null; then
    python3 - "$CORPUS/wheels" "$OUT_DIR" <<'PICK'
import glob, os, sys, zipfile
wheels, out = sys.argv[1], sys.argv[2]
for kind, pattern, exts in [("macho", "*macosx*.whl", (".so", ".dylib")), ("pe", "*win_amd64.whl", (".pyd", ".dll"))]:
    best = None
    for w in sorted(glob.glob(os.path.join(wheels, pattern))):
        for info in zipfile.ZipFile(w).infolist():
            if info.filename.endswith(exts) and (best is None or info.file_size > best[0]):
                best = (info.file_size, w, info.filename)
    if best:
        dest = os.path.join(out, f"largest-{kind}{os.path.splitext(best[2])[1]}")
        with zipfile.ZipFile(best[1]) as z, open(dest, "wb") as f:
            f.write(z.read(best[2]))
        with open(dest + ".from", "w") as f:
            f.write(f"{os.path.basename(best[1])}:{best[2]}\n")
PICK
fi
MACHO="$(ls "$OUT_DIR"/largest-macho.* 2>/dev/null | grep -v '\.from$' | head -n1 || true)"
PE="$(ls "$OUT_DIR"/largest-pe.* 2>/dev/null | grep -v '\.from$' | head -n1 || true)"
OTHER_CMDS=()
if [[ -n "$MACHO" ]]; then
    OTHER_CMDS+=(--command-name 'ffi-doctor exports (Mach-O)' "$BIN exports $MACHO"
                 --command-name 'ffi-doctor exports --no-demangle (Mach-O)' "$BIN exports --no-demangle $MACHO"
                 --command-name 'ffi-doctor exports --format json (Mach-O)' "$BIN exports --format json $MACHO"
                 --command-name 'ffi-doctor inspect (Mach-O)' "$BIN inspect $MACHO"
                 --command-name 'ffi-doctor imports (Mach-O)' "$BIN imports $MACHO"
                 --command-name 'llvm-nm --extern-only --defined-only (Mach-O)' "llvm-nm --extern-only --defined-only $MACHO")
fi
if [[ -n "$PE" ]]; then
    OTHER_CMDS+=(--command-name 'ffi-doctor exports (PE)' "$BIN exports $PE"
                 --command-name 'ffi-doctor exports --no-demangle (PE)' "$BIN exports --no-demangle $PE"
                 --command-name 'ffi-doctor inspect (PE)' "$BIN inspect $PE"
                 --command-name 'ffi-doctor imports (PE)' "$BIN imports $PE"
                 --command-name 'llvm-readobj --coff-exports (PE)' "llvm-readobj --coff-exports $PE")
fi
if [[ ${#OTHER_CMDS[@]} -gt 0 ]]; then
    echo "== benchmarking the largest Mach-O and PE binaries of the wheel corpus" >&2
    hyperfine --shell=none --warmup "$WARMUP" --runs "$RUNS" --output=null --export-json "$OTHER_JSON" "${OTHER_CMDS[@]}"
else
    echo "bench/run.sh: no wheel corpus; Mach-O and PE benchmarks skipped" >&2
fi

# The C++ libraries with the most exports found in wheels (scripts/bench-corpus.sh: pyarrow's libarrow, Mach-O, and
# arrow.dll, PE, MSVC-built; pinned, cached under target/bench-corpus; skipped when they cannot be fetched).
CXX_JSON="$OUT_DIR/hyperfine-cxx.json"
rm -f "$CXX_JSON"
CXX_FILES="$(bash "$ROOT/scripts/bench-corpus.sh" "$ROOT/target/bench-corpus" 2>/dev/null || true)"
ARROW_MACHO="$(grep 'dylib$' <<<"$CXX_FILES" || true)"
ARROW_PE="$(grep 'dll$' <<<"$CXX_FILES" || true)"
if [[ -n "$ARROW_MACHO" && -n "$ARROW_PE" ]]; then
    echo "== benchmarking pyarrow's libarrow (Mach-O) and arrow.dll (PE)" >&2
    hyperfine --shell=none --warmup "$WARMUP" --runs "$RUNS" --output=null --export-json "$CXX_JSON" \
        --command-name 'ffi-doctor exports (libarrow, Mach-O)' "$BIN exports $ARROW_MACHO" \
        --command-name 'ffi-doctor exports --no-demangle (libarrow, Mach-O)' "$BIN exports --no-demangle $ARROW_MACHO" \
        --command-name 'ffi-doctor exports --format json (libarrow, Mach-O)' "$BIN exports --format json $ARROW_MACHO" \
        --command-name 'ffi-doctor imports (libarrow, Mach-O)' "$BIN imports $ARROW_MACHO" \
        --command-name 'ffi-doctor inspect (libarrow, Mach-O)' "$BIN inspect $ARROW_MACHO" \
        --command-name 'llvm-nm --extern-only --defined-only (libarrow, Mach-O)' "llvm-nm --extern-only --defined-only $ARROW_MACHO" \
        --command-name 'llvm-nm --extern-only --defined-only -C (libarrow, Mach-O)' "llvm-nm --extern-only --defined-only -C $ARROW_MACHO" \
        --command-name 'ffi-doctor exports (arrow.dll, PE)' "$BIN exports $ARROW_PE" \
        --command-name 'ffi-doctor exports --no-demangle (arrow.dll, PE)' "$BIN exports --no-demangle $ARROW_PE" \
        --command-name 'ffi-doctor exports --format json (arrow.dll, PE)' "$BIN exports --format json $ARROW_PE" \
        --command-name 'ffi-doctor imports (arrow.dll, PE)' "$BIN imports $ARROW_PE" \
        --command-name 'ffi-doctor inspect (arrow.dll, PE)' "$BIN inspect $ARROW_PE" \
        --command-name 'llvm-readobj --coff-exports (arrow.dll, PE)' "llvm-readobj --coff-exports $ARROW_PE"
    ARROW_MACHO_COUNT="$("$BIN" exports --no-demangle "$ARROW_MACHO" | tail -n +2 | wc -l)"
    ARROW_PE_COUNT="$("$BIN" exports --no-demangle "$ARROW_PE" | tail -n +2 | wc -l)"
    LLVM_MACHO_COUNT="$(llvm-nm --extern-only --defined-only "$ARROW_MACHO" | wc -l)"
    LLVM_PE_COUNT="$(llvm-readobj --coff-exports "$ARROW_PE" | grep -c 'Name:')"
fi
export CXX_JSON ARROW_MACHO_COUNT ARROW_PE_COUNT LLVM_MACHO_COUNT LLVM_PE_COUNT

# Peak resident memory of the symbol commands: the median of three runs each (ru_maxrss of the child).
RSS_JSON="$OUT_DIR/rss.json"
echo "== measuring peak RSS" >&2
python3 - "$RSS_JSON" "$BIN" "$LIB" "$MACHO" "$PE" <<'RSS'
import json, os, subprocess, sys
out, bin_, lib, macho, pe = sys.argv[1:6]
cmds = {
    "ffi-doctor exports": [bin_, "exports", lib],
    "ffi-doctor exports --format json": [bin_, "exports", "--format", "json", lib],
    "ffi-doctor exports --no-demangle": [bin_, "exports", "--no-demangle", lib],
    "ffi-doctor inspect": [bin_, "inspect", lib],
    "ffi-doctor imports": [bin_, "imports", lib],
    "nm -D --defined-only": ["nm", "-D", "--defined-only", lib],
    "nm -D --defined-only -C": ["nm", "-D", "--defined-only", "-C", lib],
    "llvm-nm -D --defined-only": ["llvm-nm", "-D", "--defined-only", lib],
}
if macho:
    cmds["ffi-doctor exports (Mach-O)"] = [bin_, "exports", macho]
    cmds["llvm-nm --extern-only --defined-only (Mach-O)"] = ["llvm-nm", "--extern-only", "--defined-only", macho]
if pe:
    cmds["ffi-doctor exports (PE)"] = [bin_, "exports", pe]
    cmds["llvm-readobj --coff-exports (PE)"] = ["llvm-readobj", "--coff-exports", pe]
res = {}
for name, argv in cmds.items():
    runs = []
    for _ in range(3):
        p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, _, ru = os.wait4(p.pid, 0)
        runs.append(ru.ru_maxrss)
    res[name] = sorted(runs)[1]
json.dump(res, open(out, "w"), indent=1)
RSS
MACHO_FROM="$(cat "$MACHO.from" 2>/dev/null || true)"
PE_FROM="$(cat "$PE.from" 2>/dev/null || true)"
MACHO_SIZE="$( [[ -n "$MACHO" ]] && stat -c %s "$MACHO" || echo 0)"
PE_SIZE="$( [[ -n "$PE" ]] && stat -c %s "$PE" || echo 0)"

# Dependency resolution: `deps` against lddtree (pax-utils) and ldd, on python3 and the same library.
PY_EXE="$(python3 -c 'import os,sys; print(os.path.realpath(sys.executable))')"
DEPS_JSON="$OUT_DIR/hyperfine-deps.json"
DEPS_CMDS=(--command-name "ffi-doctor deps python3" "$BIN deps $PY_EXE"
           --command-name "ffi-doctor deps LIB" "$BIN deps $LIB"
           --command-name "ldd python3" "ldd $PY_EXE"
           --command-name "ldd LIB" "ldd $LIB")
if command -v lddtree >/dev/null 2>&1; then
    # pax-utils' lddtree is a Python script needing pyelftools: run it with the system interpreter, which has it.
    LDDTREE="$(command -v lddtree)"
    if head -n1 "$LDDTREE" | grep -q python && [[ -x /usr/bin/python3 ]]; then LDDTREE="/usr/bin/python3 $LDDTREE"; fi
    DEPS_CMDS+=(--command-name "lddtree python3" "$LDDTREE $PY_EXE" --command-name "lddtree LIB" "$LDDTREE $LIB")
else
    echo "bench/run.sh: lddtree not found (apt-get install pax-utils); deps compared with ldd only" >&2
fi
echo "== benchmarking deps on $PY_EXE and $LIB" >&2
hyperfine --shell=none --warmup "$WARMUP" --runs "$RUNS" --output=null --export-json "$DEPS_JSON" "${DEPS_CMDS[@]}"

# `check` on a generated spec of 500 declarations (typedefs, structs of 5-15 fields, enums, functions using them)
# against libz: most functions are "not exported", which is fine — it exercises parsing, the ABI engine (layouts
# on the library's target, and on all targets with --targets all), the rules and the findings.
LIBZ="$("$BIN" resolve z --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["load"]["path"] or "")' || true)"
if [[ -z "$LIBZ" || ! -f "$LIBZ" ]]; then
    LIBZ="$(find /lib /usr/lib /lib64 /usr/lib64 -maxdepth 3 -name 'libz.so.1' 2>/dev/null | head -n1)"
fi
if [[ -z "$LIBZ" || ! -f "$LIBZ" ]]; then
    echo "bench/run.sh: libz.so.1 not found (the check benchmark needs it)" >&2
    exit 2
fi
SPEC500="$OUT_DIR/spec500.h"
python3 - "$SPEC500" <<'GEN'
import random, sys
random.seed(500)
prims = ["int", "unsigned int", "long", "unsigned long", "short", "char", "double", "float", "long long",
         "unsigned char", "size_t", "uint32_t", "int64_t"]
out = ["/* generated by bench/run.sh: 500 declarations */", "#include <stddef.h>", "#include <stdint.h>", ""]
n = 0
typedefs, structs, enums = [], [], []
for i in range(60):
    name = f"bench_t{i}"
    out.append(f"typedef {random.choice(prims)} {name};")
    typedefs.append(name); n += 1
for i in range(40):
    name = f"bench_e{i}"
    vals = ", ".join(f"BENCH_E{i}_{j} = {j * 3}" for j in range(random.randint(3, 12)))
    out.append(f"enum {name} {{ {vals} }};")
    enums.append(f"enum {name}"); n += 1
for i in range(100):
    name = f"bench_s{i}"
    fields = []
    for j in range(random.randint(5, 15)):
        r = random.random()
        if r < 0.4:
            t = random.choice(prims)
        elif r < 0.7:
            t = random.choice(typedefs)
        elif r < 0.8 and enums:
            t = random.choice(enums)
        elif r < 0.9 and structs:
            t = random.choice(structs)
        else:
            t = random.choice(prims) + " *"
        suffix = f"[{random.randint(2, 8)}]" if random.random() < 0.1 else ""
        fields.append(f"    {t} f{j}{suffix};")
    out.append(f"struct {name} {{\n" + "\n".join(fields) + "\n};")
    structs.append(f"struct {name}"); n += 1
real = ["zlibVersion", "compressBound", "crc32", "adler32", "deflateEnd", "inflateEnd"]
args_pool = prims + typedefs + [s + " *" for s in structs] + ["const char *", "void *"]
for i in range(500 - n):
    name = real[i] if i < len(real) else f"bench_fn{i}"
    params = ", ".join(f"{random.choice(args_pool)} a{k}" for k in range(random.randint(0, 6))) or "void"
    ret = random.choice(["int", "void", "long", random.choice(typedefs), random.choice(structs) + " *"])
    out.append(f"{ret} {name}({params});")
open(sys.argv[1], "w").write("\n".join(out) + "\n")
GEN
CHECK_JSON="$OUT_DIR/hyperfine-check.json"
CHECK_DECLS="$("$BIN" check --format json "$LIBZ" "$SPEC500" |
    python3 -c 'import json,sys; d=json.load(sys.stdin); i=d["images"][0]; print(i["declared_functions"], i["declared_records"], len(i["findings"]))' || true)"
echo "== benchmarking check on $SPEC500 against $LIBZ" >&2
# `check` exits 1 (error findings: most functions are not exported): -i ignores that.
hyperfine --shell=none -i --warmup "$WARMUP" --runs "$RUNS" --output=null --export-json "$CHECK_JSON" \
    --command-name "ffi-doctor check libz spec500.h" "$BIN check $LIBZ $SPEC500" \
    --command-name "ffi-doctor check libz spec500.h --format json" "$BIN check --format json $LIBZ $SPEC500" \
    --command-name "ffi-doctor check libz spec500.h --targets all" "$BIN check --targets all $LIBZ $SPEC500"

# gate over a directory of 200 shared libraries (copies of the smaller ones in /usr/lib/<triplet>): one
# target whose binaries are analysed in parallel. Compared with itself on one thread (RAYON_NUM_THREADS=1).
GATE_DIR="$OUT_DIR/gate200"
rm -rf "$GATE_DIR" && mkdir -p "$GATE_DIR/libs"
find /usr/lib/x86_64-linux-gnu /usr/lib64 /usr/lib -maxdepth 1 -type f -name 'lib*.so.*' -size -4M 2>/dev/null |
    sort | head -n 200 | while read -r f; do cp "$f" "$GATE_DIR/libs/"; done
GATE_COUNT="$(find "$GATE_DIR/libs" -type f | wc -l)"
printf '[policy]\nrelative-rpath = true\nhardening = "info"\n' > "$GATE_DIR/ffi-doctor.toml"
GATE_JSON="$OUT_DIR/hyperfine-gate.json"
echo "== benchmarking gate on $GATE_COUNT libraries" >&2
hyperfine -i --warmup "$WARMUP" --runs "$RUNS" --output=null --export-json "$GATE_JSON" \
    --command-name "ffi-doctor gate (all cores)" \
    "$BIN gate --config $GATE_DIR/ffi-doctor.toml --target $GATE_DIR/libs --format json" \
    --command-name "ffi-doctor gate (RAYON_NUM_THREADS=1)" \
    "env RAYON_NUM_THREADS=1 $BIN gate --config $GATE_DIR/ffi-doctor.toml --target $GATE_DIR/libs --format json"

# gate on the real-wheel corpus (scripts/wheel-corpus.sh, pinned PyPI wheels) against `auditwheel show` on the
# Linux wheels, one auditwheel process per wheel as CI scripts run it. The corpus and auditwheel's venv are made
# by the scripts (downloads from PyPI, cached under target/wheel-corpus).
WHEEL_JSON="$OUT_DIR/hyperfine-wheels.json"
rm -f "$WHEEL_JSON"
CORPUS="${FFI_DOCTOR_WHEEL_CORPUS:-$ROOT/target/wheel-corpus}"
if bash "$ROOT/scripts/wheel-corpus.sh" "$CORPUS" >/dev/null 2>&1 &&
    { "$CORPUS/oracle-venv/bin/auditwheel" --version >/dev/null 2>&1 ||
        bash "$ROOT/scripts/wheel-oracles.sh" "$CORPUS" >/dev/null 2>&1; } &&
    "$CORPUS/oracle-venv/bin/auditwheel" --version >/dev/null 2>&1; then
    mapfile -t LINUX_WHEELS < <(ls "$CORPUS"/wheels/*linux*.whl)
    mapfile -t ALL_WHEELS < <(ls "$CORPUS"/wheels/*.whl)
    WHEEL_COUNT="${#LINUX_WHEELS[@]}"
    ALL_WHEEL_COUNT="${#ALL_WHEELS[@]}"
    AW="$CORPUS/oracle-venv/bin/auditwheel"
    echo "== benchmarking gate vs auditwheel show on $WHEEL_COUNT Linux wheels" >&2
    hyperfine -i --warmup 1 --runs "${BENCH_WHEEL_RUNS:-3}" --output=null --export-json "$WHEEL_JSON" \
        --command-name "ffi-doctor gate ($WHEEL_COUNT Linux wheels)" "$BIN gate --format json ${LINUX_WHEELS[*]}" \
        --command-name "ffi-doctor gate (all $ALL_WHEEL_COUNT wheels)" "$BIN gate --format json ${ALL_WHEELS[*]}" \
        --command-name "auditwheel show ($WHEEL_COUNT Linux wheels)" \
        "for w in ${LINUX_WHEELS[*]}; do $AW show \$w; done"
else
    echo "bench/run.sh: no wheel corpus (scripts/wheel-corpus.sh failed); gate vs auditwheel skipped" >&2
fi

# Before/after: an older build of ffi-doctor against this one, paired commands in one hyperfine run.
BASE_JSON="$OUT_DIR/hyperfine-baseline.json"
rm -f "$BASE_JSON"
if [[ -n "${BENCH_BASELINE:-}" ]]; then
    BASE="$(readlink -f "$BENCH_BASELINE")"
    echo "== benchmarking $BASE (before) against $BIN (after)" >&2
    PAIRS=()
    for who in before after; do
        if [[ $who == before ]]; then B="$BASE"; else B="$BIN"; fi
        PAIRS+=(--command-name "$who: exports LIB" "$B exports $LIB"
                --command-name "$who: deps LIB" "$B deps $LIB"
                --command-name "$who: check libz spec500.h --targets all" "$B check --targets all $LIBZ $SPEC500"
                --command-name "$who: gate $GATE_COUNT libraries" \
                "$B gate --config $GATE_DIR/ffi-doctor.toml --target $GATE_DIR/libs --format json")
    done
    hyperfine --shell=none -i --warmup "$WARMUP" --runs "$RUNS" --output=null --export-json "$BASE_JSON" "${PAIRS[@]}"
    BASE_COMMIT="$("$BASE" --version 2>/dev/null || echo "$BASE")"
fi

CPU="$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo | head -n1)"
NPROC="$(nproc)"
MEM="$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)"
KERNEL="$(uname -sr)"
RUSTC="$(rustc --version)"
DATE="$(date -u '+%Y-%m-%d %H:%M UTC')"
COMMIT="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [[ -n "$(git status --porcelain -- src 2>/dev/null)" ]]; then COMMIT="$COMMIT (+ uncommitted changes in src/)"; fi
SIZE_BYTES="$(stat -c %s "$LIB")"

export SYM_JSON OTHER_JSON RSS_JSON MACHO_FROM PE_FROM MACHO_SIZE PE_SIZE
export WHEEL_JSON WHEEL_COUNT ALL_WHEEL_COUNT BASE_JSON BASE_COMMIT GATE_JSON GATE_COUNT CHECK_JSON CHECK_DECLS LIBZ DEPS_JSON PY_EXE JSON DOC LIB SIZE_BYTES OUR_COUNT NM_COUNT CPU NPROC MEM KERNEL RUSTC DATE COMMIT WARMUP RUNS \
    LLVM_NM_VERSION NM_VERSION
python3 - <<'PY'
import json, os

env = os.environ
results = {r["command"]: r for r in json.load(open(env["JSON"]))["results"]}
ours = ["ffi-doctor exports", "ffi-doctor exports --format json", "ffi-doctor exports --no-demangle"]
theirs = ["nm -D --defined-only", "llvm-nm -D --defined-only",
          "nm -D --defined-only -C", "llvm-nm -D --defined-only -C"]

def ms(x):
    return f"{x * 1000:.1f}"

lines = []
lines.append("| command | mean (ms) | ± σ (ms) | min (ms) | max (ms) | user (ms) | system (ms) |")
lines.append("|---|---:|---:|---:|---:|---:|---:|")
for name in ours + theirs:
    r = results[name]
    lines.append(f"| `{name}` | {ms(r['mean'])} | {ms(r['stddev'] or 0)} | {ms(r['min'])} | {ms(r['max'])} "
                 f"| {ms(r['user'])} | {ms(r['system'])} |")
means = "\n".join(lines)

lines = []
lines.append("| ours \\ theirs | " + " | ".join(f"`{t}`" for t in theirs) + " |")
lines.append("|---|" + "---:|" * len(theirs))
for o in ours:
    cells = [f"{results[o]['mean'] / results[t]['mean']:.2f}×" for t in theirs]
    lines.append(f"| `{o}` | " + " | ".join(cells) + " |")
ratios = "\n".join(lines)

size_mib = int(env["SIZE_BYTES"]) / (1 << 20)
head = f"""# Performance: `ffi-doctor exports` vs `nm -D` / `llvm-nm -D`

Generated by [`bench/run.sh`](../bench/run.sh) — rerun it to refresh this file (the notes below the marker
are kept). Every command writes to `/dev/null`; hyperfine `--shell=none --warmup {env['WARMUP']} --runs {env['RUNS']}`,
all commands in the same run.

| | |
|---|---|
| date | {env['DATE']} |
| machine | {env['NPROC']} cores (`nproc`), {env['CPU']}, {env['MEM']} RAM, {env['KERNEL']} |
| ffi-doctor | release build (`lto = "thin"`), commit {env['COMMIT']}, {env['RUSTC']} |
| tools | {env['NM_VERSION']}; llvm-nm {env['LLVM_NM_VERSION']} |
| library | `{env['LIB']}` ({int(env['SIZE_BYTES']):,} bytes, {size_mib:.1f} MiB) |
| exported symbols | {int(env['OUR_COUNT']):,} (ffi-doctor); `nm -D --defined-only` prints {int(env['NM_COUNT']):,} lines |

`ffi-doctor exports` demangles by default, so the fair comparison for it is the `-C` column; `--no-demangle`
compares with plain `nm -D`.

## Mean wall-clock time

{means}

## Ratio of means (ours / theirs; below 1 means ffi-doctor is faster)

{ratios}
"""

nm_mean = results["nm -D --defined-only"]["mean"]
sym = {r["command"]: r for r in json.load(open(env["SYM_JSON"]))["results"]}
lines = ["| command | mean (ms) | ± σ (ms) | user (ms) | system (ms) | ratio to `nm -D --defined-only` |",
         "|---|---:|---:|---:|---:|---:|"]
for name, r in sym.items():
    lines.append(f"| `{name}` | {ms(r['mean'])} | {ms(r['stddev'] or 0)} | {ms(r['user'])} | {ms(r['system'])} "
                 f"| {r['mean'] / nm_mean:.2f}× |")
head += f"""
## `inspect` and `imports` on the same library

`inspect` reads the whole image model (every symbol, versions, counts) but prints a summary; `imports` lists the
undefined dynamic symbols (`nm -D --undefined-only` prints the same set, without versions or providers). Same
hyperfine settings, a separate run.

{chr(10).join(lines)}
"""

rss = json.load(open(env["RSS_JSON"]))
nm_rss = rss.get("nm -D --defined-only")
lines = ["| command | peak RSS (MiB) | ratio to `nm -D --defined-only` |", "|---|---:|---:|"]
for name, kib in rss.items():
    ratio = f"{kib / nm_rss:.2f}×" if nm_rss else "n/a"
    lines.append(f"| `{name}` | {kib / 1024:.1f} | {ratio} |")
head += f"""
## Peak memory

Peak resident set size (`ru_maxrss` of the child, median of three runs; the mapped file's pages count once
touched). Target: `ffi-doctor exports` ≤ 32 MiB on the library above.

{chr(10).join(lines)}
"""

if os.path.exists(env["OTHER_JSON"]):
    other = {r["command"]: r for r in json.load(open(env["OTHER_JSON"]))["results"]}
    lines = ["| command | mean (ms) | ± σ (ms) | min (ms) | max (ms) |", "|---|---:|---:|---:|---:|"]
    for name, r in other.items():
        lines.append(f"| `{name}` | {ms(r['mean'])} | {ms(r['stddev'] or 0)} | {ms(r['min'])} | {ms(r['max'])} |")
    head += f"""
## Mach-O and PE: the largest binaries of the wheel corpus

Mach-O: `{env.get('MACHO_FROM', '').strip()}` ({int(env.get('MACHO_SIZE') or 0):,} bytes); PE:
`{env.get('PE_FROM', '').strip()}` ({int(env.get('PE_SIZE') or 0):,} bytes), extracted from the pinned wheels of
`scripts/wheel-corpus.sh`. `llvm-nm` lists Mach-O exports, `llvm-readobj --coff-exports` PE exports.

{chr(10).join(lines)}
"""

if os.path.exists(env.get("CXX_JSON", "")):
    cxx = {r["command"]: r for r in json.load(open(env["CXX_JSON"]))["results"]}
    lines = ["| command | mean (ms) | ± σ (ms) | user (ms) | system (ms) |", "|---|---:|---:|---:|---:|"]
    for name, r in cxx.items():
        lines.append(f"| `{name}` | {ms(r['mean'])} | {ms(r['stddev'] or 0)} | {ms(r['user'])} | {ms(r['system'])} |")
    head += f"""
## The C++ libraries with the most exports found in wheels

pyarrow 18.1.0's `libarrow.1801.dylib` (macOS arm64; {int(env.get('ARROW_MACHO_COUNT') or 0):,} exports, `llvm-nm
--extern-only --defined-only` lists {int(env.get('LLVM_MACHO_COUNT') or 0):,}) and `arrow.dll` (win_amd64, MSVC-built;
{int(env.get('ARROW_PE_COUNT') or 0):,} exports, `llvm-readobj --coff-exports` lists {int(env.get('LLVM_PE_COUNT') or 0):,}),
from the wheels pinned by `scripts/bench-corpus.sh`. Same hyperfine settings, a separate run.

{chr(10).join(lines)}
"""

deps = {r["command"]: r for r in json.load(open(env["DEPS_JSON"]))["results"]}
lines = ["| command | mean (ms) | ± σ (ms) | ratio to lddtree | ratio to ldd |", "|---|---:|---:|---:|---:|"]
for target in ["python3", "LIB"]:
    for name in [f"ffi-doctor deps {target}", f"lddtree {target}", f"ldd {target}"]:
        if name not in deps:
            continue
        r = deps[name]
        lt = deps.get(f"lddtree {target}")
        ld = deps.get(f"ldd {target}")
        rl = f"{r['mean'] / lt['mean']:.2f}×" if lt else "n/a"
        rd = f"{r['mean'] / ld['mean']:.2f}×" if ld else "n/a"
        lines.append(f"| `{name}` | {ms(r['mean'])} | {ms(r['stddev'] or 0)} | {rl} | {rd} |")
head += f"""
## Dependency resolution: `deps` vs `lddtree` and `ldd`

`python3` is `{env['PY_EXE']}`; `LIB` is the library above. `ldd` runs the real loader (it maps every library);
`lddtree` (pax-utils) and `ffi-doctor deps` only read files. Target: `deps` ≤ 1× lddtree.

{chr(10).join(lines)}
"""

check = {r["command"]: r for r in json.load(open(env["CHECK_JSON"]))["results"]}
fns, recs, nfind = (env.get("CHECK_DECLS") or "? ? ?").split()
lines = ["| command | mean (ms) | ± σ (ms) | min (ms) | max (ms) |", "|---|---:|---:|---:|---:|"]
for name, r in check.items():
    lines.append(f"| `{name}` | {ms(r['mean'])} | {ms(r['stddev'] or 0)} | {ms(r['min'])} | {ms(r['max'])} |")
head += f"""
## `check` on a spec of 500 declarations

`spec500.h` is generated by the script (fixed seed): 60 typedefs, 40 enums, 100 structs of 5–15 members
(primitive, typedef, enum, nested struct, pointer and array members) and 300 functions whose parameters use them,
checked against `{env['LIBZ']}`. Declared: {fns} functions, {recs} complete records; {nfind} findings (nearly
every function is "not exported", so `check` exits 1 — hyperfine `-i`). This exercises the preprocessor and
parser, the ABI engine (every record laid out for the library's target, and for all 9 targets with
`--targets all`), the symbol and portability rules and the renderers. Target: well under a second.

{chr(10).join(lines)}
"""

gate = {r["command"]: r for r in json.load(open(env["GATE_JSON"]))["results"]}
lines = ["| command | mean (ms) | ± σ (ms) | user + system (ms) | CPU use (user+sys / wall) |",
         "|---|---:|---:|---:|---:|"]
for name, r in gate.items():
    cpu = (r["user"] + r["system"]) / r["mean"]
    lines.append(f"| `{name}` | {ms(r['mean'])} | {ms(r['stddev'] or 0)} | {ms(r['user'] + r['system'])} | {cpu:.2f} |")
one = gate.get("ffi-doctor gate (RAYON_NUM_THREADS=1)")
allc = gate.get("ffi-doctor gate (all cores)")
speedup = f"{one['mean'] / allc['mean']:.2f}×" if one and allc else "n/a"
head += f"""
## `gate` over a directory of {env['GATE_COUNT']} libraries

One `[[target]]` (a directory of {env['GATE_COUNT']} shared libraries copied from the system): every binary gets
`deps --check-symbols` and the release policies. Binaries are analysed in parallel (rayon) and merged in sorted
order. Speed-up over one thread: {speedup} on {env['NPROC']} cores.

{chr(10).join(lines)}
"""

if os.path.exists(env["WHEEL_JSON"]):
    wh = {r["command"]: r for r in json.load(open(env["WHEEL_JSON"]))["results"]}
    aw = next((r for k, r in wh.items() if k.startswith("auditwheel")), None)
    lines = ["| command | mean (s) | ± σ (s) | ratio to auditwheel show |", "|---|---:|---:|---:|"]
    for name, r in wh.items():
        ratio = f"{r['mean'] / aw['mean']:.3f}×" if aw else "n/a"
        lines.append(f"| `{name}` | {r['mean']:.2f} | {(r['stddev'] or 0):.2f} | {ratio} |")
    head += f"""
## `gate` on real wheels vs `auditwheel show`

The pinned corpus of `scripts/wheel-corpus.sh` ({env.get('ALL_WHEEL_COUNT', '?')} wheels from PyPI: manylinux x86_64
and aarch64, macOS x86_64, arm64 and universal2, win32 and win_amd64). `auditwheel show` runs once per Linux wheel
(it takes one wheel); `gate` takes them all in one process, with no config (policies from the tags), and does
more per wheel: every binary's load graph, symbol binding including the interpreter's C API, and the policies.
Target: at least 10× faster than `auditwheel show` on the Linux wheels.

{chr(10).join(lines)}
"""

if os.path.exists(env["BASE_JSON"]):
    base = {r["command"]: r for r in json.load(open(env["BASE_JSON"]))["results"]}
    lines = ["| benchmark | before (ms) | after (ms) | after / before |", "|---|---:|---:|---:|"]
    for name in [k[len("after: "):] for k in base if k.startswith("after: ")]:
        b, a = base[f"before: {name}"], base[f"after: {name}"]
        lines.append(f"| `{name}` | {ms(b['mean'])} | {ms(a['mean'])} | {a['mean'] / b['mean']:.2f}× |")
    head += f"""
## Before / after

The previous build (`{env.get('BASE_COMMIT', '')}`, given as `BENCH_BASELINE`) and this one, paired commands in one
hyperfine run on the same inputs as above.

{chr(10).join(lines)}
"""

marker = "<!-- notes -->"
notes = ""
if os.path.exists(env["DOC"]):
    old = open(env["DOC"]).read()
    if marker in old:
        notes = old[old.index(marker):]
doc = head + "\n" + (notes if notes else marker + "\n")
open(env["DOC"], "w").write(doc)
print(means)
print()
print(ratios)
PY
echo "== wrote $DOC (raw: $JSON)" >&2

# ---------------------------------------------------------------------------------------------------------------
# `diff`: two releases of a mid-size C library with DWARF (libpng 1.6.40 → 1.6.43, built by
# scripts/diff-real-pairs.sh into target/diff-real from git tags; when github.com and FFI_DOCTOR_GIT_MIRRORS are out
# of reach, Brotli's encoder 1.0.9 → 1.1.0 from PyPI sdists, built by scripts/diff-pypi-pairs.sh) against
# libabigail's abidiff on the same pair, same run (target: ≤ 0.2× abidiff); exports-only diff of two libLLVM-sized
# libraries (target: under 1 s). Needs abidiff (abigail-tools) for the first table; the section is left out when
# no pair can be built.
DIFF_REAL="$ROOT/target/diff-real"
bash "$ROOT/scripts/diff-real-pairs.sh" "$DIFF_REAL" >/dev/null 2>&1 || true
PAIR_NAME=libpng
PAIR_DESC="libpng 1.6.40 → 1.6.43 built with \`-g\` (\`scripts/diff-real-pairs.sh\`)"
PNG_OLD="$DIFF_REAL/libpng-v1.6.40/libpng16.so"
PNG_NEW="$DIFF_REAL/libpng-v1.6.43/libpng16.so"
if [[ ! -f "$PNG_OLD" || ! -f "$PNG_NEW" ]]; then
    bash "$ROOT/scripts/diff-pypi-pairs.sh" "$DIFF_REAL" >/dev/null 2>&1 || true
    PAIR_NAME=libbrotlienc
    PAIR_DESC="Brotli's libbrotlienc 1.0.9 → 1.1.0 built with \`-g\` from PyPI sdists (\`scripts/diff-pypi-pairs.sh\`)"
    PNG_OLD="$DIFF_REAL/brotli-1.0.9/libbrotlienc.so"
    PNG_NEW="$DIFF_REAL/brotli-1.1.0/libbrotlienc.so"
fi
BIG_OLD="$(ls /usr/lib/x86_64-linux-gnu/libLLVM-14.so.1 2>/dev/null || echo "$LIB")"
BIG_NEW="$LIB"
DIFF_JSON="$OUT_DIR/hyperfine-diff.json"
if [[ -f "$PNG_OLD" && -f "$PNG_NEW" ]]; then
    DIFF_CMDS=(--command-name "ffi-doctor diff ($PAIR_NAME, DWARF)" "$BIN diff $PNG_OLD $PNG_NEW")
    if command -v abidiff >/dev/null 2>&1; then
        DIFF_CMDS+=(--command-name "abidiff ($PAIR_NAME)" "abidiff $PNG_OLD $PNG_NEW")
    fi
    DIFF_CMDS+=(--command-name "ffi-doctor diff --no-dwarf (big libraries)" "$BIN diff --no-dwarf $BIG_OLD $BIG_NEW"
                --command-name "ffi-doctor diff --no-dwarf (LIB vs itself)" "$BIN diff --no-dwarf $LIB $LIB")
    echo "== benchmarking diff" >&2
    hyperfine --shell=none -i --warmup "$WARMUP" --runs "$RUNS" --output=null --export-json "$DIFF_JSON" \
        "${DIFF_CMDS[@]}"
    DIFF_JSON="$DIFF_JSON" DOC="$DOC" PAIR_NAME="$PAIR_NAME" PAIR_DESC="$PAIR_DESC" PNG_OLD="$PNG_OLD" PNG_NEW="$PNG_NEW" BIG_OLD="$BIG_OLD" BIG_NEW="$BIG_NEW" \
        LIB="$LIB" python3 - <<'PY'
import json, os, re
env = os.environ
res = {r["command"]: r for r in json.load(open(env["DIFF_JSON"]))["results"]}
ab = res.get(f"abidiff ({env['PAIR_NAME']})")
ms = lambda s: f"{s * 1000:.1f}"
lines = ["| command | mean (ms) | ± σ (ms) | ratio to abidiff |", "|---|---:|---:|---:|"]
for name, r in res.items():
    ratio = f"{r['mean'] / ab['mean']:.3f}×" if ab else "n/a"
    lines.append(f"| `{name}` | {ms(r['mean'])} | {ms(r['stddev'] or 0)} | {ratio} |")
section = f"""## `diff` between two releases

`ffi-doctor diff` with DWARF types on {env['PAIR_DESC']}, and
libabigail's `abidiff` on the same pair in the same run (target: ≤ 0.2× abidiff). Exports and identity only
(`--no-dwarf`) on `{env['BIG_OLD']}` → `{env['BIG_NEW']}` and on `{env['LIB']}` against itself (target: under 1 s).

{chr(10).join(lines)}

"""
doc = open(env["DOC"]).read()
doc = re.sub(r"## `diff` between two releases\n.*?(?=\n## |<!-- notes -->)", "", doc, flags=re.S)
marker = "<!-- notes -->"
doc = doc.replace(marker, section + marker, 1) if marker in doc else doc + "\n" + section
open(env["DOC"], "w").write(doc)
print("\n".join(lines))
PY
else
    echo "== diff: no libpng or Brotli pair in $DIFF_REAL (scripts/diff-real-pairs.sh and diff-pypi-pairs.sh failed): section skipped" >&2
fi

# --- a Python binding of 2,000 declarations (1,000 functions with argtypes and restype, 20 Structure classes)
# against libz and zlib.h, on the host target and on all nine. Target: under 0.3 s.
BINDING_PY="$OUT_DIR/binding2000.py"
if [ -n "$LIBZ" ] && [ -f /usr/include/zlib.h ]; then
    python3 - "$LIBZ" "$BINDING_PY" <<'PY'
import subprocess, sys
lib, out = sys.argv[1], sys.argv[2]
nm = subprocess.run(["nm", "-D", "--defined-only", lib], capture_output=True, text=True).stdout
names = sorted({l.split()[-1] for l in nm.splitlines() if " T " in l})
lines = ["import ctypes", "from ctypes import *", "_z = ctypes.CDLL('libz.so.1')", ""]
for i in range(20):
    lines.append(f"class S{i}(Structure):\n    _fields_ = [('a', c_int), ('b', c_double), ('c', POINTER(c_char)), ('d', c_uint8 * 16)]")
for i in range(1000):
    n = names[i] if i < len(names) else f"zfake_{i}"
    lines.append(f"_z.{n}.argtypes = [c_void_p, c_ulong, POINTER(c_uint), c_int]")
    lines.append(f"_z.{n}.restype = c_int")
open(out, "w").write("\n".join(lines) + "\n")
PY
    hyperfine --shell=none -i --warmup "$WARMUP" --runs "$RUNS" --output=null \
        --export-json "$OUT_DIR/hyperfine-binding.json" \
        --command-name "ffi-doctor check libz binding2000.py zlib.h" "$BIN check $LIBZ $BINDING_PY /usr/include/zlib.h" \
        --command-name "ffi-doctor check libz binding2000.py zlib.h --targets all" \
        "$BIN check --targets all $LIBZ $BINDING_PY /usr/include/zlib.h"
else
    echo "== skipped: the binding benchmark needs libz and /usr/include/zlib.h" >&2
fi
