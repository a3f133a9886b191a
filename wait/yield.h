/*
 * wait/yield.h - the wait layer's one sched_yield, taken only while yielding
 * pays on this thread (issue 21).  Not installed; not for users.
 *
 * A yield hands this CPU to another runnable thread.  When that thread is
 * the counterpart of our wait (threads outnumber cores, or the scheduler put
 * both on one CPU), it completes us and the hand-off needs no FUTEX_WAKE:
 * that is why park, the ring's retry and the channel lock yield before they
 * sleep.  When the CPU is taken by work that does not serve us (another
 * process's busy threads, or CPU-bound threads of this program), the yield
 * returns only after that thread's whole time slice, milliseconds later,
 * and every hand-off pays one: with two busy loops on a 2-vCPU machine Go's
 * doubleselect ran 7.4-20.9 s instead of 0.14 s, where sleeping on the futex
 * at once (the scheduler favours a woken sleeper) gave 0.58-0.84 s.
 *
 * So the process learns from its yields.  A yield that returned within
 * CHAN_YIELD_LATE_NS was prompt: yielding stays on.  A late one turns
 * yielding off for every thread for a back-off period: CHAN_YIELD_OFF_MIN_NS,
 * doubled by each further late probe up to CHAN_YIELD_OFF_MAX_NS (64 ms),
 * less up to a quarter taken from the clock's low bits.  At the end of the
 * period one thread (elected by a CAS) probes with one yield; the others
 * sleep meanwhile.  A prompt probe turns yielding back on for all.  So on a
 * busy machine the process loses at most one late yield (one thread waits
 * out one time slice, ~0.6 ms measured under doubleselect) per 48-64 ms,
 * about 1%, and once the machine is quiet again the next probe, at most
 * 64 ms later, turns yielding back on.
 *
 * Why 64 ms and not 1 s (the first cap): the load may go away at any time,
 * and after a load that lasted a second or more the probes of a 1 s cap are
 * a second apart, so the quiet machine went on being treated as busy for up
 * to a second (uniform over the probe's phase): the yields that make idle
 * hand-offs fast (bounded1_spsc's pair: 3.8 M ops/s yielding against 1.1 M
 * sleeping, bench/results/loadswitch.txt of the first cap) were missing for
 * up to a whole loadswitch period.  A cap of 64 ms bounds that to a sample
 * or so for 1% of one thread under steady load.  Why less a quarter: the
 * period then does not depend on how late the previous probe was, so the
 * probes of a steady back-off cannot stay in one phase of a periodic load.
 *
 * Why not per thread (the first design): a late yield that ends the wait
 * still cost a time slice, and the sieve's 300 short-lived threads each
 * paid their own late probes.  Why not "a late yield that ended the wait
 * paid": under load most did end it, after ~600 us (instrumented park,
 * doubleselect beside two busy loops: 96,012 waits completed in a yield
 * phase, 614 us on average, against 10 us idle).  Measured (bench/goprogs.c,
 * 2 vCPUs, ns per op, medians of 3, two `stress-ng --cpu 2` at normal
 * priority): doubleselect 122-560 us per value before, 16-18 us now, 12-15
 * us with no yield at all (-DCHAN_YIELD_NS=0), which is 8-13 us idle where
 * yields give 1.5-2.7 us; sieve 6.0-6.8 ms per prime before, 0.9-1.0 ms now.
 * Idle, both as before (doubleselect 1.5-1.7 us, sieve 0.5-0.8 ms).
 * Figures and commands: bench/results/goprogs-*.txt (whole programs, with
 * the naive mutex/condvar channel and Go) and chan-select-*.txt.
 *
 * A late yield turns yields off only if the CPUs went to other processes:
 * at most once a millisecond the process's CPU time is compared with the
 * wall time since the last look (wait/yield.c, late_went_to_us).  A program
 * whose own runnable threads outnumber the cores (chan_popular_200: 200
 * selectors on 2 vCPUs; the sieve's 300 filters) sees late yields on an
 * idle machine too, but it then uses every CPU, and turning yields off
 * there cost it 2x (chan_popular_200 696-751 us without this check,
 * 361-384 us with it, 372-393 us with the gate never closing; beside two
 * busy loops 1.9-2.2 ms, as without the check, against 2.4-2.9 ms never
 * closing).  A per-yield reading of the process's CPU time was tried first:
 * its system call sums every thread's time, and around every yield it
 * doubled chan_popular_200's time by itself.
 *
 * Re-learning, counted (issue 21; bench/loadswitch.sh with
 * LOADSWITCH_STATS=1 builds with -DGOWAIT_STATS, wait/stats.h, and prints per
 * switch the yields, refused yields, late yields, probes, futex sleeps per
 * value and where the pair ran; bench/results/loadswitch-b3-*.txt).  Two
 * things kept the capacity-1 pair of that trace from following the load:
 *
 * - The gate flapped.  With the busy loops on, ~115 probes a second, ~75 of
 *   them prompt (the probe's yield went to our own counterpart on the same
 *   CPU, not to a busy loop), each reopening the gate for everyone and
 *   costing ~2.5 late yields (~190 a second, each up to a time slice) before
 *   it closed again at the shortest back-off: a prompt probe reset the
 *   back-off to CHAN_YIELD_OFF_MIN_NS.  The remedy tried: a prompt probe reopens the gate
 *   but keeps the back-off, and a late yield within CHAN_YIELD_MEMORY_NS of
 *   the previous one doubles it: under a steady load the gate settles at
 *   the longest back-off (one probe per 48-64 ms), while a load that has
 *   gone is still noticed by the next probe, at most 64 ms later, and a
 *   load that comes after a quarter of a second of quiet starts again at
 *   the shortest back-off.  Counted in the same trace, load on: 24 late
 *   yields and 15 probes a second, from 185-199 and 115-118.  The price: a
 *   machine that is almost quiet but for a late yield every quarter second
 *   (another process waking now and then) keeps yields off for 64 ms after
 *   each, where it was 2 ms.
 *
 * - The pair stayed on one CPU.  A thread whose waits end in yields (its
 *   counterpart runs on its CPU) is never woken, so the scheduler never
 *   places it again: the pair went on handing values over with a yield
 *   each way (2 yields a value, no futex sleep, same_cpu 1.00) on one CPU
 *   for seconds after the other CPU had freed up, at 1.2 M ops/s where one
 *   CPU each gives ~4 M (bench/results/loadswitch-2026-12-07-s4-*: 30-37 s).
 *   The re-placement rule (gowait__yield_wait): a thread that has yielded
 *   for CHAN_YIELD_REPLACE_NS (5 ms) since it last slept sleeps once; its
 *   wake-up goes through the scheduler's wake-up placement, which takes an
 *   idle CPU when there is one.  Cost: one futex sleep and wake per thread
 *   per 5 ms of yielding (~20-50 us, under 1%).  Shared 2-vCPU machine,
 *   two traces back to back: off samples above 1 M ops/s 7 of 294 before,
 *   45 of 297 after (crossbeam 4 of 300, the naive channel 0 of 300); where
 *   the other CPU stays busy (other processes, even niced ones) no rule of
 *   ours moves the pair: the naive channel, which always sleeps, and
 *   crossbeam, which spins and yields, stay on one CPU the same way.
 *
 * Both rules are OFF by default (0 in the macros below).  Idle, they cost
 * the thread hand-offs in both A/B runs made: chan_sync 1.20x and
 * chan_popular_200 1.20x (bench/run.sh BENCH_BASE, ROUNDS=3, quiet machine,
 * load average 0.8 at the start; ranges overlapping) and 1.46x / 1.37x in
 * the helper's run on the shared machine; the one loaded gain is not shown:
 * two back-to-back loaded A/B runs beside two busy loops gave after/before
 * 1.29-7.9 and then, with the rules off and so the same code, 0.41-3.23 (the
 * pair's placement swings a loaded case's median 2-5x between runs of
 * identical code).  The counts above are real (the gate flapped, the pair
 * stayed on one CPU); the remedies are kept for measurement: build with
 * CHAN_YIELD_MEMORY_NS=250000000 and CHAN_YIELD_REPLACE_NS=5000000.
 *
 * The state is three words of the process, read on every yield and written
 * only when the decision changes; nothing is ordered by them (relaxed).
 * The re-placement rule's state is the thread's own.
 */
