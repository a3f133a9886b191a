//! bench/rust/src/bin/chan_bench.rs - crossbeam-channel twin of
//! bench/chan_bench.c: the same cases, logic and n (bench/run.sh).
#[path = "../harness.rs"]
mod harness;

use crossbeam_channel::{bounded, TryRecvError};
use harness::{run_parallel, StartLine};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

fn pingpong(n: usize, cap: usize) -> Duration {
    let (ping_s, ping_r) = bounded::<i64>(cap);
    let (pong_s, pong_r) = bounded::<i64>(cap);
    let start = StartLine::new(2);
    let s1 = start.clone();
    let a = thread::spawn(move || {
        s1.wait();
        for i in 0..n as i64 {
            ping_s.send(i).unwrap();
            assert_eq!(pong_r.recv().unwrap(), i);
        }
    });
    let s2 = start.clone();
    let b = thread::spawn(move || {
        s2.wait();
        for i in 0..n as i64 {
            let v = ping_r.recv().unwrap();
            assert_eq!(v, i);
            pong_s.send(v).unwrap();
        }
    });
    let t0 = start.go();
    a.join().unwrap();
    b.join().unwrap();
    t0.elapsed()
}

fn prodcons(n: &mut usize, cap: usize, t: usize) -> Duration {
    let per = *n / t;
    *n = per * t;
    let (s, r) = bounded::<i64>(cap);
    let received = Arc::new(AtomicUsize::new(0));
    let start = StartLine::new(2 * t);
    let mut th = Vec::new();
    for _ in 0..t {
        let (s, st) = (s.clone(), start.clone());
        th.push(thread::spawn(move || {
            st.wait();
            for _ in 0..per {
                s.send(1).unwrap();
            }
            s.send(0).unwrap();
        }));
        let (r, st, rc) = (r.clone(), start.clone(), received.clone());
        th.push(thread::spawn(move || {
            st.wait();
            let mut got = 0;
            loop {
                if r.recv().unwrap() == 0 {
                    break;
                }
                got += 1;
            }
            rc.fetch_add(got, Ordering::Relaxed);
        }));
    }
    let t0 = start.go();
    for h in th {
        h.join().unwrap();
    }
    let d = t0.elapsed();
    assert_eq!(received.load(Ordering::Relaxed), *n);
    assert!(r.is_empty());
    d
}

/// Go's BenchmarkChanSync with fixed roles (see the C twin): one op is one
/// message through a zero-capacity channel, n/2 calls per thread.
fn chan_sync(n: &mut usize) -> Duration {
    let calls = *n / 2;
    *n = calls * 2;
    let (s, r) = bounded::<i64>(0);
    let start = StartLine::new(2);
    let (s1, r1, st1) = (s.clone(), r.clone(), start.clone());
    let a = thread::spawn(move || {
        st1.wait();
        for _ in 0..calls {
            let v = r1.recv().unwrap();
            s1.send(v).unwrap();
        }
    });
    let st2 = start.clone();
    let b = thread::spawn(move || {
        st2.wait();
        let mut v = 0;
        for _ in 0..calls {
            s.send(v).unwrap();
            v = r.recv().unwrap();
        }
    });
    let t0 = start.go();
    a.join().unwrap();
    b.join().unwrap();
    t0.elapsed()
}

fn nonblocking(n: &mut usize) -> Duration {
    // The sender is kept alive, so try_recv reports Empty, not Disconnected.
    let (s, r) = bounded::<i64>(0);
    let d = run_parallel(n, move |per, st| {
        st.wait();
        for _ in 0..per {
            assert_eq!(r.try_recv(), Err(TryRecvError::Empty));
        }
    });
    drop(s);
    d
}

fn creation(n: &mut usize) -> Duration {
    run_parallel(n, |per, st| {
        st.wait();
        for i in 0..per as i64 {
            let (s, r) = bounded::<i64>(1);
            s.send(i).unwrap();
            assert_eq!(r.recv().unwrap(), i);
        }
    })
}

fn uncontended_c100(n: &mut usize) -> Duration {
    run_parallel(n, |per, st| {
        let (s, r) = bounded::<i64>(100);
        st.wait();
        for _ in 0..per {
            for _ in 0..100 {
                s.send(0).unwrap();
            }
            for _ in 0..100 {
                r.recv().unwrap();
            }
        }
    })
}

fn main() {
    harness::bench_main(&[
        ("pingpong_c0", 200000, |n| pingpong(*n, 0)),
        ("pingpong_c1", 200000, |n| pingpong(*n, 1)),
        ("prodcons_c0_t1", 400000, |n| prodcons(n, 0, 1)),
        ("prodcons_c0_t2", 400000, |n| prodcons(n, 0, 2)),
        ("prodcons_c0_t4", 200000, |n| prodcons(n, 0, 4)),
        ("prodcons_c1_t1", 400000, |n| prodcons(n, 1, 1)),
        ("prodcons_c1_t2", 500000, |n| prodcons(n, 1, 2)),
        ("prodcons_c64_t1", 2000000, |n| prodcons(n, 64, 1)),
        ("prodcons_c64_t2", 2000000, |n| prodcons(n, 64, 2)),
        ("prodcons_c64_t4", 2000000, |n| prodcons(n, 64, 4)),
        ("prodcons_c100_t2", 2000000, |n| prodcons(n, 100, 2)),
        ("chan_sync", 400000, chan_sync),
        ("nonblocking", 50000000, nonblocking),
        ("creation", 2000000, creation),
        ("uncontended_c100", 100000, uncontended_c100),
    ]);
}
