"""ctypes binding of records.h (see README.md for what is wrong here on purpose)."""
from ctypes import (Structure, Union, c_char_p, c_double, c_int32, c_long,
                    c_uint8, c_uint16, c_uint32, c_void_p)


class point(Structure):
    _fields_ = [("x", c_int32), ("y", c_int32), ("weight", c_double), ("label", c_char_p)]


class flags(Structure):
    _fields_ = [("kind", c_uint8), ("mode", c_uint32, 3), ("level", c_uint16, 9), ("live", c_uint32, 1)]


class wire_header(Structure):
    _fields_ = [("type", c_uint8), ("length", c_uint32), ("crc", c_uint16)]


class stats_t(Structure):
    _fields_ = [("total", c_long), ("count", c_uint32)]


class _Value(Union):
    _fields_ = [("i", c_int32), ("d", c_double)]


class node(Structure):
    _anonymous_ = ("u",)
    _fields_ = [("where", point), ("next", c_void_p), ("u", _Value)]