#ifndef GOCHAN_WAIT_YIELD_H
#define GOCHAN_WAIT_YIELD_H

#include <stdbool.h>
#include <stdint.h>

/* Longer than a yield to a runnable sibling that blocks again soon (a few
 * us) and far shorter than a time slice (0.75-3 ms under EEVDF/CFS). */
#ifndef CHAN_YIELD_LATE_NS
#define CHAN_YIELD_LATE_NS 200000
#endif
/* How often the process's CPU share is read to tell whose work a late
 * yield went to (wait/yield.c, late_went_to_us). */
#ifndef CHAN_YIELD_WINDOW_NS
#define CHAN_YIELD_WINDOW_NS 1000000
#endif
#ifndef CHAN_YIELD_OFF_MIN_NS
#define CHAN_YIELD_OFF_MIN_NS 2000000
#endif
#ifndef CHAN_YIELD_OFF_MAX_NS
#define CHAN_YIELD_OFF_MAX_NS 64000000
#endif
/* A late yield within this long of the previous one doubles the back-off,
 * even if a prompt probe reopened the gate in between (wait/yield.c,
 * late_at); longer than CHAN_YIELD_OFF_MAX_NS, so that a steady load keeps
 * the longest back-off. */
#ifndef CHAN_YIELD_MEMORY_NS
#define CHAN_YIELD_MEMORY_NS 0 /* off: measured worse (above); B3 used 250000000 */
#endif

/* How long a thread may go on yielding without sleeping once (the
 * re-placement rule, wait/yield.c). */
#ifndef CHAN_YIELD_REPLACE_NS
#define CHAN_YIELD_REPLACE_NS 0 /* off: measured worse (above); B3 used 5000000 */
#endif

/*
 * gowait__yield - sched_yield(), unless the process has learnt that yields do
 * not pay now.  @now is chan_now() as the caller last read it (the gate
 * needs no clock read of its own).  Returns false without yielding while
 * yields are off: the caller should sleep instead (or queue and sleep).
 */
bool gowait__yield(int64_t now);

/*
 * gowait__yield_wait - gowait__yield for a blocked thread's wait (park, the
 * channel lock's slow path, the ring's retry), with the re-placement rule:
 * a thread that has yielded for CHAN_YIELD_REPLACE_NS since it last slept
 * refuses its yields (returns false) until it has slept once
 * (gowait__slept).  The fiber scheduler's idle spin uses gowait__yield.
 */
bool gowait__yield_wait(int64_t now);

/*
 * gowait__slept - the calling thread is about to sleep on a futex (or just
 * did) at chan_now() time @now: the re-placement rule's clock restarts, and a
 * thread that refused its yields to get this sleep may yield again.
 */
void gowait__slept(int64_t now);

/* Whether a thread yields now (tests and diagnostics). */
bool gowait__yield_on(int64_t now);

#endif
