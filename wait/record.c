/*
 * wait/record.c - the record of operations blocked in a gochan wait, and
 * the dumper's walk over it (diag/snapshot.c makes the dump's snapshot
 * from that walk; this file reads no channel itself).
 *
 * Records.  Each thread that ever parks gets one record (malloc'd on its
 * first park, linked into `registry` under registry_mu, found again through
 * a _Thread_local pointer, unlinked and freed by a pthread key destructor at
 * thread exit).  While the thread is parked the record holds the operation,
 * a pointer to the channel (plain operation) or to the caller's case array
 * (select), the return address of the public entry point, the time it
 * blocked and, in backtrace mode, its stack.
 *
 * Fibers (wait/park.h, the agent interface).  A fiber parks on a worker
 * thread that goes on to run other fibers, which may park too, and it may
 * resume on another worker: the thread's record cannot be the fiber's.  A
 * parked fiber has a record of its own, listed by its fiber id.  With the
 * fiber runtime's slots (gowait__record_set_fiber_slot; fiber/sched.c sets
 * it) that record is embedded in the fiber: linked on the fiber's first
 * park, kept linked (blocked 0 between parks) until the fiber ends
 * (gowait__record_fiber_fini), so a park allocates nothing and takes the
 * registry mutex only the first time.  Without slots, a record is
 * allocated and linked at each begin, unlinked and freed at its end (after
 * the same hand-shake).
 *
 * Why the dumper needs more than a seqlock.  The dump prints len/cap/closed
 * of each channel, read at dump time, and reads the caller's case array.
 * Those are alive exactly while the thread is inside its gochan call (the
 * caller holds a reference to every channel it blocks on, and its array,
 * until the call returns; chan_unref refuses to free a channel with queued
 * waiters).  A seqlock recheck would detect afterwards that the thread had
 * left, but the read itself could already have touched freed memory.  So the
 * dumper must keep the thread from leaving while it reads: a two-word
 * handshake (Dekker's), made cheap for the blocked side.
 *
 * The protocol (per record r):
 *   blocked thread, begin:  plain stores of the fields;
 *                           store(r->blocked, 1, RELEASE)  [publishes them]
 *   blocked thread, end:    store(r->blocked, 0)  ---- StoreLoad ----
 *                           while (load(r->reader, ACQUIRE)) yield;
 *   dumper (registry_mu held, so no record is freed meanwhile):
 *                           store(r->reader, 1)   ---- StoreLoad ----
 *                           if (load(r->blocked, ACQUIRE)) copy the fields,
 *                               read the channels and the case array;
 *                           store(r->reader, 0, RELEASE)
 * Both sides need StoreLoad order between their store and their load: then
 * either the thread sees reader == 1 and waits for the copy to finish, or
 * the dumper sees blocked == 0 and reads nothing.  The dumper only reads
 * after seeing blocked == 1, whose release/acquire pair makes the fields
 * complete; the thread cannot start its next park (and rewrite the fields)
 * before its end has seen reader == 0, and that acquire pairs with the
 * dumper's release after its last read.  No read-modify-write on either
 * side.
 *
 * The StoreLoad order.  The blocked side is the hot one (a park costs a few
 * hundred ns; a full fence would cost a few percent), the dumper the rare
 * one.  So, where the kernel has it, the dumper issues
 * membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) between its store and its
 * load, which executes a full barrier on every running thread of the
 * process; the blocked side then needs only a compiler barrier (the
 * asymmetric-fence pattern of liburcu's urcu-memb and the kernel's
 * membarrier(2) page).  Without membarrier (old kernel, seccomp) and under
 * ThreadSanitizer (which cannot model membarrier), both sides use seq_cst
 * accesses instead.  The mode is chosen once, in a constructor, before any
 * thread can park.
 *
 * The dumper sets reader on every record, issues one membarrier, then
 * copies record after record, clearing each reader as soon as its record is
 * copied: a thread that wakes during a dump waits at most for the copying
 * of its own record (a few hundred ns per channel), never for the
 * formatting or the output.
 */
#include "wait/record.h"

