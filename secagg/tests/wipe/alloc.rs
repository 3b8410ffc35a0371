//! A global allocator around [`System`] that, when a block is freed, looks in it for
//! registered secret byte strings and records every hit, then zeroes the block (so a
//! leaked copy is reported once, at the first free of the block holding it, and a
//! later owner of the same memory cannot be blamed for it).
//!
//! Nothing here allocates: the registry, its index and the hits are fixed-size statics
//! behind one spin lock. `realloc` is `GlobalAlloc`'s default (alloc, copy, dealloc),
//! so the old block of every reallocation goes through `dealloc` and is scanned too.

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::alloc::{GlobalAlloc, Layout, System};

/// Most patterns the registry holds.
pub const CAPACITY: usize = 4096;
/// Longest pattern, in bytes.
pub const MAX_LEN: usize = 32;
/// Shortest pattern, in bytes: a hit on a random 16-byte string is a 2^-128 event.
pub const MIN_LEN: usize = 16;
/// Most hits recorded (further hits are counted only).
pub const MAX_HITS: usize = 1024;

/// Slots of the prefix index (open addressing; a power of two, > 2 * CAPACITY).
const SLOTS: usize = 16384;

/// What `dealloc` does with a block before handing it back to [`System`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
pub enum Mode {
    /// Nothing.
    Off = 0,
    /// Zero it (a run whose frees are not examined leaves nothing behind).
    Wipe = 1,
    /// Look for registered patterns, record hits, then zero it.
    Scan = 2,
}

/// A hit: pattern `pattern` found at `offset` in a freed block of `size` bytes.
#[derive(Clone, Copy, Debug)]
pub struct Hit {
    pub pattern: usize,
    pub size: usize,
    pub offset: usize,
}

struct Registry {
    patterns: [[u8; MAX_LEN]; CAPACITY],
    lens: [u8; CAPACITY],
    count: usize,
    /// Pattern index + 1 per slot, keyed by the pattern's first 8 bytes; 0 is empty.
    index: [u32; SLOTS],
    hits: [Hit; MAX_HITS],
    hit_count: usize,
}

struct Shared(UnsafeCell<Registry>);

// SAFETY: every access to the registry goes through `with_registry`, which holds the
// spin lock `LOCK` for its duration.
unsafe impl Sync for Shared {}

static REGISTRY: Shared = Shared(UnsafeCell::new(Registry {
    patterns: [[0; MAX_LEN]; CAPACITY],
    lens: [0; CAPACITY],
    count: 0,
    index: [0; SLOTS],
    hits: [Hit {
        pattern: 0,
        size: 0,
        offset: 0,
    }; MAX_HITS],
    hit_count: 0,
}));
static LOCK: AtomicBool = AtomicBool::new(false);
static MODE: AtomicU8 = AtomicU8::new(Mode::Off as u8);

fn with_registry<T>(f: impl FnOnce(&mut Registry) -> T) -> T {
    while LOCK
        .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
        .is_err()
    {
        core::hint::spin_loop();
    }
    // SAFETY: the lock is held, so this is the only reference to the registry; the
    // closure cannot re-enter (it does not allocate).
    let out = f(unsafe { &mut *REGISTRY.0.get() });
    LOCK.store(false, Ordering::Release);
    out
}

fn slot(prefix: u64) -> usize {
    (prefix.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 50) as usize & (SLOTS - 1)
}

fn prefix(bytes: &[u8]) -> u64 {
    let mut p = [0u8; 8];
    p.copy_from_slice(&bytes[..8]);
    u64::from_le_bytes(p)
}

/// Sets what `dealloc` does from now on.
pub fn set_mode(mode: Mode) {
    MODE.store(mode as u8, Ordering::SeqCst);
}

/// Registers `bytes` (MIN_LEN..=MAX_LEN bytes); returns its index.
pub fn register(bytes: &[u8]) -> usize {
    assert!((MIN_LEN..=MAX_LEN).contains(&bytes.len()));
    with_registry(|r| {
        assert!(r.count < CAPACITY, "pattern registry full");
        let i = r.count;
        r.patterns[i][..bytes.len()].copy_from_slice(bytes);
        r.lens[i] = bytes.len() as u8;
        r.count += 1;
        let mut s = slot(prefix(bytes));
        while r.index[s] != 0 {
            s = (s + 1) & (SLOTS - 1);
        }
        r.index[s] = i as u32 + 1;
        i
    })
}

/// The hits recorded so far (up to [`MAX_HITS`]) and the total count.
pub fn hits() -> (Vec<Hit>, usize) {
    let mut out = [Hit {
        pattern: 0,
        size: 0,
        offset: 0,
    }; MAX_HITS];
    let (n, total) = with_registry(|r| {
        let n = r.hit_count.min(MAX_HITS);
        out[..n].copy_from_slice(&r.hits[..n]);
        (n, r.hit_count)
    });
    (out[..n].to_vec(), total)
}

/// Forgets every pattern and hit, zeroing the stored patterns.
pub fn clear() {
    with_registry(|r| {
        for p in r.patterns.iter_mut() {
            *p = [0; MAX_LEN];
        }
        r.lens = [0; CAPACITY];
        r.index = [0; SLOTS];
        r.count = 0;
        r.hit_count = 0;
    });
}

fn scan(r: &mut Registry, block: &[u8]) {
    if r.count == 0 || block.len() < MIN_LEN {
        return;
    }
    for off in 0..=block.len() - MIN_LEN {
        let mut s = slot(prefix(&block[off..]));
        loop {
            let e = r.index[s];
            if e == 0 {
                break;
            }
            let i = e as usize - 1;
            let len = r.lens[i] as usize;
            if off + len <= block.len() && block[off..off + len] == r.patterns[i][..len] {
                if r.hit_count < MAX_HITS {
                    r.hits[r.hit_count] = Hit {
                        pattern: i,
                        size: block.len(),
                        offset: off,
                    };
                }
                r.hit_count += 1;
            }
            s = (s + 1) & (SLOTS - 1);
        }
    }
}

/// The scanning allocator.
pub struct Scanning;

// SAFETY: allocation is `System`'s; `dealloc` only reads and zeroes the block it is
// handed (which the caller owns until then) before passing it on unchanged.
unsafe impl GlobalAlloc for Scanning {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let mode = MODE.load(Ordering::SeqCst);
        if mode != Mode::Off as u8 && layout.size() > 0 {
            // SAFETY: `ptr` was allocated with `layout` and is still live: its
            // `layout.size()` bytes are ours to read and write until the free below.
            // Bytes the owner never wrote are read as whatever the memory holds (this
            // is a memory scanner); `black_box` keeps the optimizer from reasoning
            // about them.
            let ptr = core::hint::black_box(ptr);
            let block = unsafe { core::slice::from_raw_parts_mut(ptr, layout.size()) };
            if mode == Mode::Scan as u8 {
                with_registry(|r| scan(r, block));
            }
            // Volatile, so the zeroing is not dropped as a dead store before the free.
            for b in block.iter_mut() {
                // SAFETY: `b` is a valid, aligned `u8` in the block.
                unsafe { core::ptr::write_volatile(b, 0) };
            }
        }
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.dealloc(ptr, layout) }
    }
}
