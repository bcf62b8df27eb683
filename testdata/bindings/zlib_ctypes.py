"""A small ctypes binding of zlib's one-shot API: compress a buffer, bound it, uncompress it."""

import ctypes
import ctypes.util


def _open_zlib():
    path = ctypes.util.find_library("z")
    if path is None:
        for fallback in ["libz.so.1", "libz.1.dylib", "zlib1.dll"]:
            try:
                return ctypes.CDLL(fallback)
            except OSError:
                continue
        raise OSError("zlib is not installed")
    return ctypes.CDLL(path, use_errno=True)


_z = _open_zlib()

uLong = ctypes.c_ulong
uLongf_p = ctypes.POINTER(uLong)
Bytef = ctypes.c_ubyte
Bytef_p = ctypes.POINTER(Bytef)

_z.compressBound.argtypes = [uLong]
_z.compressBound.restype = uLong

_z.compress2.argtypes = [Bytef_p, uLongf_p, Bytef_p, uLong, ctypes.c_int]
_z.compress2.restype = ctypes.c_int

_z.uncompress.argtypes = [Bytef_p, uLongf_p, Bytef_p, uLong]
_z.uncompress.restype = ctypes.c_int

_z.zlibVersion.argtypes = []
_z.zlibVersion.restype = ctypes.c_char_p

Z_OK = 0
Z_BUF_ERROR = -5


def pack(data: bytes, level: int = 6) -> bytes:
    src = (Bytef * len(data)).from_buffer_copy(data)
    cap = _z.compressBound(len(data))
    out = (Bytef * cap)()
    out_len = uLong(cap)
    rc = _z.compress2(out, ctypes.byref(out_len), src, len(data), level)
    if rc != Z_OK:
        raise RuntimeError(f"compress2: {rc}")
    return bytes(out[: out_len.value])


def unpack(blob: bytes, size_hint: int = 0) -> bytes:
    src = (Bytef * len(blob)).from_buffer_copy(blob)
    cap = size_hint or 4 * len(blob) + 64
    while True:
        out = (Bytef * cap)()
        out_len = uLong(cap)
        rc = _z.uncompress(out, ctypes.byref(out_len), src, len(blob))
        if rc == Z_OK:
            return bytes(out[: out_len.value])
        if rc != Z_BUF_ERROR:
            raise RuntimeError(f"uncompress: {rc}")
        cap *= 2


def version() -> str:
    return _z.zlibVersion().decode()
