"""ctypes with a callback: the C library's qsort over a ctypes int array, with a comparator kept alive in a
module-level name."""

import ctypes
import ctypes.util

_path = ctypes.util.find_library("c")
if not _path:
    raise OSError("no C library")
libc = ctypes.CDLL(_path)

CompareFn = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)

libc.qsort.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_size_t, CompareFn]
libc.qsort.restype = None


def _cmp(a, b):
    x = ctypes.cast(a, ctypes.POINTER(ctypes.c_int)).contents.value
    y = ctypes.cast(b, ctypes.POINTER(ctypes.c_int)).contents.value
    return (x > y) - (x < y)


_cmp_c = CompareFn(_cmp)


def sort_ints(values):
    arr = (ctypes.c_int * len(values))(*values)
    libc.qsort(arr, len(values), ctypes.sizeof(ctypes.c_int), _cmp_c)
    return list(arr)
