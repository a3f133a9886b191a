/*
 * fiber/sched.c - the fiber runtime's M:N scheduler: worker slots with run
 * queues, worker threads that hold them, stealing, the global queue, the
 * spinning rule, idle sleep and exit, and the park/ready pair lent to the
 * wait layer (wait/park.h).  Go's runtime/proc.go is the model; its names
 * are given where the idea is Go's.
 *
 * Invariants:
 * - Slots and threads (Go's P and M).  There are nslots worker slots
 *   (GOFIBER_WORKERS or the online cores), each with a run queue
 *   (fiber/runq.h).  A worker thread runs fibers only while it holds a
 *   slot; a slot is held by at most one thread, or idle (on W.pidle).
 *   Threads without a slot sleep on W.midle.  A thread in a blocking system
 *   call (gofiber_syscall_enter) holds no slot: it gave it away, so that
 *   nslots threads at most run fibers at once.
 * - W.life (the worker service's lock, rank 57) guards the global queue, the
 *   idle slot and idle thread lists, the thread count, and the decision of
 *   a thread to exit.  npidle and nspinning are also atomics, read without
 *   it to decide cheaply whether to wake anybody.
 * - Where a readied fiber goes (ready()): on a worker thread holding a slot
 *   (from a fiber, or its scheduler's timer expiry), into that slot's
 *   runnext (Go's ready(gp, next=true)); a displaced runnext goes to the
 *   tail.  On any other thread, into the global queue.  New fibers the same
 *   way (Go's newproc).
 * - Spinning (Go's wakep/resetspinning): after making a fiber runnable, the
 *   readier wakes an idle thread with an idle slot only if no thread is
 *   spinning (nspinning CAS 0 -> 1) and a slot is idle, and only if the
 *   fiber is work that another thread may take: a new fiber, a ring that
 *   holds GOFIBER_RING_WAKE fibers or more (ring_wants_thread), the global
 *   queue.  A parked fiber readied into runnext, behind a shorter ring,
 *   wakes nobody (unlike Go) while an idle thread watches (W.nwatch): its
 *   own slot's thread runs it at its next switch, and no spinner may take
 *   it before STEAL_GRACE_NS anyway (steal_due), so the wake bought nothing
 *   but a FUTEX_WAKE on the hand-off path (see GOFIBER_WAKE_NEXT), and a
 *   woken spinner that stole split a chain of hand-offs.  What if the
 *   readier then computes for long: the watch below.  With no thread
 *   watching (none idle, or none asleep since a slot became busy) it wakes
 *   as Go does; the woken thread, if it finds nothing, becomes a watcher.
 * - The watch (Go's sysmon, in the idle threads): while a slot is held, an
 *   idle thread sleeps at most GOFIBER_WATCH_NS at a time (counted in
 *   W.nwatch from the moment it gives up spinning until it leaves its
 *   sleeps: watch_begin); when it wakes it looks for a slot whose queue
 *   holds fibers while its owner has not switched since the last look,
 *   STEAL_GRACE_NS at least (stuck_somewhere), and if a slot is idle it
 *   takes it, spinning, and steals them.  So a fiber readied behind a
 *   readier that never switches waits at most about two watch periods.
 *   The woken thread spins: it looks for work everywhere (global queue,
 *   stealing what steal_due allows: a chain of hand-offs stays on its
 *   worker); when it finds some it stops spinning and, if it was the last
 *   spinner, wakes the next one.  So a burst of N readies costs at most
 *   min(N, nslots) futex wakes as long as the woken threads are still looking
 *   (each wake takes an idle slot; a slot comes back only when its thread
 *   finds nothing).  A spinner that gives up counts itself as watching,
 *   decrements nspinning, and THEN looks again at the global queue and every
 *   run queue for work it would take (work_due; seq_cst: the Dekker pair with
 *   a readier's put and its load of nspinning), so that work put while it
 *   spun is never left without a thread: it takes it, or it is the owner's,
 *   or its watch finds it stuck.
 * - Park (Go's gopark with its unlock function, the commit after the
 *   switch): the fiber records its parker and switches to its thread's
 *   scheduler, which then CASes parker.futex 0 -> 2 (fiber/deadline.c).
 *   Success: the fiber is parked, and exactly one of two RMWs on that word
 *   will make it runnable again: a completer's exchange that reads 2 (it
 *   then calls ready()), or the deadline heap's CAS 2 -> 0.  A fiber is
 *   never readied twice, and a completer's ready() always finds it parked
 *   and alive.  Failure (the word is 1): completed meanwhile; it runs again
 *   at once.  No lost wake-up.
 * - Idle threads sleep on their own futex word (m->wake) until handed a
 *   slot, until the earliest fiber deadline (then they expire the due
 *   fibers into the global queue and look for a slot), until the watch
 *   period ends while a slot is held (the watch above), or until their
 *   linger ends.  Exit (the service's rule, service/service.h): a thread
 *   without a slot exits once idle for LINGER_NS while no fiber lives, or
 *   while more threads exist than slots (spares left by system calls);
 *   decided under W.life, so that gofiber_go (which counts its fiber in
 *   W.live before taking W.life) either is seen or finds a thread to wake
 *   or creates one.  The thread whose exit finds no fiber wakes one idle
 *   thread so that it rechecks: no worker outlives the fibers by more than
 *   the linger (godiag_threads counts them until gosvc__leave_locked).
 * - Migration: a fiber may resume on another thread after any switch.  The
 *   fiber-side code below never holds a thread-local value or address
 *   across a switch: errno is saved and restored by out-of-line calls on
 *   either side of it (a compiler may keep &errno, __errno_location() being
 *   const, or the thread pointer in a register within one function), and
 *   cur_m / gofiber__cur are read fresh in functions called after it.
 */
#include <errno.h>
#include <gochan/chan.h>
#include <gochan/fiber.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fiber/deadline.h"
#include "fiber/fiber_impl.h"
#include "fiber/runq.h"
#include "fiber/sanitize.h"
#include "fiber/sched.h"
#include "fiber/trace.h"
#include "service/service.h"
#include "wait/clock.h"
#include "wait/futex.h"
#include "wait/park.h"
#include "wait/yield.h"

#include <urcu/arch.h>

#define LINGER_NS 50000000 /* 50 ms, as the thread groups' idle threads */
#define FAIR_TICKS 61      /* Go's schedtick % 61: the global queue's turn */
#define MAX_SLOTS 1024
#define ID_BATCH 16 /* fiber ids a slot takes at once (Go's _GoidCacheBatch) */
/*
 * How long a spinning thread keeps looking for work before it gives its
 * slot back and sleeps: PAUSE for GOFIBER_PAUSE_NS, then yield between looks
 * (wait/yield.h's gate: it stops when yields come back late), up to
 * GOFIBER_SPIN_NS in all.  While a thread spins, readies wake nobody (the
 * spinning rule), so a fiber that starts or readies fibers in a loop does
 * not pay a FUTEX_WAKE each time.  The yields let a thread that the spinner
 * serves on the same CPU run (a pure PAUSE spin made every thread-fiber
 * hand-off cost the whole budget, 30-54 us, when the two shared a CPU).  The
 * trade-off, measured on these loaded 2-vCPU VMs
 * (bench/results/fiber-mn.txt): against no spin (0, one round then sleep,
 * as Go's findrunnable), fiber-fiber go+wait and ping-pong are up to 1.6x
 * faster, thread-fiber hand-offs up to 2.3x slower, depending on the load.
 * Compile-time knobs, for measuring.
 */
