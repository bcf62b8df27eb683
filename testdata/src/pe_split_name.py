#!/usr/bin/env python3
"""pe_split_name.py IN OUT OLD NEW - rename an imported DLL the way delvewheel does when the new name is longer.

delvewheel (which repairs most Windows wheels on PyPI) renames vendored DLLs (foo.dll -> foo-<hash>.dll). When
the new name does not fit where the old one was, it writes it into the spare bytes at the end of some section
whose raw data is longer than its virtual size, grows that section's VirtualSize to cover it, and points the
import descriptor's Name RVA there. The names of one import directory then live in two sections.

This does the same, deterministically: into `.pdata` (where delvewheel put it in a real .pyd) when it has room for
NEW plus its NUL, else into the first section in header order, other than the one holding the import directory,
that is not executable and has room. Only the standard library; the output depends only on the input.
"""
import struct
import sys


def main(src, dst, old, new):
    data = bytearray(open(src, "rb").read())
    lfanew = struct.unpack_from("<I", data, 0x3C)[0]
    assert data[lfanew:lfanew + 4] == b"PE\0\0", "not a PE file"
    nsect, = struct.unpack_from("<H", data, lfanew + 6)
    opt_size, = struct.unpack_from("<H", data, lfanew + 20)
    opt = lfanew + 24
    magic, = struct.unpack_from("<H", data, opt)
    dirs = opt + (112 if magic == 0x20B else 96)
    imp_rva, = struct.unpack_from("<I", data, dirs + 8)  # data directory 1: import table
    shdr = opt + opt_size
    sections = []
    for i in range(nsect):
        h = shdr + 40 * i
        name = data[h:h + 8].rstrip(b"\0").decode()
        vsize, va, raw, off = struct.unpack_from("<IIII", data, h + 8)
        flags, = struct.unpack_from("<I", data, h + 36)
        sections.append((h, name, vsize, va, raw, off, flags))

    def to_off(rva):
        for _, _, vsize, va, raw, off, _ in sections:
            if va <= rva < va + min(vsize, raw):
                return off + rva - va
        raise SystemExit(f"RVA {rva:#x} is in no section")

    def section_of(rva):
        return next(s for s in sections if s[3] <= rva < s[3] + min(s[2], s[4]))

    # Find the descriptor naming OLD.
    d = to_off(imp_rva)
    while any(data[d:d + 20]):
        name_rva, = struct.unpack_from("<I", data, d + 12)
        n = to_off(name_rva)
        if data[n:data.index(b"\0", n)].decode() == old:
            break
        d += 20
    else:
        raise SystemExit(f"{src}: no import descriptor names {old}")

    home = section_of(imp_rva)[1]
    blob = new.encode() + b"\0"
    executable = 0x20000020  # IMAGE_SCN_MEM_EXECUTE | IMAGE_SCN_CNT_CODE
    candidates = sorted(sections, key=lambda s: s[1] != ".pdata")  # stable: .pdata first, then header order
    for h, name, vsize, va, raw, off, flags in candidates:
        if name == home or flags & executable or raw - vsize < len(blob):
            continue
        data[off + vsize:off + vsize + len(blob)] = blob
        struct.pack_into("<I", data, h + 8, vsize + len(blob))  # VirtualSize covers the name
        struct.pack_into("<I", data, d + 12, va + vsize)  # the descriptor's Name RVA
        print(f"{dst}: {old} -> {new} at RVA {va + vsize:#x} in {name} (import directory in {home})")
        break
    else:
        raise SystemExit(f"{src}: no section other than {home} has room for {new}")
    # The PE checksum (0 from GNU ld) is left alone, as delvewheel leaves a zero checksum.
    open(dst, "wb").write(data)


if __name__ == "__main__":
    main(*sys.argv[1:5])
