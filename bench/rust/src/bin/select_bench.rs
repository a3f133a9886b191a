//! bench/rust/src/bin/select_bench.rs - crossbeam-channel twin of
//! bench/select_bench.c: the same cases, logic and n (bench/run.sh), with
//! crossbeam's select! macro.  Go's "close(done)" is crossbeam's dropping of
//! the last Sender (a receive on a disconnected channel is ready).
#[path = "../harness.rs"]
mod harness;

use crossbeam_channel::{bounded, select, Receiver, Sender};
use harness::{local_work, procs, run_parallel, StartLine};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

fn select_uncontended(n: &mut usize) -> Duration {
    run_parallel(n, |per, st| {
        let (s1, r1) = bounded::<i64>(1);
        let (s2, r2) = bounded::<i64>(1);
        s1.send(0).unwrap();
        st.wait();
        for _ in 0..per {
            select! {
                recv(r1) -> v => { v.unwrap(); s2.send(0).unwrap(); }
                recv(r2) -> v => { v.unwrap(); s1.send(0).unwrap(); }
            }
        }
        assert_eq!(r1.len() + r2.len(), 1);
    })
}

fn select_pingpong_c0(n: &mut usize) -> Duration {
    let n = *n as i64;
    let (ping_s, ping_r) = bounded::<i64>(0);
    let (pong_s, pong_r) = bounded::<i64>(0);
    let (idle_s, idle_r) = bounded::<()>(0);
    let start = StartLine::new(2);
    let (st, ir) = (start.clone(), idle_r.clone());
    let a = thread::spawn(move || {
        st.wait();
        for i in 0..n {
            select! {
                send(ping_s, i) -> res => res.unwrap(),
                recv(ir) -> _ => panic!("idle fired"),
            }
            select! {
                recv(pong_r) -> v => assert_eq!(v.unwrap(), i),
                recv(ir) -> _ => panic!("idle fired"),
            }
        }
    });
    let (st, ir) = (start.clone(), idle_r);
    let b = thread::spawn(move || {
        st.wait();
        for i in 0..n {
            let v = select! {
                recv(ping_r) -> v => v.unwrap(),
                recv(ir) -> _ => panic!("idle fired"),
            };
            assert_eq!(v, i);
            select! {
                send(pong_s, v) -> res => res.unwrap(),
                recv(ir) -> _ => panic!("idle fired"),
            }
        }
    });
    let t0 = start.go();
    a.join().unwrap();
    b.join().unwrap();
    drop(idle_s);
    t0.elapsed()
}

fn select_sync_contended(n: &mut usize) -> Duration {
    let (s1, r1) = bounded::<i64>(0);
    let (s2, r2) = bounded::<i64>(0);
    let (s3, r3) = bounded::<i64>(0);
    let (done_s, done_r) = bounded::<()>(0);
    let helpers: Vec<_> = (0..procs())
        .map(|_| {
            let (s1, s2, s3, done_r) = (s1.clone(), s2.clone(), s3.clone(), done_r.clone());
            thread::spawn(move || loop {
                select! {
                    send(s1, 0) -> res => res.unwrap(),
                    send(s2, 0) -> res => res.unwrap(),
                    send(s3, 0) -> res => res.unwrap(),
                    recv(done_r) -> _ => return,
                }
            })
        })
        .collect();
    // The workers get clones: the receivers must outlive the helpers, whose
    // send cases would otherwise fire with a disconnection error.
    let (r1c, r2c, r3c) = (r1.clone(), r2.clone(), r3.clone());
    let d = run_parallel(n, move |per, st| {
        st.wait();
        for _ in 0..per {
            let v = select! {
                recv(r1c) -> v => v.unwrap(),
                recv(r2c) -> v => v.unwrap(),
                recv(r3c) -> v => v.unwrap(),
            };
            assert_eq!(v, 0);
        }
    });
    drop(done_s); // Go's close(done)
    for h in helpers {
        h.join().unwrap();
    }
    drop((r1, r2, r3));
    d
}

fn select_async_contended(n: &mut usize) -> Duration {
    let p = procs();
    let (s1, r1) = bounded::<i64>(p);
    let (s2, r2) = bounded::<i64>(p);
    let (r1c, r2c) = (r1.clone(), r2.clone());
    let d = run_parallel(n, move |per, st| {
        s1.send(0).unwrap();
        st.wait();
        for _ in 0..per {
            select! {
                recv(r1c) -> v => { v.unwrap(); s2.send(0).unwrap(); }
                recv(r2c) -> v => { v.unwrap(); s1.send(0).unwrap(); }
            }
        }
    });
    assert_eq!(r1.len() + r2.len(), p);
    d
}

