//! `/etc/ld.so.cache`, read natively in both formats (the old `ld.so-1.7.0` and the new `glibc-ld.so.cache1.1`,
//! alone or the new one following the old), without running ldconfig.

use std::path::Path;

const OLD_MAGIC: &[u8] = b"ld.so-1.7.0";
const NEW_MAGIC: &[u8] = b"glibc-ld.so.cache1.1";

/// `FLAG_ELF_LIBC6` and the per-architecture "required" bits of `sysdeps/generic/ldconfig.h`.
pub const FLAG_ELF_LIBC6: u32 = 0x0003;
pub const FLAG_X8664_LIB64: u32 = 0x0300;
pub const FLAG_AARCH64_LIB64: u32 = 0x0a00;
pub const FLAG_POWERPC_LIB64: u32 = 0x0500;
pub const FLAG_S390_LIB64: u32 = 0x0400;
pub const FLAG_RISCV_FLOAT_ABI_DOUBLE: u32 = 0x1100;

/// One cache entry: a soname (key) and the path ldconfig found for it.
#[derive(Debug, Clone)]
pub struct Entry {
    pub flags: u32,
    pub key: String,
    pub value: String,
    /// Non-zero hwcap bits, or an index into the glibc-hwcaps extension: such entries are for subdirectories.
    pub hwcap: u64,
}

/// A parsed cache.
#[derive(Debug, Clone, Default)]
pub struct LdCache {
    pub entries: Vec<Entry>,
}

impl LdCache {
    /// Read a cache file; `None` if it is absent, not a regular file (a FIFO never blocks the read), larger than
    /// any real cache, or not a cache.
    pub fn load(path: &Path) -> Option<LdCache> {
        Self::load_checked(path).ok()
    }

    /// Read a cache file the user named: every way it can be unusable is an error naming it.
    pub fn load_checked(path: &Path) -> Result<LdCache, crate::error::InputError> {
        const LIMIT: u64 = 64 << 20;
        let what = "an ld.so.cache file";
        let data = crate::input::read_regular(path, what, LIMIT)?;
        Self::parse(&data).ok_or_else(|| {
            crate::error::InputError::new(
                &path.display().to_string(),
                "an ld.so.cache (glibc-ld.so.cache1.1 or ld.so-1.7.0 format)",
                "other data",
            )
            .at(0)
        })
    }

    /// Parse cache bytes (either format).
    pub fn parse(data: &[u8]) -> Option<LdCache> {
        let u32_at = |off: usize| -> Option<u32> {
            data.get(off..off + 4)
                .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        };
        let str_at = |off: usize| -> Option<String> {
            let rest = data.get(off..)?;
            let end = rest.iter().position(|&b| b == 0)?;
            Some(String::from_utf8_lossy(&rest[..end]).into_owned())
        };
        let mut new_start = None;
        if data.starts_with(NEW_MAGIC) {
            new_start = Some(0);
        } else if data.starts_with(OLD_MAGIC) {
            // Old header: magic (11) + pad to 12, nlibs u32; entries of 12 bytes. A new cache may follow, aligned.
            let nlibs = u32_at(12)? as usize;
            let after = 16usize.checked_add(nlibs.checked_mul(12)?)?;
            let aligned = after.div_ceil(8) * 8;
            if data
                .get(aligned..)
                .is_some_and(|r| r.starts_with(NEW_MAGIC))
            {
                new_start = Some(aligned);
            } else if data.get(after..).is_some_and(|r| r.starts_with(NEW_MAGIC)) {
                new_start = Some(after);
            } else {
                let mut entries = Vec::with_capacity(nlibs.min(data.len() / 12));
                for i in 0..nlibs {
                    let e = 16 + i * 12;
                    let flags = u32_at(e)?;
                    // Old-format string offsets are relative to the end of the entry table.
                    let key = str_at(after + u32_at(e + 4)? as usize)?;
                    let value = str_at(after + u32_at(e + 8)? as usize)?;
                    entries.push(Entry {
                        flags,
                        key,
                        value,
                        hwcap: 0,
                    });
                }
                return Some(LdCache { entries });
            }
        }
        let base = new_start?;
        // New header: magic+version (20), nlibs, len_strings, flags(1)+pad(3), extension_offset, unused[3].
        let nlibs = u32_at(base + 20)? as usize;
        let header = 48;
        let mut entries = Vec::with_capacity(nlibs.min(data.len() / 24));
        for i in 0..nlibs {
            let e = base + header + i * 24;
            let flags = u32_at(e)?;
            // New-format string offsets are relative to the start of the new header.
            let key = str_at(base + u32_at(e + 4)? as usize)?;
            let value = str_at(base + u32_at(e + 8)? as usize)?;
            let lo = u32_at(e + 16)?;
            let hi = u32_at(e + 20)?;
            entries.push(Entry {
                flags,
                key,
                value,
                hwcap: u64::from(lo) | (u64::from(hi) << 32),
            });
        }
        Some(LdCache { entries })
    }

    /// What `_dl_load_cache_lookup` returns for `name` on a target whose cache flags are `want`: the first entry for
    /// that soname with matching flags and no hwcaps subdirectory.
    pub fn lookup(&self, name: &str, want: u32) -> Option<&str> {
        self.entries
            .iter()
            .filter(|e| e.key == name && e.hwcap == 0)
            .find(|e| e.flags & 0xffff == want)
            .map(|e| e.value.as_str())
    }
}

/// The cache flags glibc accepts for an ELF machine and class (`_DL_CACHE_DEFAULT_ID`).
pub fn flags_for(machine: u16, is_64: bool) -> u32 {
    match (machine, is_64) {
        (62, true) => FLAG_ELF_LIBC6 | FLAG_X8664_LIB64,
        (183, true) => FLAG_ELF_LIBC6 | FLAG_AARCH64_LIB64,
        (21, true) => FLAG_ELF_LIBC6 | FLAG_POWERPC_LIB64,
        (22, true) => FLAG_ELF_LIBC6 | FLAG_S390_LIB64,
        (243, true) => FLAG_ELF_LIBC6 | FLAG_RISCV_FLOAT_ABI_DOUBLE,
        _ => FLAG_ELF_LIBC6,
    }
}