#ifndef GOFIBER_SPIN_NS
#define GOFIBER_SPIN_NS 20000
#endif
#ifndef GOFIBER_PAUSE_NS
#define GOFIBER_PAUSE_NS 2000
#endif
/*
 * What a spinning thread steals, and when (steal_due below).  Go's spinner
 * takes half of any ring it finds non-empty at once, and a running slot's
 * runnext after a sleep of 3 us.  A spinner here keeps looking for the
 * whole budget above, far longer than Go's four passes, and taking work at
 * once made it split every chain of hand-offs on one channel between the
 * two workers: the owner readies a blocked sender into runnext, the one
 * displaced goes to the ring, the spinner takes it, and from then on the
 * fibers of both workers fight over the channel's lock and lines
 * (bounded1_mpsc on 2 workers ran at twice its time on 1, with a fifth of
 * the profile in the lock's backoff; Go, whose woken thread mostly finds
 * the ring drained after its wake-up latency, runs such a chain on one
 * thread at a time).  So a victim's fibers are taken only when waiting for
 * its owner would cost more than STEAL_GRACE_NS:
 *  - stuck: its owner has not switched fibers for STEAL_GRACE_NS (a fiber
 *    computes, or the thread was preempted): its ring, or its runnext (as
 *    Go's grace, on evidence rather than after a sleep);
 *  - backlog: its ring holds more than its owner gets through in
 *    STEAL_GRACE_NS at the rate of switches seen over the last window.
 * New fibers (a slot whose owner started fibers with gofiber_go since its
 * queue was last empty: the fresh flag) are taken at once, as in Go: a
 * fan-out of empty fibers ran half again as slow when it waited for the
 * grace (batch100_fiber), and a fan-out is what stealing is for.  A
 * fan-out of readied fibers that compute (more than the grace each, or
 * enough of them) is spread too; a chain of hand-offs stays on one worker.
 * Looks at a victim are STEAL_POLL_NS apart at least: each read of its
 * switch count costs its owner a cache miss.
 */
#define STEAL_GRACE_NS 3000
/*
 * Whether readying a parked fiber into an empty runnext wakes an idle thread
 * (Go's ready() does; 0: no, see "Spinning" at the top), and the idle
 * threads' watch period that then bounds how long such a fiber waits behind
 * a readier that never switches.  On a chain of hand-offs between fibers
 * (ping-pong, capacity-1 producer/consumer) the second worker spun its
 * budget, slept, and was woken by the next ready, a FUTEX_WAKE on the
 * hand-off path every GOFIBER_SPIN_NS or so, with a steal of runnext when
 * the owner was preempted that split the pair across the CPUs; without the
 * wake those cases paid 10-20x fewer futex calls and context switches and
 * ran 0.5-0.85x their time in most interleaved runs on these loaded 2-vCPU
 * VMs (bench/results/fiber-last-2026-12-08-2vcpu-shared.txt).  Compile-time
 * knobs, for measuring.
 */
#ifndef GOFIBER_WAKE_NEXT
#define GOFIBER_WAKE_NEXT 0
#endif
#ifndef GOFIBER_WATCH_NS
#define GOFIBER_WATCH_NS 1000000 /* 1 ms */
#endif
#define STEAL_WINDOW_NS (2 * STEAL_GRACE_NS)
#define STEAL_POLL_NS 1000

/* A worker slot (Go's P). */
struct gofiber__p {
	struct gofiber__runq q;
	uint32_t id;
	/* Switches so far: written by the owner only (relaxed), read by
	 * thieves (steal_due). */
	_Atomic uint32_t schedtick;
	struct gofiber__p *link; /* W.pidle; under W.life */
	/* The holder's (fibers started and ended on this slot): dead fibers'
	 * stacks (fiber/stack.h), and fiber ids taken ID_BATCH at a time. */
	struct gofiber__stack_local stacks;
	uint64_t id_next, id_end;
	/* 1 while fibers started by gofiber_go on this slot may be queued
	 * (set by the owner's ready() of a new fiber, cleared by the owner
	 * when it finds its queue empty or takes a fiber that parked before
	 * from it; relaxed, read by thieves: steal_due).  On a line of its
	 * own, written rarely: spinners read it at every look. */
	_Alignas(64) _Atomic uint32_t fresh;
	/* The thieves' observations of schedtick (steal_due), on a line of
	 * their own: written and read by spinning threads only, relaxed (a
	 * hint; two thieves' racing stores at worst delay a steal by a look).
	 * seen_*: the count last seen and since when; win_*: the start of the
	 * current rate window. */
	_Alignas(64) _Atomic uint32_t seen_tick;
	_Atomic uint32_t win_tick;
	_Atomic int64_t seen_at;
	_Atomic int64_t win_at;
} __attribute__((aligned(64)));

/* A worker thread (Go's M). */
struct gofiber__m {
	struct gofiber__ctx sched; /* its scheduler context (its own stack) */
	struct gofiber__p *p;      /* the slot it holds; the thread's own */
	bool spinning;             /* the thread's own (counted in nspinning) */
	uint64_t rng;              /* victim order; the thread's own */
	/* Hand-over: written under W.life by the waker before the release
	 * store of wake = 1; read by the thread after its acquire load. */
	_Atomic uint32_t wake; /* futex: 0 asleep (or about to), 1 woken */
	struct gofiber__p *nextp;
	bool nextspin;
	struct gofiber__m *link; /* W.midle; under W.life */
	bool idle;               /* on W.midle; under W.life */
	bool watching;           /* counted in W.nwatch; the thread's own */
	/* The scheduler context for the sanitizers (fiber/sanitize.h). */
	void *tsan, *asan_fake;
	const void *stack_lo;
	size_t stack_size;
};

_Thread_local struct gofiber *gofiber__cur __attribute__((tls_model("initial-exec")));
static _Thread_local struct gofiber__m *cur_m __attribute__((tls_model("initial-exec")));

static struct {
	pthread_mutex_t life; /* the worker service's lock (svc below): see the top */
	struct gofiber__p *slots;
	uint32_t nslots;
	/* Under life.  The global queue (see gq_put_locked). */
	struct gofiber **gq_ring;
	size_t gq_cap, gq_first, gq_len;   /* cap: 0 or a power of two */
	struct gofiber *gq_head, *gq_tail; /* behind the ring: see gq_put_locked */
	struct gofiber__p *pidle;
	struct gofiber__m *midle;
	uint32_t nm; /* worker threads alive */
	/* Atomics (see the top). */
	_Atomic long gq_n; /* global queue length (written under life) */
	/* Read by every ready(): apart from gq_n and live, written by every
	 * global queue put and pop and every fiber's start and end. */
	_Alignas(64) _Atomic uint32_t npidle; /* written under life */
	_Atomic uint32_t nspinning;
	/* Idle threads keeping the watch (see the top; watch_begin), read by
	 * ready(). */
	_Atomic uint32_t nwatch;
	/* Fibers started, not ended: an RMW by every start and end, on every
	 * worker, so on a cache line of its own, lest each of them also take
	 * away the line of npidle and nspinning, which every ready() reads. */
	_Alignas(64) _Atomic long live;
	char live_pad[64 - sizeof(long)];
	/* Statistics for tests (relaxed). */
	_Atomic uint64_t wakes, steals, threads_started;
} W = {.life = PTHREAD_MUTEX_INITIALIZER};

/* The worker threads, as a service: lazy start, idle exit, counted. */
static struct gosvc svc =
	GOSVC_INIT(&W.life, GOWAIT_LOCKRANK_FIBER_LIFE, GODIAG_THREAD_FIBER, LINGER_NS, false);

static _Atomic uint64_t last_id;

static void lock(void)
{
	gowait__mutex_lock(&W.life, GOWAIT_LOCKRANK_FIBER_LIFE);
}

static void unlock(void)
{
	gowait__mutex_unlock(&W.life, GOWAIT_LOCKRANK_FIBER_LIFE);
}

/* ---- the global queue and the idle lists (under W.life) ---- */

/*
 * The global queue is a FIFO ring of pointers, grown by doubling under
 * W.life, so that moving a batch of it to a run queue reads dense memory
 * and never the fibers' records (each at the top of its own stack: a
 * linked list through them cost a cache and TLB miss per fiber, 7% of
 * skynet's time in its walk).  It keeps its peak size (8 bytes per fiber
 * queued at once, under 0.2% of those fibers' stacks) until an idle worker
 * finds it empty (gq_trim_locked).  If it cannot grow (out of memory), the
 * fibers queue behind it on an intrusive list (f->next); once that list is
 * non-empty every put goes to it, and it is taken from only when the ring is
 * empty, so the order stays FIFO.
 */