#include <errno.h>
#include <execinfo.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <urcu/compiler.h>
#include <urcu/list.h>
#if defined(__linux__)
#include <linux/membarrier.h>
#endif

#include "wait/debug.h"

#if defined(__SANITIZE_THREAD__)
#define GOWAIT_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define GOWAIT_TSAN 1
#endif
#endif

/* Lock rank 50 (wait/lockrank.h): held by dumpers, registration and thread
 * exit; nothing else is taken under it. */
static pthread_mutex_t registry_mu = PTHREAD_MUTEX_INITIALIZER;
static CDS_LIST_HEAD(registry);

static void registry_lock(void)
{
	gowait__mutex_lock(&registry_mu, GOWAIT_LOCKRANK_DIAG_REGISTRY);
}

static void registry_unlock(void)
{
	gowait__mutex_unlock(&registry_mu, GOWAIT_LOCKRANK_DIAG_REGISTRY);
}

static pthread_key_t rec_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static bool key_ok;

/* initial-exec: one %fs-relative load on the park path instead of a
 * __tls_get_addr call in position-independent code (8 bytes of static TLS,
 * which glibc reserves even for a dlopen'ed libgochan.so). */
static _Thread_local struct gowait__rec *my_rec __attribute__((tls_model("initial-exec")));

/* Set by the constructor (before any thread parks); cleared for good if a
 * membarrier ever fails (see barrier_all).  Relaxed: see barrier_all. */
static atomic_bool use_membarrier;
/* Backtrace mode; relaxed (a racing park may use either setting). */
static atomic_bool bt_mode;

/*
 * fork(): the child has only the forking thread, but inherits every record.
 * Taking registry_mu across the fork keeps the list consistent (and the
 * mutex free in the child); the child then keeps only its own record, so a
 * thread that was parked in the parent is not listed (nor waited for by
 * godiag_verify_none) in the child.  The dropped records are not freed: a
 * dumper of the parent may have been reading them at the fork, so their
 * state is unknown; one record per parent thread is the cost.  (Not through
 * registry_lock: the child has no matching release of the rank.)
 */
static void fork_prepare(void)
{
	pthread_mutex_lock(&registry_mu);
}

static void fork_parent(void)
{
	pthread_mutex_unlock(&registry_mu);
}

static void fork_child(void)
{
	CDS_INIT_LIST_HEAD(&registry);
	if (my_rec) {
		my_rec->tid = (pid_t)syscall(SYS_gettid); /* a new thread id */
		my_rec->self = pthread_self();
		cds_list_add_tail(&my_rec->link, &registry);
	}
	pthread_mutex_unlock(&registry_mu);
}

__attribute__((constructor)) static void registry_init(void)
{
	const char *e = getenv("GOCHAN_DIAG_BACKTRACE");

	(void)pthread_atfork(fork_prepare, fork_parent, fork_child);

	if (e && strcmp(e, "1") == 0)
		atomic_store_explicit(&bt_mode, true, memory_order_relaxed);
#if !defined(GOWAIT_TSAN) && defined(__linux__) && defined(SYS_membarrier)
	long cmds = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0);

	if (cmds > 0 && (cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED) &&
	    syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0) == 0)
		atomic_store_explicit(&use_membarrier, true, memory_order_relaxed);
#endif
}

void gowait__record_set_backtrace(bool on)
{
	atomic_store_explicit(&bt_mode, on, memory_order_relaxed);
}

/* Thread exit: unlink under registry_mu (so no dumper is looking at it),
 * then free. */
static void rec_destroy(void *p)
{
	struct gowait__rec *r = p;

	registry_lock();
	cds_list_del(&r->link);
	registry_unlock();
	free(r);
	my_rec = NULL;
}

static void key_init(void)
{
	key_ok = pthread_key_create(&rec_key, rec_destroy) == 0;
}

static struct gowait__rec *rec_new(const void *fiber)
{
	struct gowait__rec *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->self = pthread_self();
	r->tid = fiber ? 0 : (pid_t)syscall(SYS_gettid);
	r->fiber = fiber;
	atomic_init(&r->blocked, 0);
	atomic_init(&r->reader, 0);
	return r;
}

static struct gowait__rec *rec_register(void)
{
	struct gowait__rec *r;

