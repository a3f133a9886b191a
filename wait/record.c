/*
 * wait/record.c - the registry of threads blocked in a gochan operation,
 * and the snapshot a dump is made from.
 *
 * Records.  Each thread that ever parks gets one record (malloc'd on its
 * first park, linked into `registry` under registry_mu, found again through
 * a _Thread_local pointer, unlinked and freed by a pthread key destructor at
 * thread exit).  While the thread is parked the record holds the operation,
 * a pointer to the channel (plain operation) or to the caller's case array
 * (select), the return address of the public entry point, the time it
 * blocked and, in backtrace mode, its stack.
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
#include <gochan/chan.h>
#include <gochan/diag.h>
#include <pthread.h>
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

#include "diag/snapshot.h"

#if defined(__SANITIZE_THREAD__)
#define GODIAG_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define GODIAG_TSAN 1
#endif
#endif

struct gowait__rec {
	struct cds_list_head link; /* in registry, under registry_mu */
	pthread_t self;            /* immutable after registration */
	pid_t tid;
	_Atomic uint32_t blocked; /* 1 while parked (protocol above) */
	_Atomic uint32_t reader;  /* 1 while a dumper may read this record */
	/* Written by the owner with plain stores before blocked = 1. */
	enum gowait__op op;
	uint32_t ncases;
	const void *chan;
	const chan_case_t *cases;
	const void *ra;
	int64_t since;
	int nbt;
	void *bt[GODIAG_BT_MAX];
};

/* Lock rank 50 (wait/lockrank.h): held by dumpers, registration and thread
 * exit; nothing else is taken under it. */
static pthread_mutex_t registry_mu = PTHREAD_MUTEX_INITIALIZER;
static CDS_LIST_HEAD(registry);

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
 * state is unknown; one record per parent thread is the cost.
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
#if !defined(GODIAG_TSAN) && defined(__linux__) && defined(SYS_membarrier)
	long cmds = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0);

	if (cmds > 0 && (cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED) &&
	    syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0) == 0)
		atomic_store_explicit(&use_membarrier, true, memory_order_relaxed);
#endif
}

void godiag_set_backtrace(bool on)
{
	atomic_store_explicit(&bt_mode, on, memory_order_relaxed);
}

/* Thread exit: unlink under registry_mu (so no dumper is looking at it),
 * then free. */
static void rec_destroy(void *p)
{
	struct gowait__rec *r = p;

	pthread_mutex_lock(&registry_mu);
	cds_list_del(&r->link);
	pthread_mutex_unlock(&registry_mu);
	free(r);
	my_rec = NULL;
}

static void key_init(void)
{
	key_ok = pthread_key_create(&rec_key, rec_destroy) == 0;
}

static struct gowait__rec *rec_register(void)
{
	struct gowait__rec *r;

	pthread_once(&key_once, key_init);
	if (!key_ok || !(r = calloc(1, sizeof(*r))))
		return NULL;
	r->self = pthread_self();
	r->tid = (pid_t)syscall(SYS_gettid);
	atomic_init(&r->blocked, 0);
	atomic_init(&r->reader, 0);
	if (pthread_setspecific(rec_key, r)) {
		free(r);
		return NULL;
	}
	pthread_mutex_lock(&registry_mu);
	cds_list_add_tail(&r->link, &registry);
	pthread_mutex_unlock(&registry_mu);
	my_rec = r;
	return r;
}

struct gowait__rec *gowait__block_begin(const struct gowait__site *site, int64_t now)
{
	struct gowait__rec *r = my_rec;
	const struct gowait__sel *sel = site->sel;

	if (caa_unlikely(!r) && !(r = rec_register()))
		return NULL;
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
		r->nbt = backtrace(r->bt, GODIAG_BT_MAX);
	/* release: publishes the fields above to a dumper's acquire load. */
	atomic_store_explicit(&r->blocked, 1, memory_order_release);
	return r;
}