static bool gq_grow_locked(void)
{
	size_t cap = W.gq_cap ? 2 * W.gq_cap : 256;
	struct gofiber **r = malloc(cap * sizeof *r);

	if (!r)
		return false;
	for (size_t i = 0; i < W.gq_len; i++)
		r[i] = W.gq_ring[(W.gq_first + i) & (W.gq_cap - 1)];
	free(W.gq_ring);
	W.gq_ring = r;
	W.gq_cap = cap;
	W.gq_first = 0;
	return true;
}

static void gq_put_locked(struct gofiber *f)
{
	if (!W.gq_head && (W.gq_len < W.gq_cap || gq_grow_locked())) {
		W.gq_ring[(W.gq_first + W.gq_len++) & (W.gq_cap - 1)] = f;
	} else {
		f->next = NULL;
		if (W.gq_tail)
			W.gq_tail->next = f;
		else
			W.gq_head = f;
		W.gq_tail = f;
	}
	/* relaxed: a hint read outside the lock; the fiber itself is handed
	 * over by the lock. */
	atomic_store_explicit(&W.gq_n, atomic_load_explicit(&W.gq_n, memory_order_relaxed) + 1,
			      memory_order_relaxed);
}

static bool gq_empty_locked(void)
{
	return !W.gq_len && !W.gq_head;
}

static void gq_put_list_locked(struct gofiber *list)
{
	while (list) {
		struct gofiber *n = list->next;

		gq_put_locked(list);
		list = n;
	}
}

static struct gofiber *gq_pop_locked(void)
{
	struct gofiber *f = NULL;

	if (W.gq_len) {
		f = W.gq_ring[W.gq_first];
		W.gq_first = (W.gq_first + 1) & (W.gq_cap - 1);
		W.gq_len--;
	} else if ((f = W.gq_head)) {
		W.gq_head = f->next;
		if (!W.gq_head)
			W.gq_tail = NULL;
	}
	if (f)
		atomic_store_explicit(&W.gq_n,
				      atomic_load_explicit(&W.gq_n, memory_order_relaxed) - 1,
				      memory_order_relaxed);
	return f;
}

/* An idle worker: free the ring if it is empty and large. */
static void gq_trim_locked(void)
{
	if (gq_empty_locked() && W.gq_cap > 1024) {
		free(W.gq_ring);
		W.gq_ring = NULL;
		W.gq_cap = W.gq_first = 0;
	}
}

static bool gq_maybe(void)
{
	/* seq_cst: read in the spinner's re-check (see the top). */
	return atomic_load_explicit(&W.gq_n, memory_order_seq_cst) != 0;
}

/* Go's globrunqget: one fiber to run, and up to half of what is left (at
 * most half a ring) moved into @p's ring, as a batch. */
static struct gofiber *gq_get_locked(struct gofiber__p *p, bool batch)
{
	struct gofiber *f = gq_pop_locked();

	if (!f || !batch)
		return f;
	long n = atomic_load_explicit(&W.gq_n, memory_order_relaxed) / (long)W.nslots + 1;

	if (n > (long)GOFIBER__RUNQ / 2)
		n = GOFIBER__RUNQ / 2;
	for (; n > 0 && !gq_empty_locked(); n--) {
		struct gofiber *g = gq_pop_locked();

		if (!gofiber__runq_put(&p->q, g)) {
			gq_put_locked(g); /* full: stop (order within the batch aside) */
			break;
		}
	}
	return f;
}

static void pidle_put_locked(struct gofiber__p *p)
{
	p->link = W.pidle;
	W.pidle = p;
	/* seq_cst: read by readiers deciding to wake (see the top). */
	atomic_fetch_add_explicit(&W.npidle, 1, memory_order_seq_cst);
}

static struct gofiber__p *pidle_get_locked(void)
{
	struct gofiber__p *p = W.pidle;

	if (p) {
		W.pidle = p->link;
		atomic_fetch_sub_explicit(&W.npidle, 1, memory_order_seq_cst);
	}
	return p;
}

static void midle_remove_locked(struct gofiber__m *m)
{
	for (struct gofiber__m **at = &W.midle; *at; at = &(*at)->link)
		if (*at == m) {
			*at = m->link;
			m->idle = false;
			return;
		}
}

static void *worker_main(void *arg);

/*
 * Go's startm: give slot @p to an idle thread or to a new one, spinning or
 * not.  Under W.life.  An idle thread is taken off W.midle and handed the
 * slot here, and returned in *@wake for the caller to wake_m() after it
 * released W.life (else the woken thread would at once block on W.life).
 * Returns 0 or pthread_create's error (then @p is idle again and the
 * spinning count undone).
 */
static int start_m_locked(struct gofiber__p *p, bool spinning, struct gofiber__m **wake)
{
	struct gofiber__m *m = W.midle;

	if (m) {
		W.midle = m->link;
		m->idle = false;
		m->nextp = p;
		m->nextspin = spinning;
		/* release: pairs with the thread's acquire load of wake (the
		 * hand-over of nextp, and of m->idle == false). */
		atomic_store_explicit(&m->wake, 1, memory_order_release);
		*wake = m;
		return 0;
	}
	m = calloc(1, sizeof *m);
	int err = m ? 0 : EAGAIN;

	if (m) {
		m->nextp = p;
		m->nextspin = spinning;
		atomic_init(&m->wake, 1);
		err = gosvc__start_locked(&svc, worker_main, m);
		if (err)
			free(m);
	}
	if (err) {
		pidle_put_locked(p);
		if (spinning)
			atomic_fetch_sub_explicit(&W.nspinning, 1, memory_order_seq_cst);
		return err;
	}
	W.nm++;
	atomic_fetch_add_explicit(&W.threads_started, 1, memory_order_relaxed);
	return 0;
}

/*
 * The futex wake of a thread that start_m_locked handed a slot, made after
 * W.life is released.  The thread may have seen wake == 1 already (it
 * rechecks after a timeout), run, and be asleep again or even gone: a late
 * FUTEX_WAKE on its word is then a spurious wake-up that its loop absorbs,
 * or a wake on memory that no sleeper uses (harmless, as every futex sleeper
 * of gochan re-checks its word).
 */
static void wake_m(struct gofiber__m *m)
{
	if (m) {
		GOFIBER_TR(GOFIBER_EV_WAKE);
		gowait__futex_wake(&m->wake, 1);
		atomic_fetch_add_explicit(&W.wakes, 1, memory_order_relaxed);
	}
}

/* Go's wakep, under W.life: a spinning thread if a slot is idle and nobody
 * spins.  Returns the thread for wake_m() after the unlock. */
static struct gofiber__m *wakep_locked(void)
{
	uint32_t zero = 0;
	struct gofiber__m *m = NULL;

	/* seq_cst: the Dekker pair with a spinner's decrement and re-check. */
	if (atomic_load_explicit(&W.npidle, memory_order_seq_cst) == 0 ||
	    atomic_load_explicit(&W.nspinning, memory_order_seq_cst) != 0 ||
	    !atomic_compare_exchange_strong_explicit(&W.nspinning, &zero, 1, memory_order_seq_cst,
						     memory_order_relaxed))
		return NULL;
	struct gofiber__p *p = pidle_get_locked();

	if (!p) {
		atomic_fetch_sub_explicit(&W.nspinning, 1, memory_order_seq_cst);
		return NULL;
	}
	(void)start_m_locked(p, true, &m); /* on failure the others run it later */
	return m;
}

/* Go's wakep, taking W.life only when a wake is due; the work was put by a
 * seq_cst RMW just before (the Dekker pair with a spinner's decrement and
 * re-check, see the top), so no fence is needed: as Go's ready(), whose
 * barrier is runqput's CAS of runnext.  A full fence here cost a quarter of
 * examples/fiber_sieve's time on one worker (perf: mfence on every ready). */
