//! An allocation guard for the corruption and mutation tests: while a thread reads one input (its limit set in
//! `ALLOC_LIMIT`), any single allocation above the limit is recorded in `ALLOC_WORST`, so a size taken from a
//! corrupt header is caught without the allocation failing the process. Included with `#[path]` by the test
//! binaries that install it as their global allocator (`#[global_allocator] static GLOBAL: Guarded = Guarded;`).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

pub struct Guarded;

thread_local! {
    pub static ALLOC_LIMIT: Cell<usize> = const { Cell::new(0) };
    pub static ALLOC_WORST: Cell<usize> = const { Cell::new(0) };
}

fn note_alloc(size: usize) {
    let _ = ALLOC_LIMIT.try_with(|limit| {
        let l = limit.get();
        if l != 0 && size > l {
            let _ = ALLOC_WORST.try_with(|w| w.set(w.get().max(size)));
        }
    });
}

unsafe impl GlobalAlloc for Guarded {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_alloc(layout.size());
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note_alloc(layout.size());
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note_alloc(new_size);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}
