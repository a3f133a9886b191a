//! bench/rust/src/bin/mem_report.rs - crossbeam-channel twin of
//! bench/mem_report.c: memory per channel and per blocked waiter, counted by
//! a global allocator that forwards to the system one.
//!   mem_report --list     nothing (no timed cases)
//!   mem_report --report   "mem impl=crossbeam item=<item> bytes=<b> allocs=<a>"
//! chan_capC: bytes requested and allocations per bounded::<i64>(C), over K
//! channels kept alive.  op_heap: allocations per blocking zero-capacity
//! round trip after a warm-up.  waiter_plain: what a thread's first blocking
//! operation allocates (crossbeam's per-thread Context, cached in a
//! thread-local and reused by every later blocking operation of the thread).
use crossbeam_channel::{bounded, Receiver, Sender};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

struct Counting;

static ALLOCS: AtomicUsize = AtomicUsize::new(0);
static BYTES: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(l.size(), Ordering::Relaxed);
        System.alloc(l)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        System.dealloc(p, l)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const K: usize = 1000;

fn counts() -> (usize, usize) {
    (ALLOCS.load(Ordering::Relaxed), BYTES.load(Ordering::Relaxed))
}

fn report(item: &str, bytes: f64, allocs: f64) {
    println!("mem impl=crossbeam item={} bytes={:.0} allocs={:.2}", item, bytes, allocs);
}

fn chan_size(cap: usize) {
    let mut keep: Vec<(Sender<i64>, Receiver<i64>)> = Vec::with_capacity(K);
    let (a0, b0) = counts();
    for _ in 0..K {
        keep.push(bounded(cap));
    }
    let (a1, b1) = counts();
    report(
        &format!("chan_cap{}", cap),
        (b1 - b0) as f64 / K as f64,
        (a1 - a0) as f64 / K as f64,
    );
}

fn op_heap() {
    let (ping_s, ping_r) = bounded::<i64>(0);
    let (pong_s, pong_r) = bounded::<i64>(0);
    let h = thread::spawn(move || {
        while let Ok(v) = ping_r.recv() {
            pong_s.send(v).unwrap();
        }
    });
    for i in 0..100 {
        ping_s.send(i).unwrap();
        pong_r.recv().unwrap();
    }
    let (a0, _) = counts();
    for i in 0..100 * K as i64 {
        ping_s.send(i).unwrap();
        pong_r.recv().unwrap();
    }
    let (a1, _) = counts();
    drop(ping_s);
    h.join().unwrap();
    report("op_heap", 0.0, (a1 - a0) as f64 / (100 * K) as f64);
}

fn waiter() {
    // A fresh thread blocks once (the main thread sends only after the
    // thread has announced itself, and the rendezvous completes only once it
    // receives); what it allocated is read from its own counter deltas,
    // bracketed by the channel operations it performs.
    let (ready_s, ready_r) = bounded::<(usize, usize)>(1);
    let (go_s, go_r) = bounded::<i64>(0);
    let h = thread::spawn(move || {
        let before = counts();
        ready_s.send(before).unwrap();
        go_r.recv().unwrap();
        counts()
    });
    let before = ready_r.recv().unwrap();
    go_s.send(1).unwrap();
    let after = h.join().unwrap();
    // The ready send (capacity 1, never blocks) allocates nothing.
    report("waiter_plain", (after.1 - before.1) as f64, (after.0 - before.0) as f64);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() == 2 && args[1] == "--list" {
        return;
    }
    if args.len() != 2 || args[1] != "--report" {
        eprintln!("usage: {} --list | --report", args[0]);
        std::process::exit(2);
    }
    chan_size(0);
    chan_size(1);
    chan_size(64);
    op_heap();
    waiter();
}