static void wakep_after_rmw(void)
{
	if (atomic_load_explicit(&W.npidle, memory_order_seq_cst) == 0 ||
	    atomic_load_explicit(&W.nspinning, memory_order_seq_cst) != 0)
		return;
	lock();
	struct gofiber__m *w = wakep_locked();

	unlock();
	wake_m(w);
}

/* Go's wakep after a put that was not a seq_cst RMW (a release store): the
 * fence stands in for the RMW, the readier's half of the Dekker pair with a
 * spinner's decrement and re-check (see the top). */
static void wakep(void)
{
	atomic_thread_fence(memory_order_seq_cst);
	wakep_after_rmw();
}

/* ---- making fibers runnable ---- */

/* On @m's slot: @f at the tail, half the ring to the global queue if full
 * (Go's runqputslow). */
static void put_local(struct gofiber__p *p, struct gofiber *f)
{
	while (!gofiber__runq_put(&p->q, f)) {
		struct gofiber *half[GOFIBER__RUNQ / 2];
		uint32_t n = gofiber__runq_grab(&p->q, half, false);

		lock();
		for (uint32_t i = 0; i < n; i++)
			gq_put_locked(half[i]);
		unlock();
	}
}

/*
 * Whether a readier on @p, having readied a fiber that parked before (into
 * runnext, perhaps displacing another to the ring), wakes a thread for it
 * (see "Spinning" at the top): always with GOFIBER_WAKE_NEXT or when nobody
 * watches; else only when the ring holds GOFIBER_RING_WAKE fibers or more.
 * A few readied fibers behind an owner that switches are the owner's: no
 * spinner may take them before the grace (steal_due's backlog rule needs
 * more than the owner clears in STEAL_GRACE_NS), and if the owner stops
 * switching the watch takes them.  Waking for any ring made every ready of
 * a chain with several senders (bounded1_mpsc: the producers that the
 * consumer readied while one was still queued) call wakep, and wake the
 * idle worker once per spin budget, which then stole and split the chain.
 * relaxed: nwatch and the ring's length are hints.
 */
#ifndef GOFIBER_RING_WAKE
#define GOFIBER_RING_WAKE 4
#endif
static bool ring_wants_thread(struct gofiber__p *p)
{
	if (GOFIBER_WAKE_NEXT || atomic_load_explicit(&W.nwatch, memory_order_relaxed) == 0)
		return true;
	/* runq_len counts runnext, just filled. */
	return gofiber__runq_len(&p->q) > GOFIBER_RING_WAKE;
}

/* ops->ready and new fibers: see "Where a readied fiber goes" at the top. */
static void ready(void *agent)
{
	struct gofiber *f = agent;
	struct gofiber__m *m = cur_m;

	if (f->bubble) {
		gofiber__bubble_ready(f);
		return;
	}
	if (m && m->p) {
		/* Read before the put: once queued, @f may be stolen and run
		 * (and park, writing f->parker) elsewhere. */
		bool isnew = !f->parker;

		/* A new fiber (never parked): its slot's queue is a fan-out
		 * that thieves take at once (steal_due).  relaxed: a hint;
		 * read first, so that a burst writes the line once. */
		if (isnew && !atomic_load_explicit(&m->p->fresh, memory_order_relaxed))
			atomic_store_explicit(&m->p->fresh, 1, memory_order_relaxed);
		struct gofiber *old = gofiber__runq_put_next(&m->p->q, f);

		GOFIBER_TR(GOFIBER_EV_READY_NEXT);
		if (old) {
			/* Ours again (the exchange): read before the put. */
			bool oldnew = !old->parker;

			GOFIBER_TR(GOFIBER_EV_DISPLACE);
			put_local(m->p, old); /* a release store: fence in wakep */
			if (oldnew || ring_wants_thread(m->p)) {
				GOFIBER_TR(GOFIBER_EV_WAKEP_READY);
				wakep();
			}
		} else if (isnew || ring_wants_thread(m->p)) {
			/* A new fiber, a ring to share, or nobody to watch:
			 * wake (see "Spinning" at the top; else a parked fiber
			 * alone in runnext is ours to run, or the watch's). */
			GOFIBER_TR(GOFIBER_EV_WAKEP_READY);
			wakep_after_rmw(); /* the exchange was seq_cst */
		}
		return;
	}
	GOFIBER_TR(GOFIBER_EV_READY_GLOBAL);
	lock();
	gq_put_locked(f); /* f may run once we unlock: no use of it after */
	struct gofiber__m *w = wakep_locked();

	unlock();
	wake_m(w);
}

/* Due fibers of the deadline heap made runnable (on @p's ring, or the
 * global queue without a slot). */
static void expire(struct gofiber__p *p)
{
	if (gofiber__dl_earliest() == INT64_MAX)
		return;
	int64_t now = chan_now();

	if (gofiber__dl_earliest() > now)
		return;
	struct gofiber *list = gofiber__dl_expire(now);

	if (!list)
		return;
	if (p) {
		while (list) {
			struct gofiber *n = list->next;

			put_local(p, list);
			list = n;
		}
		wakep();
		return;
	}
	lock();
	gq_put_list_locked(list);
	struct gofiber__m *w = wakep_locked();

	unlock();
	wake_m(w);
}

/* ---- the fiber side ---- */

/* errno in and out of the fiber, in calls of their own: see "Migration". */
__attribute__((noinline)) static void save_errno(struct gofiber *f)
{
	f->saved_errno = errno;
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) static void restore_errno(struct gofiber *f)
{
	__asm__ volatile("" ::: "memory");
	errno = f->saved_errno;
}

/* Switch to the scheduler of the thread we run on, with @why; returns when
 * the fiber runs again (perhaps on another thread). */
__attribute__((noinline)) static void to_sched(struct gofiber *f, enum gofiber__why why)
{
	struct gofiber__m *m = cur_m; /* not used after the switch */

	f->why = why;
	save_errno(f);
	if (f->bubble) {
		gofiber__bubble_switch(f);
		restore_errno(f);
		return;
	}
	gofiber__asan_start(why == GOFIBER_EXIT ? NULL : &f->asan_fake, m->stack_lo, m->stack_size);
	gofiber__tsan_switch(m->tsan);
	gofiber__ctx_switch(&f->ctx, &m->sched);
	gofiber__asan_finish(f->asan_fake);
	restore_errno(f);
}

/* One park: 0 completed (futex 1, acquire below), ETIMEDOUT by deadline. */
static int park_once(struct gofiber *f, struct gowait_parker *p, int64_t deadline)
{
	f->parker = p;
	f->deadline = deadline;
	f->timed_out = false;
	to_sched(f, GOFIBER_PARK);
	if (f->timed_out)
		return ETIMEDOUT;
	/* acquire: pairs with the completer's release exchange (gowait__complete);
	 * reads 1 by the invariant at the top. */
	(void)atomic_load_explicit(&p->futex, memory_order_acquire);
	return 0;
}

/* ops->park: gowait__park_wait on a fiber (same results, same protocol). */
static int fiber_park(struct gowait_parker *p, int64_t deadline)
{
	struct gofiber *f = gofiber__cur;

	if (park_once(f, p, deadline) == 0)
		return 0;
	uint32_t expected = GOWAIT_PARK_WAITING;

	/* acq_rel: as wait/park.c's abandon() (pairs with gowait__claim). */
	if (atomic_compare_exchange_strong_explicit(&p->state, &expected, GOWAIT_PARK_ABANDONED,
						    memory_order_acq_rel, memory_order_acquire))
		return ETIMEDOUT;
	/* Claimed just before the deadline: the claimer is completing now.  The
	 * timeout's CAS left the word 0, so this commit is a fresh one. */
	(void)park_once(f, p, GOWAIT_FOREVER);
	return 0;
}

static void *self(void)
{
	return gofiber__cur;
}

/* The bubble of @agent (fiber/bubble.c's hooks), or NULL. */
static struct gowait__bubble *bubble_of(void *agent)
{
	struct gofiber *f = agent;

	return f->bubble ? gofiber__bubble_hooks(f->bubble) : NULL;
}

static const struct gowait_fiber_ops ops = {self, fiber_park, ready, bubble_of};

