"""The same use of the diff fixture library as uses_add.py, through cffi's ABI mode."""
from cffi import FFI

ffi = FFI()
ffi.cdef(
    """
    struct dl_buf { int len; int cnt; char name[8]; int tail; int (*cb)(int); };
    int dl_add(int a, int b);
    int dl_buf_len(const struct dl_buf *b);
    """
)
lib = ffi.dlopen("libdifflib.so")