	pthread_once(&key_once, key_init);
	if (!key_ok || !(r = rec_new(NULL)))
		return NULL;
	if (pthread_setspecific(rec_key, r)) {
		free(r);
		return NULL;
	}
	registry_lock();
	cds_list_add_tail(&r->link, &registry);
	registry_unlock();
	my_rec = r;
	return r;
}

/* A parked fiber's own record (see "Fibers" above), linked until its end. */
static struct gowait__rec *rec_fiber(const void *fiber)
{
	struct gowait__rec *r = rec_new(fiber);

	if (!r)
		return NULL;
	registry_lock();
	cds_list_add_tail(&r->link, &registry);
	registry_unlock();
	return r;
}

/* The fiber runtime's record slots (wait/record.h); NULL: none. */
static struct gowait__rec *(*_Atomic fiber_slot)(void *agent);

void gowait__record_set_fiber_slot(struct gowait__rec *(*slot)(void *agent))
{
	/* release: pairs with the acquire in gowait__block_begin. */
	atomic_store_explicit(&fiber_slot, slot, memory_order_release);
}

/* A fiber's embedded record, linked on its first park. */
static struct gowait__rec *rec_slot(struct gowait__rec *(*slot)(void *), void *agent)
{
	struct gowait__rec *r = slot(agent);

	if (caa_unlikely(r->fiber == NULL)) {
		/* First park of this fiber: the slot is zeroed (blocked and
		 * reader 0); the fiber's own, so plain stores before the link. */
		r->self = pthread_self();
		r->tid = 0;
		r->fiber = agent;
		r->embedded = true;
		registry_lock();
		cds_list_add_tail(&r->link, &registry);
		registry_unlock();
	}
	return r;
}

void gowait__record_fiber_fini(struct gowait__rec *r)
{
	if (!r->fiber)
		return; /* never parked: never linked */
	/* registry_mu orders the unlink after any dumper's walk over it. */
	registry_lock();
	cds_list_del(&r->link);
	registry_unlock();
	r->fiber = NULL;
}

struct gowait__rec *gowait__block_begin(const struct gowait__site *site, int64_t now, void *agent)
{
	struct gowait__rec *r = my_rec;
	const struct gowait__sel *sel = site->sel;

	if (caa_unlikely(agent != NULL)) {
		/* acquire: pairs with gowait__record_set_fiber_slot. */
		struct gowait__rec *(*slot)(void *) =
			atomic_load_explicit(&fiber_slot, memory_order_acquire);

		if (slot)
			r = rec_slot(slot, agent);
		else if (!(r = rec_fiber(agent)))
			return NULL;
	} else if (caa_unlikely(!r) && !(r = rec_register())) {
		return NULL;
	}
	GOWAIT_ASSERT(atomic_load_explicit(&r->blocked, memory_order_relaxed) == 0);
	if (sel) {
		r->op = site->op == GOWAIT_OP_SELECT_NONE ? site->op : GOWAIT_OP_SELECT;
		r->cases = sel->cases;
		r->ncases = sel->ncases;
	} else {
		r->op = site->op;
		r->cases = NULL;
		r->ncases = 1;
	}
	r->chan = site->chan;
	r->ra = site->ra;
	r->since = now;
	r->nbt = 0;
	if (caa_unlikely(atomic_load_explicit(&bt_mode, memory_order_relaxed)))
		r->nbt = backtrace(r->bt, GOWAIT_BT_MAX);
	/* release: publishes the fields above to a dumper's acquire load. */
	atomic_store_explicit(&r->blocked, 1, memory_order_release);
	return r;
}

/* The end of the hand-shake (protocol above): after it no dumper reads the
 * operation's channels or cases. */