/* The wait layer's record slot of a fiber (wait/record.h). */
static struct gowait__rec *rec_slot(void *agent)
{
	return &((struct gofiber *)agent)->rec;
}

static void fiber_main(void *arg)
{
	struct gofiber *f = arg;

	gofiber__asan_finish(NULL);
	f->fn(f->arg);
	if (f->group)
		gofiber__group_done(f->group);
	to_sched(f, GOFIBER_EXIT);
	__builtin_unreachable();
}

/* ---- the scheduler side ---- */

static uint32_t rng_next(struct gofiber__m *m)
{
	m->rng ^= m->rng << 13;
	m->rng ^= m->rng >> 7;
	m->rng ^= m->rng << 17;
	return (uint32_t)m->rng;
}

/*
 * Whether a spinner should take @v's fibers now (see STEAL_GRACE_NS at the
 * top): @v's owner is stuck in one fiber, or its ring holds more than the
 * owner gets through in the grace.  Reads @v's ring only when one of the
 * two can hold, so that a thief watching a busy owner costs it a miss on
 * the switch count only.
 */
static bool steal_due(struct gofiber__p *v, int64_t now)
{
	/* relaxed, all: hints (see struct gofiber__p); gofiber__runq_grab
	 * decides what is really there. */
	if (atomic_load_explicit(&v->fresh, memory_order_relaxed))
		return true; /* a fan-out: new fibers are stolen at once, as Go */
	uint32_t tick = atomic_load_explicit(&v->schedtick, memory_order_relaxed);
	int64_t seen_at = atomic_load_explicit(&v->seen_at, memory_order_relaxed);
	int64_t win_at = atomic_load_explicit(&v->win_at, memory_order_relaxed);
	uint32_t win_tick = atomic_load_explicit(&v->win_tick, memory_order_relaxed);

	if (tick != atomic_load_explicit(&v->seen_tick, memory_order_relaxed) || seen_at == 0) {
		atomic_store_explicit(&v->seen_tick, tick, memory_order_relaxed);
		atomic_store_explicit(&v->seen_at, now, memory_order_relaxed);
		seen_at = now;
	}
	if (win_at == 0 || now - win_at >= STEAL_WINDOW_NS) {
		/* A new window; judge by the one that ends here. */
		atomic_store_explicit(&v->win_tick, tick, memory_order_relaxed);
		atomic_store_explicit(&v->win_at, now, memory_order_relaxed);
		if (win_at == 0)
			win_at = now;
	}
	if (now - seen_at >= STEAL_GRACE_NS)
		return true; /* stuck: whatever it holds, runnext included */
	int64_t dt = now - win_at;

	if (dt < STEAL_GRACE_NS / 2)
		return false; /* too short a window to tell a rate */
	/* The backlog the owner clears in the grace at the rate seen:
	 * (switches in the window + 1) * grace / window. */
	uint64_t need = ((uint64_t)(tick - win_tick) + 1) * STEAL_GRACE_NS / (uint64_t)dt;

	if (need >= GOFIBER__RUNQ)
		return false;
	return gofiber__runq_len(&v->q) > need;
}

/*
 * The watch (see the top): whether a slot holds queued fibers, runnext
 * included, while its owner has not switched since a look STEAL_GRACE_NS
 * ago at least (steal_due's "stuck", on the same observations, so a watch
 * and a spinner agree).  The first look at a slot only records its count.
 * relaxed, all: hints, as in steal_due; the steal decides what is there.
 */
static bool stuck_somewhere(int64_t now)
{
	for (uint32_t i = 0; i < W.nslots; i++) {
		struct gofiber__p *v = &W.slots[i];
		uint32_t tick = atomic_load_explicit(&v->schedtick, memory_order_relaxed);

		if (gofiber__runq_empty(&v->q, true))
			continue;
		if (tick != atomic_load_explicit(&v->seen_tick, memory_order_relaxed) ||
		    atomic_load_explicit(&v->seen_at, memory_order_relaxed) == 0) {
			atomic_store_explicit(&v->seen_tick, tick, memory_order_relaxed);
			atomic_store_explicit(&v->seen_at, now, memory_order_relaxed);
			continue;
		}
		if (now - atomic_load_explicit(&v->seen_at, memory_order_relaxed) >= STEAL_GRACE_NS)
			return true;
	}
	return false;
}

/* Whether another slot has new fibers queued (a fan-out: a spinner looks
 * at once, not STEAL_POLL_NS apart). */
static bool fresh_elsewhere(struct gofiber__m *m)
{
	for (uint32_t i = 0; i < W.nslots; i++)
		/* relaxed: a hint (see struct gofiber__p). */
		if (&W.slots[i] != m->p &&
		    atomic_load_explicit(&W.slots[i].fresh, memory_order_relaxed))
			return true;
	return false;
}

/* Go's runqsteal: half of another slot's ring (or its runnext, when the
 * ring is empty) into ours, from a victim that steal_due allows; the last
 * one taken is returned to run. */
static struct gofiber *steal(struct gofiber__m *m, int64_t now)
{
	struct gofiber__p *p = m->p;
	uint32_t n = W.nslots, start = rng_next(m) % n;

	for (uint32_t i = 0; i < n; i++) {
		struct gofiber__p *v = &W.slots[(start + i) % n];
		struct gofiber *got[GOFIBER__RUNQ / 2];
		uint32_t k;

		if (v == p || !steal_due(v, now) || !(k = gofiber__runq_grab(&v->q, got, true)))
			continue;
		atomic_fetch_add_explicit(&W.steals, 1, memory_order_relaxed);
		GOFIBER_TR(GOFIBER_EV_STEAL);
		if (k == 1)
			GOFIBER_TR(GOFIBER_EV_STEAL_ONE);
		for (uint32_t j = 0; j + 1 < k; j++)
			(void)gofiber__runq_put(&p->q, got[j]); /* ours was empty */
		return got[k - 1];
	}
	return NULL;
}

/*
 * The watch's count (W.nwatch, see the top): a thread counts itself from
 * the moment it is bound for the watch (a spinner giving up, before it
 * stops counting as a spinner) until it leaves stop_m, across its sleeps
 * (a gap between two watch periods would let a readier wake it).  relaxed:
 * a hint for ready() (a readier that misses it wakes a thread for
 * nothing); the thread's own flag.
 */
static void watch_begin(struct gofiber__m *m)
{
	if (!m->watching) {
		m->watching = true;
		atomic_fetch_add_explicit(&W.nwatch, 1, memory_order_relaxed);
	}
}

static void watch_end(struct gofiber__m *m)
{
	if (m->watching) {
		m->watching = false;
		atomic_fetch_sub_explicit(&W.nwatch, 1, memory_order_relaxed);
	}
}

/*
 * Whether the global queue or any slot's run queue holds a fiber, and (with
 * @next) any slot's runnext (racy; seq_cst loads: the re-checks of the
 * spinning rule, see the top).  runnext must count where nobody else will
 * look at it: a fiber there belongs to the fiber running on that slot, which
 * may compute for long without blocking, and if no thread came back for it,
 * it would wait that long (tokio #4941's stall; a version that skipped
 * runnext everywhere, before the watch, hung tests/test_fiber_sched.c's
 * stealing test under qemu, where one round of looking outlasts the spin
 * budget).  Where a thread watches (see "Spinning" at the top), a parked
 * fiber readied into runnext is the watch's, as in ready(): see the callers.
 */
static bool work_visible(bool next)
{
	if (gq_maybe())
		return true;
	for (uint32_t i = 0; i < W.nslots; i++)
		if (!gofiber__runq_empty(&W.slots[i].q, next))
			return true;
	return false;
}

/*
 * The giving-up spinner's re-check (find_runnable): the global queue, or a
 * slot with fibers queued that steal_due lets a spinner take now.  seq_cst
 * loads of the queues, as work_visible's.
 */
static bool work_due(int64_t now)
{
	if (gq_maybe())
		return true;
	for (uint32_t i = 0; i < W.nslots; i++) {
		struct gofiber__p *v = &W.slots[i];

		if (!gofiber__runq_empty(&v->q, true) && steal_due(v, now))
			return true;
	}
	return false;
}

