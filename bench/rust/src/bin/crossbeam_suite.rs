//! bench/rust/src/bin/crossbeam_suite.rs - crossbeam-channel's own benchmark
//! suite (crossbeam-channel/benchmarks/crossbeam-channel.rs), twin of
//! bench/crossbeam_suite.c: same cases, logic, checks and n (bench/run.sh).
//! Selects are built with `Select` each time, as crossbeam's suite does.
#[path = "../harness.rs"]
#[allow(dead_code)] // run_parallel and local_work are not used here
mod harness;

use crossbeam_channel::{bounded, Receiver, Select, Sender};
use harness::StartLine;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

const THREADS: usize = 4;
const CAP_N: usize = usize::MAX; // stands for "capacity n" (boundedN)

struct Totals {
    got: AtomicI64,
    sum: AtomicI64,
}

fn chans(n: usize, cap: usize, k: usize) -> Vec<(Sender<i64>, Receiver<i64>)> {
    let cap = if cap == CAP_N { n } else { cap };
    (0..k).map(|_| bounded(cap)).collect()
}

fn check(t: &Totals, n: usize, per: usize, producers: usize) {
    let per = per as i64;
    assert_eq!(t.got.load(Ordering::Relaxed), n as i64);
    assert_eq!(t.sum.load(Ordering::Relaxed), producers as i64 * (per * (per - 1) / 2));
}

fn totals() -> Arc<Totals> {
    Arc::new(Totals { got: AtomicI64::new(0), sum: AtomicI64::new(0) })
}

fn timed(start: StartLine, th: Vec<thread::JoinHandle<()>>) -> Duration {
    let t0 = start.go();
    for h in th {
        h.join().unwrap();
    }
    t0.elapsed()
}

fn seq(n: &mut usize, cap: usize) -> Duration {
    let c = chans(*n, cap, 1);
    let (s, r) = &c[0];
    let t0 = Instant::now();
    for i in 0..*n as i64 {
        s.send(i).unwrap();
    }
    for i in 0..*n as i64 {
        assert_eq!(r.recv().unwrap(), i);
    }
    let d = t0.elapsed();
    assert!(r.is_empty());
    d
}

/// p producers and q consumers on one channel.
fn pc(n: &mut usize, cap: usize, p: usize, q: usize) -> Duration {
    let per = *n / p;
    *n = per * p;
    let nrecv = *n / q;
    let order = p == 1 && q == 1;
    let c = chans(*n, cap, 1);
    let (s, r) = c[0].clone();
    let t = totals();
    let start = StartLine::new(p + q);
    let mut th = Vec::new();
    for _ in 0..p {
        let (s, st) = (s.clone(), start.clone());
        th.push(thread::spawn(move || {
            st.wait();
            for i in 0..per as i64 {
                s.send(i).unwrap();
            }
        }));
    }
    for _ in 0..q {
        let (r, st, t) = (r.clone(), start.clone(), t.clone());
        th.push(thread::spawn(move || {
            st.wait();
            let mut sum = 0;
            for i in 0..nrecv as i64 {
                let v = r.recv().unwrap();
                if order {
                    assert_eq!(v, i);
                }
                sum += v;
            }
            t.got.fetch_add(nrecv as i64, Ordering::Relaxed);
            t.sum.fetch_add(sum, Ordering::Relaxed);
        }));
    }
    let d = timed(start, th);
    check(&t, *n, per, p);
    assert!(r.is_empty());
    d
}

/// A consumer receiving nrecv values, each through a THREADS-case Select.
fn select_consumer(
    rs: Vec<Receiver<i64>>,
    nrecv: usize,
    st: StartLine,
    t: Arc<Totals>,
) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        st.wait();
        let mut sum = 0;
        for _ in 0..nrecv {
            let mut sel = Select::new();
            for r in &rs {
                sel.recv(r);
            }
            let case = sel.select();
            let index = case.index();
            sum += case.recv(&rs[index]).unwrap();
        }
        t.got.fetch_add(nrecv as i64, Ordering::Relaxed);
        t.sum.fetch_add(sum, Ordering::Relaxed);
    })
}

fn select_rx(n: &mut usize, cap: usize) -> Duration {
    let per = *n / THREADS;
    *n = per * THREADS;
    let c = chans(*n, cap, THREADS);
    let t = totals();
    let start = StartLine::new(THREADS + 1);
    let mut th = Vec::new();
    for (s, _) in &c {
        let (s, st) = (s.clone(), start.clone());
        th.push(thread::spawn(move || {
            st.wait();
            for i in 0..per as i64 {
                s.send(i).unwrap();
            }
        }));
    }
    let rs: Vec<_> = c.iter().map(|(_, r)| r.clone()).collect();
    th.push(select_consumer(rs, *n, start.clone(), t.clone()));
    let d = timed(start, th);
    check(&t, *n, per, THREADS);
    d
}

fn select_both(n: &mut usize, cap: usize) -> Duration {
    let per = *n / THREADS;
    *n = per * THREADS;
    let c = chans(*n, cap, THREADS);
    let t = totals();
    let start = StartLine::new(2 * THREADS);
    let mut th = Vec::new();
    for _ in 0..THREADS {
        let ss: Vec<_> = c.iter().map(|(s, _)| s.clone()).collect();
        let st = start.clone();
        th.push(thread::spawn(move || {
            st.wait();
            for i in 0..per as i64 {
                let mut sel = Select::new();
                for s in &ss {
                    sel.send(s);
                }
                let case = sel.select();
                let index = case.index();
                case.send(&ss[index], i).unwrap();
            }
        }));
        let rs: Vec<_> = c.iter().map(|(_, r)| r.clone()).collect();
        th.push(select_consumer(rs, per, start.clone(), t.clone()));
    }
    let d = timed(start, th);
    check(&t, *n, per, THREADS);
    d
}

fn main() {
    const M: usize = 5_000_000; // crossbeam's MESSAGES
    harness::bench_main(&[
        ("bounded0_spsc", M, |n| pc(n, 0, 1, 1)),
        ("bounded0_mpsc", M, |n| pc(n, 0, THREADS, 1)),
        ("bounded0_mpmc", M, |n| pc(n, 0, THREADS, THREADS)),
        ("bounded0_select_rx", M, |n| select_rx(n, 0)),
        ("bounded0_select_both", M, |n| select_both(n, 0)),
        ("bounded1_spsc", M, |n| pc(n, 1, 1, 1)),
        ("bounded1_mpsc", M, |n| pc(n, 1, THREADS, 1)),
        ("bounded1_mpmc", M, |n| pc(n, 1, THREADS, THREADS)),
        ("bounded1_select_rx", M, |n| select_rx(n, 1)),
        ("bounded1_select_both", M, |n| select_both(n, 1)),
        ("boundedN_seq", M, |n| seq(n, CAP_N)),
        ("boundedN_spsc", M, |n| pc(n, CAP_N, 1, 1)),
        ("boundedN_mpsc", M, |n| pc(n, CAP_N, THREADS, 1)),
        ("boundedN_mpmc", M, |n| pc(n, CAP_N, THREADS, THREADS)),
        ("boundedN_select_rx", M, |n| select_rx(n, CAP_N)),
        ("boundedN_select_both", M, |n| select_both(n, CAP_N)),
    ]);
}
