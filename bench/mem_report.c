/*
 * bench/mem_report.c - memory per channel and per blocked waiter, measured.
 * Twins: bench/go/mem_report.go, bench/rust/src/bin/mem_report.rs; bench/run.sh
 * prints the three side by side under the timing table.
 *
 *   mem_report --list     nothing (no timed cases: run.sh's protocol)
 *   mem_report --report   lines "mem impl=gochan item=<item> bytes=<b> allocs=<a>"
 *
 * Items (8-byte elements):
 *   chan_cap0, chan_cap1, chan_cap64   heap bytes and allocations per
 *       chan_new(8, cap): the bytes actually reserved (malloc_usable_size, so
 *       malloc's rounding is included; its 8-byte chunk header is not),
 *       averaged over K channels kept alive together;
 *   op_heap                             heap allocations per blocking
 *       send/receive pair (K unbuffered round trips through a second thread,
 *       after a warm-up): must be 0;
 *   waiter_plain                        bytes a thread blocked in a plain
 *       send/receive adds, all on its own stack (parker + waiter); heap 0;
 *   waiter_select_case                  bytes per case of a blocked select
 *       (a waiter, a poll-order and a lock-order slot), on the stack up to
 *       CHAN_SELECT_STACK_CASES cases, plus one parker per select.
 *
 * Counting: this program defines malloc/calloc/realloc/free, forwarding to
 * glibc's __libc_* entry points, so every allocation the (statically linked)
 * library makes is seen.  Counters are relaxed atomics: only their totals
 * between two points of the main thread matter, and the joins order the other
 * thread's increments before the reads.
 */
#include "bench.h"

#include <gochan/chan.h>
#include <gochan/select.h>
#include <malloc.h>
#include <stdatomic.h>

#include "chan/chan_impl.h"

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

static atomic_long n_allocs;
static atomic_long n_bytes;

static void counted(void *p)
{
	if (p) {
		atomic_fetch_add_explicit(&n_allocs, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&n_bytes, (long)malloc_usable_size(p),
					  memory_order_relaxed);
	}
}

void *malloc(size_t n)
{
	void *p = __libc_malloc(n);
	counted(p);
	return p;
}

void *calloc(size_t k, size_t n)
{
	void *p = __libc_calloc(k, n);
	counted(p);
	return p;
}

void *realloc(void *old, size_t n)
{
	void *p = __libc_realloc(old, n);
	counted(p);
	return p;
}

void free(void *p)
{
	__libc_free(p);
}

#define K 1000

static void report(const char *item, double bytes, double allocs)
{
	printf("mem impl=gochan item=%s bytes=%.0f allocs=%.2f\n", item, bytes, allocs);
}

static void chan_size(size_t cap)
{
	static chan_t *keep[K];
	long a0 = atomic_load(&n_allocs), b0 = atomic_load(&n_bytes);
	for (int i = 0; i < K; i++)
		BENCH_CHECK((keep[i] = chan_new(8, cap)));
	long a1 = atomic_load(&n_allocs), b1 = atomic_load(&n_bytes);
	for (int i = 0; i < K; i++)
		BENCH_OK(chan_unref(keep[i]));
	char item[32];
	snprintf(item, sizeof item, "chan_cap%zu", cap);
	report(item, (double)(b1 - b0) / K, (double)(a1 - a0) / K);
}

static void *echo(void *arg)
{
	chan_t **ch = arg;
	int64_t v;
	bool ok;
	while (chan_recv(ch[0], &v, &ok) == 0 && ok)
		BENCH_OK(chan_send(ch[1], &v));
	return NULL;
}

static void op_heap(void)
{
	chan_t *ch[2] = {chan_new(8, 0), chan_new(8, 0)};
	BENCH_CHECK(ch[0] && ch[1]);
	pthread_t th;
	bench_spawn(&th, echo, ch);
	int64_t v = 0, back;
	for (int i = 0; i < 100; i++) { /* warm-up: the echo thread's first touches */
		BENCH_OK(chan_send(ch[0], &v));
		BENCH_OK(chan_recv(ch[1], &back, NULL));
	}
	long a0 = atomic_load(&n_allocs);
	for (int i = 0; i < 100 * K; i++) {
		BENCH_OK(chan_send(ch[0], &v));
		BENCH_OK(chan_recv(ch[1], &back, NULL));
	}
	long a1 = atomic_load(&n_allocs);
	BENCH_OK(chan_close(ch[0]));
	bench_join(th);
	BENCH_OK(chan_unref(ch[0]));
	BENCH_OK(chan_unref(ch[1]));
	report("op_heap", 0, (double)(a1 - a0) / (100.0 * K));
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--list") == 0)
		return 0;
	if (argc != 2 || strcmp(argv[1], "--report") != 0) {
		fprintf(stderr, "usage: %s --list | --report\n", argv[0]);
		return 2;
	}
	chan_size(0);
	chan_size(1);
	chan_size(64);
	op_heap();
	report("waiter_plain", (double)sizeof(struct chan_block_line), 0);
	report("waiter_select_case",
	       (double)(sizeof(struct chan_waiter) + sizeof(uint32_t) + sizeof(struct chan *)), 0);
	printf("mem impl=gochan item=sizeof_chan bytes=%zu allocs=0\n", sizeof(struct chan));
	return 0;
}
