//! The binary's memory allocator: the system allocator, with large blocks marked for transparent huge pages on
//! Linux. A listing of a large library builds records of tens of MB once and reads them once; faulting them in 4 KiB
//! at a time cost more than a tenth of `exports --no-demangle` on libLLVM (about 2,000 of its 4,000 page faults were
//! the export records). With `MADV_HUGEPAGE` the kernel backs the aligned interior of such a block with 2 MiB pages
//! where transparent huge pages are enabled (`always` or `madvise`); elsewhere the advice changes nothing.

use std::alloc::{GlobalAlloc, Layout, System};

/// Blocks at least this large are advised (four huge pages: smaller ones gain little and waste more).
const ADVISE_FROM: usize = 4 << 20;
const HUGE_PAGE: usize = 2 << 20;

/// [`System`], advising large blocks to use huge pages (see the module doc).
pub struct HugePageAlloc;

// SAFETY: every call is forwarded to `System` unchanged; the advice only changes which pages back memory this
// process already owns, never its contents or its validity.
unsafe impl GlobalAlloc for HugePageAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        advise(p, layout.size());
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc_zeroed(layout);
        advise(p, layout.size());
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = System.realloc(ptr, layout, new_size);
        advise(p, new_size);
        p
    }
}

/// Ask for huge pages on the whole 2 MiB pages inside `[p, p + size)` (not the partial ones at its ends, which may
/// be shared with other blocks).
#[cfg(target_os = "linux")]
fn advise(p: *mut u8, size: usize) {
    if p.is_null() || size < ADVISE_FROM {
        return;
    }
    let start = (p as usize).next_multiple_of(HUGE_PAGE);
    let end = (p as usize).saturating_add(size) & !(HUGE_PAGE - 1);
    if end > start {
        // SAFETY: the range lies inside a block this process just allocated; madvise only reads the range and
        // fails harmlessly (the result is ignored) where the kernel does not support the advice.
        unsafe {
            libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn advise(_p: *mut u8, _size: usize) {
    let _ = (ADVISE_FROM, HUGE_PAGE);
}

#[cfg(test)]
mod tests {
    use super::HugePageAlloc;
    use std::alloc::{GlobalAlloc, Layout};

    #[test]
    fn large_and_small_blocks_are_usable_and_resizable() {
        for size in [1usize, 4096, (4 << 20) - 1, 4 << 20, (9 << 20) + 17] {
            let layout = Layout::from_size_align(size, 8).unwrap();
            // SAFETY: a non-zero size; the block is written within its size and freed once with its layout.
            unsafe {
                let p = HugePageAlloc.alloc(layout);
                assert!(!p.is_null());
                p.write_bytes(0xa5, size);
                let q = HugePageAlloc.realloc(p, layout, size * 2);
                assert!(!q.is_null());
                assert_eq!(*q.add(size - 1), 0xa5);
                q.add(size).write_bytes(0x5a, size);
                HugePageAlloc.dealloc(q, Layout::from_size_align(size * 2, 8).unwrap());
            }
        }
    }
}
