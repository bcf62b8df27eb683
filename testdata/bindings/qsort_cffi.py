"""cffi in ABI mode: sort a C int array with the C library's qsort and a Python comparator, and own a malloc'd
block through ffi.gc."""

import sys

from cffi import FFI

ffi = FFI()
ffi.cdef(
    """
    typedef int (*compare_fn)(const void *, const void *);
    void qsort(void *base, size_t count, size_t width, compare_fn cmp);
    void *malloc(size_t n);
    void free(void *p);
"""
)

if sys.platform == "win32":
    libc = ffi.dlopen("msvcrt.dll")
else:
    libc = ffi.dlopen("libc.so.6")


@ffi.callback("int(const void *, const void *)")
def _ascending(a, b):
    x = ffi.cast("const int *", a)[0]
    y = ffi.cast("const int *", b)[0]
    return (x > y) - (x < y)


def sorted_ints(values):
    arr = ffi.new("int[]", values)
    libc.qsort(arr, len(values), ffi.sizeof("int"), _ascending)
    return list(arr)


def scratch(n):
    block = ffi.gc(libc.malloc(n), libc.free)
    return ffi.cast("unsigned char *", block)
