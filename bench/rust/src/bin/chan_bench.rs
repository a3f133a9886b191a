//! bench/rust/src/bin/chan_bench.rs - crossbeam-channel twin of
//! bench/chan_bench.c: the same cases, logic and n (bench/run.sh).
#[path = "../harness.rs"]
mod harness;

use crossbeam_channel::{bounded, TryRecvError};
use harness::{local_work, procs, run_parallel, StartLine};
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
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

/// Go's benchmarkChanProdCons with a fixed n/t share per producer (see the C
/// twin); work iterations of Go's local work loop before each send and after
/// each receive of a 1.
fn prodcons(n: &mut usize, cap: usize, t: usize, work: usize) -> Duration {
    let per = *n / t;
    *n = per * t;
    let (s, r) = bounded::<i64>(cap);
    let received = Arc::new(AtomicUsize::new(0));
    let start = StartLine::new(2 * t);
    let mut th = Vec::new();
    for _ in 0..t {
        let (s, st) = (s.clone(), start.clone());
        th.push(thread::spawn(move || {
            let mut foo = 0i64;
            st.wait();
            for _ in 0..per {
                foo = local_work(foo, work);
                s.send(1).unwrap();
            }
            s.send(0).unwrap();
            assert_eq!(foo, 0);
        }));
        let (r, st, rc) = (r.clone(), start.clone(), received.clone());
        th.push(thread::spawn(move || {
            let mut foo = 0i64;
            st.wait();
            let mut got = 0;
            loop {
                if r.recv().unwrap() == 0 {
                    break;
                }
                got += 1;
                foo = local_work(foo, work);
            }
            assert_eq!(foo, 0);
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

/// Go's BenchmarkChanContended: one channel of capacity 100 * procs() shared
/// by all; each thread sends 1..100 and adds up what it receives.
fn chan_contended(n: &mut usize) -> Duration {
    let (s, r) = bounded::<i64>(100 * procs());
    let sum = Arc::new(AtomicI64::new(0));
    let (r2, sum2) = (r.clone(), sum.clone());
    let d = run_parallel(n, move |per, st| {
        let mut local = 0i64;
        st.wait();
        for _ in 0..per {
            for k in 1..=100 {
                s.send(k).unwrap();
            }
            for _ in 0..100 {
                local += r2.recv().unwrap();
            }
        }
        sum2.fetch_add(local, Ordering::Relaxed);
    });
    assert_eq!(sum.load(Ordering::Relaxed), *n as i64 * 5050);
    assert!(r.is_empty());
    d
}

/// Go's BenchmarkChanSem: a channel of () with capacity procs().
fn chan_sem(n: &mut usize) -> Duration {
    let (s, r) = bounded::<()>(procs());
    let got = Arc::new(AtomicUsize::new(0));
    let (r2, got2) = (r.clone(), got.clone());
    let d = run_parallel(n, move |per, st| {
        let mut local = 0;
        st.wait();
        for _ in 0..per {
            s.send(()).unwrap();
            r2.recv().unwrap();
            local += 1;
        }
        got2.fetch_add(local, Ordering::Relaxed);
    });
    assert_eq!(got.load(Ordering::Relaxed), *n);
    assert!(r.is_empty());
    d
}

/// Go's BenchmarkChanClosed: Go's close is dropping the only Sender; a
/// try_recv must then report Disconnected (Go: ok == false) at once.
fn chan_closed(n: &mut usize) -> Duration {
    let (s, r) = bounded::<()>(0);
    drop(s);
    run_parallel(n, move |per, st| {
        st.wait();
        for _ in 0..per {
            assert_eq!(r.try_recv(), Err(TryRecvError::Disconnected));
        }
    })
}

fn main() {
    harness::bench_main(&[
        ("pingpong_c0", 200000, |n| pingpong(*n, 0)),
        ("pingpong_c1", 200000, |n| pingpong(*n, 1)),
        ("prodcons_c0_t1", 400000, |n| prodcons(n, 0, 1, 0)),
        ("prodcons_c0_t2", 400000, |n| prodcons(n, 0, 2, 0)),
        ("prodcons_c0_t4", 200000, |n| prodcons(n, 0, 4, 0)),
        ("prodcons_c1_t1", 400000, |n| prodcons(n, 1, 1, 0)),
        ("prodcons_c1_t2", 500000, |n| prodcons(n, 1, 2, 0)),
        ("prodcons_c10_t2", 1000000, |n| prodcons(n, 10, 2, 0)),
        ("prodcons_c64_t1", 2000000, |n| prodcons(n, 64, 1, 0)),
        ("prodcons_c64_t2", 2000000, |n| prodcons(n, 64, 2, 0)),
        ("prodcons_c64_t4", 2000000, |n| prodcons(n, 64, 4, 0)),
        ("prodcons_c100_t2", 2000000, |n| prodcons(n, 100, 2, 0)),
        ("chan_sync", 400000, chan_sync),
        ("nonblocking", 50000000, nonblocking),
        ("creation", 2000000, creation),
        ("uncontended_c100", 100000, uncontended_c100),
        ("chan_contended", 50000, chan_contended),
        ("chan_sem", 5000000, chan_sem),
        ("chan_closed", 10000000, chan_closed),
        ("prodcons_work_c0", 500000, |n| prodcons(n, 0, procs(), 100)),
        ("prodcons_work_c10", 1000000, |n| {
            prodcons(n, 10, procs(), 100)
        }),
        ("prodcons_work_c100", 1000000, |n| {
            prodcons(n, 100, procs(), 100)
        }),
    ]);
}
