#!/usr/bin/env bash
# Regenerates src/abi/predefined/<target>.txt: the macros each target's compiler predefines for C
# (`CC -dM -E -x c /dev/null`), sorted. The ABI engine's preprocessor embeds these files (include_str!), so a
# header sees exactly the limits (`__SCHAR_MAX__`, `__INT_MAX__`, `__SIZE_MAX__`, …), type macros
# (`__INT64_TYPE__`, …), ISA macros (`__SSE2__`, …) and compiler identity the real compiler has.
#
# Compilers (Debian packages): gcc (Linux x86_64 and, with -m32, i386), gcc-mingw-w64 (both MinGW targets),
# clang (AArch64 Linux, macOS and MSVC targets: `-dM -E` needs no sysroot).
# tests/oracle_headers.rs (`predefined_macros_match_the_compilers`) checks the committed files against the
# compilers when they are installed; run this script when that test reports a difference.
#
# Usage: scripts/gen-predefined.sh [--check]   (--check: compare only, exit 1 on a difference)
set -euo pipefail
cd "$(dirname "$0")/.."
out=src/abi/predefined
check=0
[ "${1:-}" = "--check" ] && check=1
# target name | compiler command
targets=(
  "linux-x86_64|gcc"
  "linux-i386|gcc -m32"
  "linux-aarch64|clang --target=aarch64-linux-gnu"
  "macos-x86_64|clang --target=x86_64-apple-macos11"
  "macos-arm64|clang --target=arm64-apple-macos11"
  "windows-x86_64-msvc|clang --target=x86_64-pc-windows-msvc"
  "windows-i686-msvc|clang --target=i686-pc-windows-msvc"
  "windows-x86_64-mingw|x86_64-w64-mingw32-gcc"
  "windows-i686-mingw|i686-w64-mingw32-gcc"
)
# Names whose `__has_attribute`/`__has_builtin`/`__has_feature`/`__has_extension` answer is recorded (as
# `//@ QUERY NAME` lines: the answer is non-zero), and which of those query operators (and clang's
# `__building_module`) the compiler has at all (`//@ defined NAME`).
attributes="aligned alloc_align alloc_size always_inline artificial availability cdecl cleanup cold const \
constructor copy deprecated designated_init destructor diagnose_if dllexport dllimport enable_if error \
externally_visible fallthrough fastcall flag_enum flatten format format_arg gcc_struct gnu_inline hot leaf \
malloc may_alias mode ms_abi ms_struct noescape nodiscard noinline noipa nonnull nonstring noreturn \
no_sanitize no_sanitize_address no_stack_protector nothrow objc_boxable optimize overloadable packed pure \
regparm retain returns_nonnull returns_twice section sentinel stdcall swift_name sysv_abi target \
thiscall tls_model transparent_union unavailable unused used vector_size vectorcall visibility warning \
warn_unused_result weak weakref access fd_arg null_terminated_string_arg counted_by assume"
builtins="__builtin_add_overflow __builtin_addressof __builtin_alloca __builtin_assume __builtin_assume_aligned \
__builtin_bit_cast __builtin_bswap16 __builtin_bswap32 __builtin_bswap64 __builtin_bswap128 \
__builtin_choose_expr __builtin_clz __builtin_clzll __builtin_complex __builtin_constant_p __builtin_ctz \
__builtin_ctzll __builtin_dynamic_object_size __builtin_expect __builtin_expect_with_probability \
__builtin_ffs __builtin_FILE __builtin_FUNCTION __builtin_huge_val __builtin_inf __builtin_is_constant_evaluated \
__builtin_isnan __builtin_LINE __builtin_memcpy __builtin_mul_overflow __builtin_nan __builtin_object_size \
__builtin_offsetof __builtin_popcount __builtin_popcountll __builtin_prefetch __builtin_shufflevector \
__builtin_convertvector __builtin_speculation_safe_value __builtin_sub_overflow __builtin_trap \
__builtin_types_compatible_p __builtin_unpredictable __builtin_unreachable __builtin_va_arg_pack \
__builtin_va_arg_pack_len __builtin_frame_address __builtin_return_address __builtin_launder"
features="address_sanitizer memory_sanitizer thread_sanitizer hwaddress_sanitizer dataflow_sanitizer \
safe_stack undefined_behavior_sanitizer modules nullability nullability_on_arrays blocks objc_arc \
c_alignas c_alignof c_atomic c_generic_selections c_static_assert c_thread_local \
attribute_availability attribute_availability_with_message attribute_deprecated_with_message \
attribute_unavailable_with_message enumerator_attributes tls cxx_exceptions cxx_rtti \
pragma_clang_attribute_external_declaration"
queries() {
  for op in __has_attribute __has_builtin __has_feature __has_extension __has_c_attribute \
            __has_declspec_attribute __has_warning __has_include __has_include_next __building_module; do
    printf '#if defined(%s)\n//@ defined %s\n#endif\n' "$op" "$op"
  done
  for a in $attributes; do
    printf '#if defined(__has_attribute)\n#if __has_attribute(%s)\n//@ __has_attribute %s\n#endif\n#endif\n' "$a" "$a"
  done
  for b in $builtins; do
    printf '#if defined(__has_builtin)\n#if __has_builtin(%s)\n//@ __has_builtin %s\n#endif\n#endif\n' "$b" "$b"
  done
  for f in $features; do
    for op in __has_feature __has_extension; do
      printf '#if defined(%s)\n#if %s(%s)\n//@ %s %s\n#endif\n#endif\n' "$op" "$op" "$f" "$op" "$f"
    done
  done
}
qfile=$(mktemp --suffix=.c)
queries >"$qfile"
status=0
mkdir -p "$out"
for row in "${targets[@]}"; do
  name=${row%%|*}
  cc=${row#*|}
  bin=${cc%% *}
  if ! command -v "$bin" >/dev/null; then
    echo "skipped $name: $bin not found" >&2
    continue
  fi
  version=$($bin --version | head -n1)
  tmp=$(mktemp)
  {
    echo "// generated by scripts/gen-predefined.sh: $cc -dM -E -x c /dev/null"
    echo "// compiler: $version"
    $cc -dM -E -x c /dev/null | LC_ALL=C sort
    $cc -E -P -C -x c "$qfile" | grep '^//@' | LC_ALL=C sort
  } >"$tmp"
  if [ $check = 1 ]; then
    if ! diff -u "$out/$name.txt" "$tmp" >&2; then
      status=1
    fi
    rm -f "$tmp"
  else
    mv "$tmp" "$out/$name.txt"
  fi
done
rm -f "$qfile"
exit $status