/*
 * Go's resetspinning: found work; if we were the last spinner, wake the next
 * one, but (unlike Go) only if more work is visible now.  Work put before
 * our decrement is visible to this check (the Dekker pair, see the top);
 * work put after it finds nspinning 0 and wakes by itself.  Go wakes
 * unconditionally, which on a go + wait from a thread wakes a second thread
 * for nothing on every round.
 */
static void stop_spinning(struct gofiber__m *m)
{
	if (!m->spinning)
		return;
	m->spinning = false;
	/* seq_cst: see the top. */
	if (atomic_fetch_sub_explicit(&W.nspinning, 1, memory_order_seq_cst) == 1 &&
	    /* runnext counts only while nobody watches: as ready()'s rule
	     * (relaxed: the same hint).  A chain of hand-offs keeps its
	     * runnext full: counting it woke a thread at every steal. */
	    work_visible(GOFIBER_WAKE_NEXT ||
			 atomic_load_explicit(&W.nwatch, memory_order_relaxed) == 0)) {
		GOFIBER_TR(GOFIBER_EV_WAKEP_SPIN);
		wakep();
	}
}

/*
 * Go's findrunnable, for a thread holding a slot: the next fiber, or NULL
 * after the thread gave its slot back (m->p NULL).
 */
static struct gofiber *find_runnable(struct gofiber__m *m)
{
	struct gofiber *f;
	bool inherit;

top:;
	struct gofiber__p *p = m->p;

	expire(p);
	/* relaxed: the owner's own count, read by thieves as a hint. */
	uint32_t tick = atomic_load_explicit(&p->schedtick, memory_order_relaxed) + 1;

	atomic_store_explicit(&p->schedtick, tick, memory_order_relaxed);
	if (tick % FAIR_TICKS == 0 && gq_maybe()) {
		lock();
		f = gq_get_locked(p, false);
		unlock();
		if (f)
			return f;
	}
	/* The fresh flag ends with the fan-out: when our queue is empty, or
	 * when we take from it a fiber that has parked before (the fan-out
	 * turned into hand-offs, which stay here).  relaxed: see struct
	 * gofiber__p. */
	f = gofiber__runq_get(&p->q, &inherit);
	if (f)
		GOFIBER_TR(inherit ? GOFIBER_EV_GET_NEXT : GOFIBER_EV_GET_RING);
	if ((!f || f->parker) && atomic_load_explicit(&p->fresh, memory_order_relaxed))
		atomic_store_explicit(&p->fresh, 0, memory_order_relaxed);
	if (f)
		return f;
	if (gq_maybe()) {
		lock();
		f = gq_get_locked(p, true);
		unlock();
		if (f)
			return f;
	}
	/* Spin (steal) if fewer than half the busy slots have a spinner
	 * (Go's limit), or if we were woken spinning. */
	if (!m->spinning) {
		uint32_t busy = W.nslots - atomic_load_explicit(&W.npidle, memory_order_relaxed);

		if (2 * atomic_load_explicit(&W.nspinning, memory_order_relaxed) < busy) {
			m->spinning = true;
			atomic_fetch_add_explicit(&W.nspinning, 1, memory_order_seq_cst);
		}
	}
	if (m->spinning) {
		int64_t start = chan_now(), now = start;

		for (int64_t looked = now;; now = chan_now()) {
			if (now - looked >= STEAL_POLL_NS || now == start || fresh_elsewhere(m)) {
				looked = now;
				if ((f = steal(m, now)))
					return f;
			}
			if (gq_maybe() || gofiber__dl_earliest() <= now) {
				GOFIBER_TR(GOFIBER_EV_SPIN_GQ);
				goto top;
			}
			if (now - start >= GOFIBER_SPIN_NS)
				break;
			if (now - start < GOFIBER_PAUSE_NS) {
				for (int i = 0; i < 64; i++)
					caa_cpu_relax();
			} else if (!gowait__yield(now)) {
				break; /* yields come back late: sleep */
			}
		}
	}
	/* Nothing: give the slot back, unless the global queue has work. */
	lock();
	if ((f = gq_get_locked(p, true))) {
		unlock();
		return f;
	}
	pidle_put_locked(p);
	m->p = NULL;
	unlock();
	GOFIBER_TR(GOFIBER_EV_GIVEUP);
	if (m->spinning) {
		/* The delicate dance (Go's words): drop the spinning count
		 * first, then look again everywhere (see the top). */
		m->spinning = false;
		/* Counted as watching before the spinner is no longer counted:
		 * a readier that sees neither wakes a thread (ready()), and
		 * this thread is on its way to the watch (stop_m) anyway; with
		 * a gap in between, the readiers of a chain on another worker
		 * woke it at nearly every give-up, a FUTEX_WAKE on their
		 * hand-off path each time (bounded1_mpsc: 700-850 wakes in a
		 * run of 60 ms).  If no slot turns out to be held, stop_m
		 * ends the count. */
		if (!GOFIBER_WAKE_NEXT)
			watch_begin(m);
		atomic_fetch_sub_explicit(&W.nspinning, 1, memory_order_seq_cst);
		/* Only work this thread would take now (unless
		 * GOFIBER_WAKE_NEXT): the global queue, or a queue that
		 * steal_due lets a spinner have (new fibers, a backlog, a
		 * stuck owner).  The rest is its owner's, which switches and
		 * gets to it; if it stops switching, this thread finds it
		 * stuck, as the watch it is about to keep (stop_m: a slot is
		 * held, that owner's), which is what ready() relied on when
		 * it woke nobody for a runnext.  A chain of hand-offs on
		 * another worker keeps its runnext, and with several senders
		 * its ring, non-empty almost always: counting any fiber here
		 * took a slot and spun again at nearly every give-up, so one
		 * idle worker spun through the whole chain (bounded1_mpsc:
		 * 2,000-2,800 re-spins of 20 us in a run of 60 ms), each of
		 * its looks a miss on the owner's switch count and queue. */
		if (GOFIBER_WAKE_NEXT ? work_visible(true) : work_due(chan_now())) {
			lock();
			struct gofiber__p *q = pidle_get_locked();

			unlock();
			if (q) {
				GOFIBER_TR(GOFIBER_EV_RESPIN);
				m->p = q;
				m->spinning = true;
				atomic_fetch_add_explicit(&W.nspinning, 1, memory_order_seq_cst);
				watch_end(m);
				goto top;
			}
		}
	}
	return NULL;
}

static void finish(struct gofiber *f)
{
	gofiber__free(f);
	/* release: pairs with the exiting thread's acquire (stop_m). */
	atomic_fetch_sub_explicit(&W.live, 1, memory_order_release);
}

