//! bench/rust/src/bin/probe_throughput.rs - crossbeam-channel's twin of
//! bench/probe/throughput.c (issue 21's load-switch trace,
//! `BENCH_IMPL=crossbeam bench/loadswitch.sh`): one producer thread sends
//! u64s as fast as it can through one bounded channel to one consumer, and
//! the main thread prints every INTERVAL_MS the rate of that interval:
//!
//!   <CLOCK_REALTIME seconds> <ops per second> same_cpu=<f> cpus=<p>,<c>
//!
//! (same_cpu: the share of the consumer's looks, one every 64 values, that
//! found the producer's last CPU equal to its own).
//!
//!   probe_throughput SECONDS [INTERVAL_MS [CAP]]   defaults: 100 ms, capacity 1
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicI64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

extern "C" {
    fn sched_getcpu() -> i32;
}

fn cpu() -> i32 {
    // SAFETY: sched_getcpu has no preconditions.
    unsafe { sched_getcpu() }
}

#[derive(Default)]
struct Probe {
    stop: AtomicBool,
    count: AtomicI64,
    cpu_p: AtomicI32,
    cpu_c: AtomicI32,
    looks: AtomicI64,
    same: AtomicI64,
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    if a.len() < 2 || a.len() > 4 {
        eprintln!("usage: {} SECONDS [INTERVAL_MS [CAP]]", a[0]);
        std::process::exit(2);
    }
    let seconds: f64 = a[1].parse().expect("SECONDS");
    let interval_ms: u64 = a.get(2).map_or(100, |s| s.parse().expect("INTERVAL_MS"));
    let cap: usize = a.get(3).map_or(1, |s| s.parse().expect("CAP"));
    let (tx, rx) = crossbeam_channel::bounded::<u64>(cap);
    let p = Arc::new(Probe::default());
    let pp = p.clone();
    let prod = std::thread::spawn(move || {
        let mut v = 0u64;
        while !pp.stop.load(Relaxed) {
            tx.send(v).unwrap();
            if v % 64 == 0 {
                pp.cpu_p.store(cpu(), Relaxed);
            }
            v += 1;
        }
    });
    let pc = p.clone();
    let cons = std::thread::spawn(move || {
        let mut want = 0u64;
        while let Ok(v) = rx.recv() {
            assert_eq!(v, want);
            want += 1;
            pc.count.store(want as i64, Relaxed);
            if want % 64 == 0 {
                let me = cpu();
                pc.cpu_c.store(me, Relaxed);
                pc.looks.store(pc.looks.load(Relaxed) + 1, Relaxed);
                if me == pc.cpu_p.load(Relaxed) {
                    pc.same.store(pc.same.load(Relaxed) + 1, Relaxed);
                }
            }
        }
    });
    let start = Instant::now();
    let mut next = start;
    let (mut last, mut last_t, mut last_looks, mut last_same) = (0i64, start, 0i64, 0i64);
    while start.elapsed().as_secs_f64() < seconds {
        next += Duration::from_millis(interval_ms);
        if let Some(d) = next.checked_duration_since(Instant::now()) {
            std::thread::sleep(d);
        }
        let now = Instant::now();
        let c = p.count.load(Relaxed);
        let looks = p.looks.load(Relaxed);
        let same = p.same.load(Relaxed);
        let rt = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs_f64();
        println!(
            "{:.3} {:.0} same_cpu={:.2} cpus={},{}",
            rt,
            (c - last) as f64 / (now - last_t).as_secs_f64(),
            if looks > last_looks { (same - last_same) as f64 / (looks - last_looks) as f64 } else { -1.0 },
            p.cpu_p.load(Relaxed),
            p.cpu_c.load(Relaxed)
        );
        last = c;
        last_t = now;
        last_looks = looks;
        last_same = same;
    }
    p.stop.store(true, Relaxed);
    prod.join().unwrap();
    cons.join().unwrap();
}
