//! The protocol of bench/bench.h, for the crossbeam-channel twins:
//!   prog --list        "<case> <default_n>" per line
//!   prog <case> <n>    "case=<case> impl=crossbeam n=<n> ns_per_op=<x>"
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

pub type Run = fn(&mut usize) -> Duration;

/// Width of the parallel cases: $BENCH_PROCS, else the CPU count.
pub fn procs() -> usize {
    if let Ok(s) = std::env::var("BENCH_PROCS") {
        if let Ok(p) = s.parse::<usize>() {
            if p > 0 {
                return p;
            }
        }
    }
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

#[allow(dead_code)] // used by chan_bench and select_bench only
/// Go's local work loop (foo *= 2; foo /= 2), kept opaque to the optimiser.
/// (An empty asm statement, as in bench/bench.h: std::hint::black_box is
/// unstable in Debian 12's rustc 1.63.)
pub fn local_work(mut foo: i64, iters: usize) -> i64 {
    for _ in 0..iters {
        opaque(&mut foo);
        foo = foo.wrapping_mul(2);
        opaque(&mut foo);
        foo /= 2;
    }
    foo
}

#[allow(dead_code)]
#[inline(always)]
fn opaque(x: &mut i64) {
    // SAFETY: an empty instruction string; it only claims to read and
    // write the register holding *x.
    unsafe { std::arch::asm!("/* {0} */", inout(reg) *x, options(nomem, nostack, preserves_flags)) };
}

/// The start line: k workers call wait(); the main thread's go() returns the
/// start time once all have arrived.  Two barriers, as in bench/bench.h: the
/// clock is read between "all ready" and "go", so a main thread preempted
/// after the release cannot start it late.
#[derive(Clone)]
pub struct StartLine(Arc<(Barrier, Barrier)>);

impl StartLine {
    pub fn new(k: usize) -> Self {
        StartLine(Arc::new((Barrier::new(k + 1), Barrier::new(k + 1))))
    }
    pub fn wait(&self) {
        self.0 .0.wait();
        self.0 .1.wait();
    }
    pub fn go(&self) -> Instant {
        self.0 .0.wait();
        let t0 = Instant::now();
        self.0 .1.wait();
        t0
    }
}

/// b.RunParallel: procs() threads share *n ops, each doing per = max(*n / p, 1)
/// of them; *n is rounded to what was done.  body(per, start) calls
/// start.wait() once its setup is done; the clock runs from the moment all
/// are ready until the last has returned.
pub fn run_parallel<F>(n: &mut usize, body: F) -> Duration
where
    F: Fn(usize, &StartLine) + Send + Sync + 'static,
{
    let p = procs();
    let per = std::cmp::max(*n / p, 1);
    *n = per * p;
    let start = StartLine::new(p);
    let body = Arc::new(body);
    let th: Vec<_> = (0..p)
        .map(|_| {
            let (b, st) = (body.clone(), start.clone());
            thread::spawn(move || b(per, &st))
        })
        .collect();
    let t0 = start.go();
    for h in th {
        h.join().unwrap();
    }
    t0.elapsed()
}

pub fn bench_main(cases: &[(&str, usize, Run)]) {
    let args: Vec<String> = std::env::args().collect();
    if args.len() == 2 && args[1] == "--list" {
        for (name, n, _) in cases {
            println!("{} {}", name, n);
        }
        return;
    }
    if args.len() != 3 {
        eprintln!("usage: {} --list | {} <case> <n>", args[0], args[0]);
        std::process::exit(2);
    }
    let mut n: usize = match args[2].parse() {
        Ok(n) if n > 0 => n,
        _ => {
            eprintln!("{}: bad iteration count '{}'", args[0], args[2]);
            std::process::exit(2);
        }
    };
    for (name, _, run) in cases {
        if *name == args[1] {
            let d = run(&mut n);
            println!(
                "case={} impl=crossbeam n={} ns_per_op={:.2}",
                name,
                n,
                d.as_nanos() as f64 / n as f64
            );
            return;
        }
    }
    eprintln!("{}: unknown case '{}'", args[0], args[1]);
    std::process::exit(2);
}