/* Run @f on @m until it parks, yields, requeues or ends. */
static void run(struct gofiber__m *m, struct gofiber *f)
{
	GOFIBER_TR(GOFIBER_EV_RUN);
#ifdef GOFIBER_TRACE
	if (m->p) {
		if (f->trace_slot && f->trace_slot != m->p->id + 1)
			GOFIBER_TR(GOFIBER_EV_MIGRATE);
		f->trace_slot = m->p->id + 1;
	}
#endif
	if (f->deadline >= 0) {
		gofiber__dl_forget(f);
		f->deadline = GOWAIT_FOREVER;
	}
	/* The ring's next fiber is about to run too (after any runnext): start
	 * loading its record while @f runs.  Each record sits at the top of
	 * its own stack, so the first touch is a cache and a TLB miss (the
	 * most sampled instruction of skynet, the load of f->deadline above);
	 * a prefetch is a hint, harmless if a thief takes that fiber. */
	if (m->p) {
		struct gofiber *n = gofiber__runq_peek(&m->p->q);

		if (n) {
			__builtin_prefetch(n, 1, 3);
			__builtin_prefetch((char *)n + 64, 1, 3);
		}
	}
	for (;;) {
		gofiber__cur = f;
		gofiber__asan_start(&m->asan_fake, gofiber__stack_lo(&f->stack),
				    (size_t)((char *)f - gofiber__stack_lo(&f->stack)));
		gofiber__tsan_switch(f->tsan);
		gofiber__ctx_switch(&m->sched, &f->ctx);
		gofiber__asan_finish(m->asan_fake);
		gofiber__cur = NULL;
		switch (f->why) {
		case GOFIBER_EXIT:
			finish(f);
			return;
		case GOFIBER_YIELD:
			if (!gofiber__stack_canary_ok(&f->stack))
				gofiber__overflow_report(f, NULL);
			if (m->p) {
				put_local(m->p, f);
				return;
			}
			/* Yielded inside a system call section: no slot. */
			__attribute__((fallthrough));
		case GOFIBER_REQUEUE:
			/* gofiber_syscall_exit found no free slot: this thread
			 * has none; the fiber goes to the global queue, now that
			 * it is off its stack. */
			lock();
			gq_put_locked(f);
			struct gofiber__m *w = wakep_locked();

			unlock();
			wake_m(w);
			return;
		case GOFIBER_PARK:
			if (!gofiber__stack_canary_ok(&f->stack))
				gofiber__overflow_report(f, NULL);
			/* The commit, now that the fiber is off its stack. */
			if (gofiber__dl_commit(f)) {
				GOFIBER_TR(GOFIBER_EV_COMMIT);
				return;
			}
			GOFIBER_TR(GOFIBER_EV_COMMIT_FAIL);
			break; /* already complete (1): run it again at once */
		}
	}
}

/*
 * A thread without a slot: sleep until handed one (true, m->p set), or
 * decide to exit (false, W.life HELD: the caller leaves the service).
 *
 * Whoever wakes an idle thread first takes it off W.midle under W.life, then
 * stores wake = 1 (release): so a thread that loads 1 (acquire) owns m->nextp
 * (a slot, or NULL: "recheck", from an exiting thread) without W.life.  A
 * thread whose sleep timed out takes W.life and finds itself still on
 * W.midle (it removes itself) or taken off (then wake is 1 already).
 */
static bool stop_m(struct gofiber__m *m)
{
	/* Idle from now, whether or not fibers live: a thread idle for long
	 * when the last fiber ends exits as soon as it rechecks. */
	int64_t idle_since = chan_now();

	lock();
	for (;;) {
		/* Fibers due: this thread expires them into the global queue
		 * and takes a slot for them itself (below), rather than waking
		 * another idle thread (expire(NULL) would).  The heap's lock is
		 * a leaf, never taken under W.life: release it around. */
		if (gofiber__dl_earliest() <= chan_now()) {
			unlock();
			struct gofiber *due = gofiber__dl_expire(chan_now());

			lock();
			gq_put_list_locked(due);
		}
		/* A slot free and work waiting: take it. */
		if (!gq_empty_locked() && W.pidle) {
			m->p = pidle_get_locked();
			watch_end(m);
			unlock();
			return true;
		}
		/* The watch (see the top): a slot stuck with fibers queued,
		 * and a slot free to steal them into. */
		if (!GOFIBER_WAKE_NEXT && W.pidle && stuck_somewhere(chan_now())) {
			m->p = pidle_get_locked();
			m->spinning = true;
			atomic_fetch_add_explicit(&W.nspinning, 1, memory_order_seq_cst);
			watch_end(m); /* after the increment: no gap in between */
			unlock();
			GOFIBER_TR(GOFIBER_EV_WATCH);
			return true;
		}
		int64_t wake = GOWAIT_FOREVER;
		/* acquire: pairs with finish()'s release decrement. */
		bool nofibers = atomic_load_explicit(&W.live, memory_order_acquire) == 0;

		if ((nofibers || W.nm > W.nslots) &&
		    gosvc__idle_expired_locked(&svc, &idle_since, &wake) && gq_empty_locked()) {
			W.nm--;
			watch_end(m);
			/* Let an idle thread recheck: the last fiber's end may
			 * have found it asleep without a linger. */
			struct gofiber__m *o = W.midle;

			if (o) {
				W.midle = o->link;
				o->idle = false;
				o->nextp = NULL;
				/* release: as start_m_locked's. */
				atomic_store_explicit(&o->wake, 1, memory_order_release);
				gowait__futex_wake(&o->wake, 1); /* under W.life: o stays */
			}
			return false;
		}
		int64_t dl = gofiber__dl_earliest();

		if (dl != INT64_MAX && (wake < 0 || dl < wake))
			wake = dl;
		/* A slot held: sleep no longer than the watch period.
		 * relaxed: npidle is written under W.life, which we hold. */
		if (!GOFIBER_WAKE_NEXT &&
		    atomic_load_explicit(&W.npidle, memory_order_relaxed) < W.nslots) {
			int64_t w = chan_now() + GOFIBER_WATCH_NS;

			if (wake < 0 || w < wake)
				wake = w;
			watch_begin(m);
		} else {
			watch_end(m); /* nothing to watch */
		}
		m->link = W.midle;
		W.midle = m;
		m->idle = true;
		m->nextp = NULL;
		/* relaxed: the hand-over is a waker's release store of 1, made
		 * after it took m off W.midle under W.life (after this). */
		atomic_store_explicit(&m->wake, 0, memory_order_relaxed);
		unlock();
		bool woken = false;

		GOFIBER_TR(GOFIBER_EV_SLEEP);
		/* acquire: pairs with the waker's release (see above). */
		while (!(woken = atomic_load_explicit(&m->wake, memory_order_acquire) == 1))
			if (gowait__futex_wait(&m->wake, 0, wake) == ETIMEDOUT)
				break;
		if (!woken) {
			lock();
			if (m->idle) {
				midle_remove_locked(m); /* timed out: look again */
				continue;
			}
			/* Taken off meanwhile: the waker is done (it held
			 * W.life), wake is 1. */
			(void)atomic_load_explicit(&m->wake, memory_order_acquire);
			unlock();
		}
		if (m->nextp) {
			m->p = m->nextp;
			m->spinning = m->nextspin;
			m->nextp = NULL;
			watch_end(m);
			return true;
		}
		lock(); /* asked to recheck */
	}
}

/* The idle slots' own stack caches into the global cache, where the trim
 * that follows sees them: so a slot's cache is bounded while it is held
 * (GOFIBER__STACK_LOCAL) and emptied once it is idle.  Under W.life no
 * thread can take an idle slot (pidle_get_locked), so its cache is ours
 * meanwhile; the cache's lock ranks above W.life.  And the global queue's
 * ring, if empty. */
static void flush_idle_stacks(void)
{
	lock();
	for (struct gofiber__p *p = W.pidle; p; p = p->link)
		gofiber__stack_flush(&p->stacks);
	gq_trim_locked();
	unlock();
}

static void *worker_main(void *arg)
{
	struct gofiber__m *m = arg;

	gosvc__enter(&svc);
	void *alt = gofiber__overflow_thread_init();

	m->tsan = gofiber__tsan_current();
#ifdef GOFIBER_ASAN
	pthread_attr_t a;
	void *lo;

	if (pthread_getattr_np(pthread_self(), &a) == 0) {
		if (pthread_attr_getstack(&a, &lo, &m->stack_size) == 0)
			m->stack_lo = lo;
		pthread_attr_destroy(&a);
	}
#endif
	m->rng = (uint64_t)(uintptr_t)m * 0x9e3779b97f4a7c15ull | 1;
	cur_m = m;
	/* acquire: pairs with start_m_locked's hand-over (atomic_init there,
	 * ordered by pthread_create). */
	(void)atomic_load_explicit(&m->wake, memory_order_acquire);
	m->p = m->nextp;
	m->spinning = m->nextspin;
	m->nextp = NULL;
	for (;;) {
		struct gofiber *f;

		if (!m->p) {
			/* No work: trim the stack cache (fiber/stack.c) before
			 * sleeping.  relaxed: the bound is a hint. */
			flush_idle_stacks();
			gofiber__stack_trim(atomic_load_explicit(&W.live, memory_order_relaxed));
			if (!stop_m(m))
				break;
		}
		while ((f = find_runnable(m))) {
			stop_spinning(m);
			run(m, f);
			if (!m->p)
				break; /* gave its slot away (a system call) */
		}
	}
	/* W.life held (stop_m): done with S before the leave. */
	cur_m = NULL;
	gofiber__overflow_thread_fini(alt);
	free(m);
	gosvc__leave_locked(&svc); /* the last access: return at once */
	return NULL;
}

