"""A ctypes binding of the diff fixture library (testdata/src/diff/difflib.h) that uses two of its functions and
one of its records: `ffi-doctor diff --python` reports only what changes for these."""
import ctypes
import os

_lib = ctypes.CDLL(os.path.join(os.path.dirname(__file__), "libdifflib.so"))

CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int)


class dl_buf(ctypes.Structure):
    _fields_ = [
        ("len", ctypes.c_int),
        ("cnt", ctypes.c_int),
        ("name", ctypes.c_char * 8),
        ("tail", ctypes.c_int),
        ("cb", CALLBACK),
    ]


_lib.dl_add.argtypes = [ctypes.c_int, ctypes.c_int]
_lib.dl_add.restype = ctypes.c_int

_lib.dl_buf_len.argtypes = [ctypes.POINTER(dl_buf)]
_lib.dl_buf_len.restype = ctypes.c_int


def add(a, b):
    return _lib.dl_add(a, b)