fn select_nonblock(n: &mut usize) -> Duration {
    let (s1, r1) = bounded::<i64>(0);
    let (s2, r2) = bounded::<i64>(0);
    let (s3, r3) = bounded::<i64>(1);
    let (s4, r4) = bounded::<i64>(1);
    let (s2c, s4c) = (s2.clone(), s4.clone());
    let (r1c, r3c) = (r1.clone(), r3.clone());
    let d = run_parallel(n, move |per, st| {
        st.wait();
        for _ in 0..per {
            select! {
                recv(r1c) -> _ => panic!("nonblock r1"),
                default => {}
            }
            select! {
                send(s2c, 0) -> _ => panic!("nonblock s2"),
                default => {}
            }
            select! {
                recv(r3c) -> _ => panic!("nonblock r3"),
                default => {}
            }
            select! {
                send(s4c, 0) -> res => res.unwrap(),
                default => {}
            }
        }
    });
    assert_eq!(r4.len(), 1);
    drop((s1, s3, r2, r4, s2, s4, r1, r3));
    d
}

fn select_nonblock2(n: &mut usize) -> Duration {
    let (s1, r1) = bounded::<i64>(0);
    let (s2, r2) = bounded::<i64>(1);
    let d = run_parallel(n, move |per, st| {
        st.wait();
        for _ in 0..per {
            select! {
                recv(r1) -> _ => panic!("nonblock2 r1"),
                recv(r2) -> _ => panic!("nonblock2 r2"),
                default => {}
            }
        }
    });
    drop((s1, s2));
    d
}

fn select_prodcons(n: &mut usize) -> Duration {
    let p = procs();
    let per = *n / p;
    *n = per * p;
    let (s, r) = bounded::<i64>(128);
    let (close_s, close_r) = bounded::<bool>(0);
    let received = Arc::new(AtomicUsize::new(0));
    let sink = Arc::new(AtomicUsize::new(0));
    let start = StartLine::new(2 * p);
    let mut th = Vec::new();
    for _ in 0..p {
        let (s, cr, st, sk) = (s.clone(), close_r.clone(), start.clone(), sink.clone());
        th.push(thread::spawn(move || {
            // Go's time.After(time.Hour): a cap-1 channel nobody sends on.
            let (_timer_s, timer_r): (Sender<i64>, Receiver<i64>) = bounded(1);
            let mut foo = 0i64;
            st.wait();
            for _ in 0..per {
                foo = local_work(foo, 100);
                select! {
                    send(s, 1) -> res => res.unwrap(),
                    recv(timer_r) -> _ => panic!("timer fired"),
                    recv(cr) -> _ => panic!("close fired"),
                }
            }
            s.send(0).unwrap();
            sk.fetch_add((foo == 42) as usize, Ordering::Relaxed);
        }));
        let (r, close_r, st) = (r.clone(), close_r.clone(), start.clone());
        let (received, sink) = (received.clone(), sink.clone());
        th.push(thread::spawn(move || {
            let (_timer_s, timer_r): (Sender<i64>, Receiver<i64>) = bounded(1);
            let mut foo = 0i64;
            let mut got = 0;
            st.wait();
            loop {
                let v = select! {
                    recv(r) -> v => v.unwrap(),
                    recv(timer_r) -> _ => panic!("timer fired"),
                    recv(close_r) -> _ => panic!("close fired"),
                };
                if v == 0 {
                    break;
                }
                got += 1;
                foo = local_work(foo, 100);
            }
            received.fetch_add(got, Ordering::Relaxed);
            sink.fetch_add((foo == 42) as usize, Ordering::Relaxed);
        }));
    }
    let t0 = start.go();
    for h in th {
        h.join().unwrap();
    }
    let d = t0.elapsed();
    drop(close_s);
    assert_eq!(received.load(Ordering::Relaxed), *n);
    assert_eq!(sink.load(Ordering::Relaxed), 0);
    d
}

const POPULAR: usize = 200;

fn chan_popular(n: &mut usize) -> Duration {
    let rounds = *n;
    let (c_s, c_r) = bounded::<bool>(0);
    let start = StartLine::new(POPULAR);
    let mut senders = Vec::new();
    let mut th = Vec::new();
    for _ in 0..POPULAR {
        let (d_s, d_r) = bounded::<bool>(0);
        senders.push(d_s);
        let (c_r, st) = (c_r.clone(), start.clone());
        th.push(thread::spawn(move || {
            st.wait();
            for _ in 0..rounds {
                select! {
                    recv(c_r) -> _ => panic!("popular c fired"),
                    recv(d_r) -> v => assert!(v.unwrap()),
                }
            }
        }));
    }
    let t0 = start.go();
    for _ in 0..rounds {
        for d in &senders {
            d.send(true).unwrap();
        }
    }
    for h in th {
        h.join().unwrap();
    }
    let d = t0.elapsed();
    drop(c_s);
    d
}

fn main() {
    harness::bench_main(&[
        ("select_uncontended", 5000000, select_uncontended),
        ("select_pingpong_c0", 200000, select_pingpong_c0),
        ("select_sync_contended", 300000, select_sync_contended),
        ("select_async_contended", 1000000, select_async_contended),
        ("select_prodcons", 500000, select_prodcons),
        ("select_nonblock", 10000000, select_nonblock),
        ("select_nonblock2", 2000000, select_nonblock2),
        ("chan_popular_200", 1000, chan_popular),
    ]);
}