/* ---- blocking system calls (gochan/fiber.h) ---- */

int gofiber_syscall_enter(void)
{
	struct gofiber__m *m = cur_m;

	if (!gofiber__cur || !m || !m->p) /* !m: a bubble's fiber (no slot to hand off) */
		return 0;
	struct gofiber__p *p = m->p;

	m->p = NULL;
	/* Go's handoffp: the slot goes to another thread if there is work
	 * for it (its ring, the global queue, deadlines to watch); else it
	 * becomes idle, and the next ready() wakes a thread for it. */
	struct gofiber__m *w = NULL;

	lock();
	if (!gofiber__runq_empty(&p->q, true) || !gq_empty_locked() ||
	    gofiber__dl_earliest() != INT64_MAX)
		(void)start_m_locked(p, false, &w);
	else
		pidle_put_locked(p);
	unlock();
	wake_m(w);
	return 0;
}

int gofiber_syscall_exit(void)
{
	struct gofiber__m *m = cur_m;
	struct gofiber *f = gofiber__cur;

	if (!f || !m || m->p)
		return 0;
	lock();
	struct gofiber__p *p = pidle_get_locked();

	unlock();
	if (p) {
		m->p = p; /* continue on this thread */
		return 0;
	}
	/* No free slot: queue the fiber (after the switch, run() above); this
	 * thread becomes a spare and lingers or exits (stop_m). */
	to_sched(f, GOFIBER_REQUEUE);
	return 0;
}

/* ---- starting ---- */

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static uint32_t workers_wanted(void)
{
	const char *e = getenv("GOFIBER_WORKERS");
	long n = e ? strtol(e, NULL, 10) : 0;

	if (n <= 0)
		n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n <= 0)
		n = 1;
	return n > MAX_SLOTS ? MAX_SLOTS : (uint32_t)n;
}

static void runtime_init(void)
{
	uint32_t n = workers_wanted();

	W.slots = aligned_alloc(64, n * sizeof *W.slots);
	if (!W.slots) {
		fputs("gochan: fiber runtime: out of memory for the worker slots\n", stderr);
		abort();
	}
	memset(W.slots, 0, n * sizeof *W.slots);
	W.nslots = n;
	for (uint32_t i = n; i-- > 0;) {
		W.slots[i].id = i;
		pidle_put_locked(&W.slots[i]); /* before any thread: no lock needed */
	}
	gofiber__overflow_install();
	gowait__record_set_fiber_slot(rec_slot);
	gowait__set_fiber_ops(&ops);
}

void gofiber__runtime_init(void)
{
	pthread_once(&init_once, runtime_init);
}

/* The slot held by this thread, if any: its caches serve the fibers
 * started and ended here (read fresh: no switch in between). */
static struct gofiber__p *own_slot(void)
{
	struct gofiber__m *m = cur_m;

	return m ? m->p : NULL;
}

/* A new fiber id: from the slot's batch, else from last_id itself (Go's
 * goidcache).  One RMW on the shared counter per ID_BATCH fibers, instead
 * of one per fiber bouncing its cache line between the workers. */
static uint64_t new_id(struct gofiber__p *p)
{
	if (!p)
		/* relaxed: uniqueness only. */
		return atomic_fetch_add_explicit(&last_id, 1, memory_order_relaxed) + 1;
	if (p->id_next == p->id_end) {
		/* relaxed: as above. */
		p->id_next =
			atomic_fetch_add_explicit(&last_id, ID_BATCH, memory_order_relaxed) + 1;
		p->id_end = p->id_next + ID_BATCH;
	}
	return p->id_next++;
}

struct gofiber *gofiber__new(gofiber_group_t *g, void (*fn)(void *), void *arg)
{
	struct gofiber__stack s;
	struct gofiber__p *p = own_slot();

	if (gofiber__stack_get(p ? &p->stacks : NULL, &s))
		return NULL;

	/* The record at the top of the stack, on its own cache lines. */
	uintptr_t at = ((uintptr_t)gofiber__stack_hi(&s) - sizeof(struct gofiber)) & ~(uintptr_t)63;
	struct gofiber *f = (struct gofiber *)at;
	char *lo = gofiber__stack_lo(&s);

	/* A reused stack carries the redzones of its last fiber's frames. */
	gofiber__asan_unpoison(lo, (size_t)(gofiber__stack_hi(&s) - lo));
	*f = (struct gofiber){
		.fn = fn, .arg = arg, .group = g, .stack = s, .deadline = GOWAIT_FOREVER};
	f->tsan = gofiber__tsan_create();
	f->id = new_id(p);
	gofiber__ctx_make(&f->ctx, lo, (size_t)((char *)f - lo), fiber_main, f);
	return f;
}

void gofiber__free(struct gofiber *f)
{
	struct gofiber__stack s = f->stack; /* f lives on it */

	if (!gofiber__stack_canary_ok(&s))
		gofiber__overflow_report(f, NULL);
	gowait__record_fiber_fini(&f->rec); /* it lives on the stack */
	gofiber__tsan_destroy(f->tsan);
	struct gofiber__p *p = own_slot();

	gofiber__stack_put(p ? &p->stacks : NULL, &s);
}

int gofiber_go(gofiber_group_t *g, void (*fn)(void *), void *arg)
{
	if (!fn)
		return EINVAL;
	pthread_once(&init_once, runtime_init);
	if (gofiber__cur && gofiber__cur->bubble)
		return gofiber__bubble_go(gofiber__cur, g, fn, arg);
	struct gofiber *f = gofiber__new(g, fn, arg);

	if (!f)
		return ENOMEM;

	/* relaxed: the exiting thread reads live under W.life, after which
	 * we take W.life (below, or in ready) and see its decision. */
	atomic_fetch_add_explicit(&W.live, 1, memory_order_relaxed);
	if (g)
		gofiber__group_add(g);
	struct gofiber__m *m = cur_m;

	if (m && m->p) {
		ready(f);
		return 0;
	}
	/* From a thread: the global queue, and a thread for it if none lives
	 * (the one failure we report: nobody would ever run it). */
	struct gofiber__m *w = NULL;

	lock();
	if (W.nm == 0) {
		struct gofiber__p *p = pidle_get_locked();
		uint32_t zero = 0;
		bool spin = atomic_compare_exchange_strong_explicit(
			&W.nspinning, &zero, 1, memory_order_seq_cst, memory_order_relaxed);
		int err = p ? start_m_locked(p, spin, &w) : EAGAIN;

		if (!p && spin)
			atomic_fetch_sub_explicit(&W.nspinning, 1, memory_order_seq_cst);
		if (err) {
			unlock();
			if (g)
				gofiber__group_done(g);
			atomic_fetch_sub_explicit(&W.live, 1, memory_order_relaxed);
			gofiber__free(f);
			return err;
		}
	}
	gq_put_locked(f);
	if (!w)
		w = wakep_locked();
	unlock();
	wake_m(w);
	return 0;
}

int gofiber_yield(void)
{
	struct gofiber *f = gofiber__cur;

	if (f)
		to_sched(f, GOFIBER_YIELD);
	else
		sched_yield();
	return 0;
}

uint64_t gofiber_id(void)
{
	struct gofiber *f = gofiber__cur;

	return f ? f->id : 0;
}

void gofiber__sched_stats(struct gofiber__sched_stats *st)
{
	st->workers = W.nslots;
	st->wakes = atomic_load_explicit(&W.wakes, memory_order_relaxed);
	st->steals = atomic_load_explicit(&W.steals, memory_order_relaxed);
	st->threads_started = atomic_load_explicit(&W.threads_started, memory_order_relaxed);
}