static void rec_leave(struct gowait__rec *r)
{
	GOWAIT_ASSERT(atomic_load_explicit(&r->blocked, memory_order_relaxed) == 1);
	if (caa_likely(atomic_load_explicit(&use_membarrier, memory_order_relaxed))) {
		/* The dumper's membarrier supplies the StoreLoad barrier; we
		 * only keep the compiler from reordering the two accesses. */
		atomic_store_explicit(&r->blocked, 0, memory_order_relaxed);
		atomic_signal_fence(memory_order_seq_cst);
		/* acquire: pairs with the dumper's release of reader = 0, after
		 * its last read of our fields, channels and cases. */
		while (caa_unlikely(atomic_load_explicit(&r->reader, memory_order_acquire)))
			sched_yield();
		return;
	}
	/* seq_cst store and load: the StoreLoad order of the protocol, paired
	 * with the dumper's seq_cst store of reader and load of blocked. */
	atomic_store_explicit(&r->blocked, 0, memory_order_seq_cst);
	while (caa_unlikely(atomic_load_explicit(&r->reader, memory_order_seq_cst)))
		sched_yield();
}

void gowait__block_end(struct gowait__rec *r)
{
	if (!r)
		return;
	rec_leave(r);
	if (caa_unlikely(r->fiber != NULL && !r->embedded)) {
		/* A fiber's record: gone with its park.  registry_mu orders the
		 * unlink after any dumper's walk over it. */
		registry_lock();
		cds_list_del(&r->link);
		registry_unlock();
		free(r);
	}
}

/* ---- the dumper's side --------------------------------------------------- */

/*
 * The dumper's StoreLoad barrier of the protocol, between setting reader on
 * every record and loading their blocked words.  In the membarrier mode:
 * membarrier(PRIVATE_EXPEDITED); should it fail (it does not on any kernel
 * that answered the constructor's query, and its registration survives
 * fork), register again and retry, then try MEMBARRIER_CMD_GLOBAL.  If all
 * fail, parked threads may be on the barrier-free path with nothing to
 * order it: switch them to the seq_cst path for good, and return false so
 * that this walk lists the threads without dereferencing their channels
 * or cases.  (A thread that read the flag before the switch is still on the
 * old path, which is why this walk cannot trust the handshake.)
 */
static bool barrier_all(void)
{
	if (!atomic_load_explicit(&use_membarrier, memory_order_relaxed))
		return true; /* the seq_cst accesses are the barrier */
#if defined(__linux__) && defined(SYS_membarrier)
	if (syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0) == 0)
		return true;
	if (syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0) == 0 &&
	    syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0) == 0)
		return true;
	if (syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0) == 0)
		return true;
#endif
	atomic_store_explicit(&use_membarrier, false, memory_order_relaxed);
	return false;
}

int gowait__record_walk(const struct gowait__walk *w)
{
	struct gowait__rec *r;
	bool ok = true;

	registry_lock();
	cds_list_for_each_entry(r, &registry, link)
		atomic_store_explicit(&r->reader, 1, memory_order_seq_cst);
	bool deref = barrier_all();
	cds_list_for_each_entry(r, &registry, link) {
		/* acquire (seq_cst in the fence mode): pairs with the owner's
		 * release of blocked = 1, so its fields are complete. */
		if (ok && atomic_load_explicit(&r->blocked, memory_order_seq_cst)) {
			struct gowait__rec_view v = {
				.tid = r->tid,
				.fiber = r->fiber,
				.op = r->op,
				.ncases = r->ncases,
				.chan = r->chan,
				.cases = r->cases,
				.ra = r->ra,
				.since = r->since,
				.nbt = r->nbt,
				.bt = r->bt,
			};

			ok = w->blocked(&v, deref, w->arg);
		}
		/* release: our reads of the record, channels and cases happen
		 * before the owner's acquire that sees 0 (it may then return). */
		atomic_store_explicit(&r->reader, 0, memory_order_release);
	}
	/* Names outside the handshake (reading them does I/O); the threads
	 * cannot finish exiting while we hold registry_mu. */
	if (ok && w->thread)
		cds_list_for_each_entry(r, &registry, link)
			if (!r->fiber)
				w->thread(r->tid, r->self, w->arg);
	registry_unlock();
	return ok ? 0 : ENOMEM;
}

size_t gowait__record_blocked(void)
{
	struct gowait__rec *r;
	size_t n = 0;

	registry_lock();
	cds_list_for_each_entry(r, &registry, link)
		n += atomic_load_explicit(&r->blocked, memory_order_acquire);
	registry_unlock();
	return n;
}