void gowait__block_end(struct gowait__rec *r)
{
	if (!r)
		return;
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

/* ---- the dumper's side --------------------------------------------------- */

struct grow {
	void *p;
	size_t n, cap, size;
};

static void *grow_one(struct grow *g)
{
	if (g->n == g->cap) {
		size_t cap = g->cap ? 2 * g->cap : 16;
		void *p = realloc(g->p, cap * g->size);

		if (!p)
			return NULL;
		g->p = p;
		g->cap = cap;
	}
	return (char *)g->p + g->n++ * g->size;
}

static bool snap_chan(struct grow *chans, const chan_t *c, uint32_t idx, bool send)
{
	struct godiag__snap_chan *sc = grow_one(chans);

	if (!sc)
		return false;
	sc->addr = c;
	sc->case_index = idx;
	sc->send = send;
	/* The channel is alive: its user is inside the call (protocol). */
	sc->elem_size = chan_elem_size(c);
	sc->len = chan_len(c);
	sc->cap = chan_cap(c);
	sc->closed = chan_is_closed(c);
	return true;
}

/* Copy one record whose owner is parked (reader = 1 and blocked = 1 seen).
 * @deref: the handshake holds, so the channels and cases may be read. */
static bool snap_rec(const struct gowait__rec *r, struct grow *threads, struct grow *chans,
		     bool deref)
{
	struct godiag__snap_thread *t = grow_one(threads);

	if (!t)
		return false;
	t->tid = r->tid;
	t->name[0] = '\0';
	t->op = r->op;
	t->ncases = r->ncases;
	t->since = r->since;
	t->ra = r->ra;
	t->nbt = r->nbt;
	memcpy(t->bt, r->bt, sizeof(void *) * (size_t)r->nbt);
	t->first_chan = chans->n;
	t->nchans = 0;
	if (!deref)
		return true; /* listed without its channels (barrier_all) */
	if (r->op == GOWAIT_OP_SEND || r->op == GOWAIT_OP_RECV) {
		if (!snap_chan(chans, r->chan, 0, r->op == GOWAIT_OP_SEND))
			return false;
	} else if (r->op == GOWAIT_OP_SELECT) {
		for (uint32_t i = 0; i < r->ncases; i++)
			if (r->cases[i].chan &&
			    !snap_chan(chans, r->cases[i].chan, i, chan__case_sends(&r->cases[i])))
				return false;
	}
	t->nchans = chans->n - t->first_chan;
	return true;
}

/*
 * The dumper's StoreLoad barrier of the protocol, between setting reader on
 * every record and loading their blocked words.  In the membarrier mode:
 * membarrier(PRIVATE_EXPEDITED); should it fail (it does not on any kernel
 * that answered the constructor's query, and its registration survives
 * fork), register again and retry, then try MEMBARRIER_CMD_GLOBAL.  If all
 * fail, parked threads may be on the barrier-free path with nothing to
 * order it: switch them to the seq_cst path for good, and return false so
 * that this snapshot lists the threads without dereferencing their channels
 * or cases.  (A thread that read the flag before the switch is still on the
 * old path, which is why this dump cannot trust the handshake.)
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

int godiag__snapshot(struct godiag__snap *s)
{
	struct grow threads = {.size = sizeof(struct godiag__snap_thread)};
	struct grow chans = {.size = sizeof(struct godiag__snap_chan)};
	struct gowait__rec *r;
	bool ok = true;

	memset(s, 0, sizeof(*s));
	pthread_mutex_lock(&registry_mu);
	cds_list_for_each_entry(r, &registry, link)
		atomic_store_explicit(&r->reader, 1, memory_order_seq_cst);
	bool deref = barrier_all();
	cds_list_for_each_entry(r, &registry, link) {
		/* acquire (seq_cst in the fence mode): pairs with the owner's
		 * release of blocked = 1, so its fields are complete. */
		if (ok && atomic_load_explicit(&r->blocked, memory_order_seq_cst)) {
			size_t nt = threads.n, nc = chans.n;

			if (!snap_rec(r, &threads, &chans, deref)) {
				ok = false;
				threads.n = nt;
				chans.n = nc;
			}
		}
		/* release: our reads of the record, channels and cases happen
		 * before the owner's acquire that sees 0 (it may then return). */
		atomic_store_explicit(&r->reader, 0, memory_order_release);
	}
	/* Names outside the handshake (reading them does I/O); the threads
	 * cannot finish exiting while we hold registry_mu. */
	if (ok) {
		size_t k = 0;

		cds_list_for_each_entry(r, &registry, link) {
			struct godiag__snap_thread *t = threads.p;

			for (k = 0; k < threads.n; k++)
				if (t[k].tid == r->tid && !t[k].name[0] &&
				    pthread_getname_np(r->self, t[k].name, sizeof(t[k].name)) != 0)
					t[k].name[0] = '\0';
		}
	}
	pthread_mutex_unlock(&registry_mu);
	s->now = chan_now();
	s->threads = threads.p;
	s->nthreads = threads.n;
	s->chans = chans.p;
	s->nchans = chans.n;
	if (!ok) {
		godiag__snap_free(s);
		return ENOMEM;
	}
	return 0;
}

void godiag__snap_free(struct godiag__snap *s)
{
	free(s->threads);
	free(s->chans);
	memset(s, 0, sizeof(*s));
}

size_t godiag_blocked(void)
{
	struct gowait__rec *r;
	size_t n = 0;

	pthread_mutex_lock(&registry_mu);
	cds_list_for_each_entry(r, &registry, link)
		n += atomic_load_explicit(&r->blocked, memory_order_acquire);
	pthread_mutex_unlock(&registry_mu);
	return n;
}
