/*
 * tests/bugs/wg_add_after_wait.c - a WaitGroup Add that can come after the
 * Wait.
 *
 *   var wg sync.WaitGroup
 *   results := make(chan int, 1)
 *   go func() {
 *       wg.Add(1)                // BUG: Add inside the goroutine
 *       defer wg.Done()
 *       results <- compute()
 *   }()
 *   wg.Wait()                    // may see 0 and return at once
 *   r := <-results (non-blocking: "the work is done")
 *
 * If Wait runs before the goroutine's Add, it returns while the work has not
 * started, and the caller reads no result.  Fix: wg.Add(1) before `go`.
 *
 * Oracle: after Wait returned, the result is not there.  Forced: the
 * goroutine starts its work once Wait returned (fixed: once Wait is about to
 * be called, since the fixed Wait cannot return before the work).
 */
#include "bugs.h"

struct wg_run {
	struct bug_env *env;
	gowg_t *wg;
	chan_t *results;
	chan_t *go_on; /* gate: the goroutine may start */
};

static void wg_worker(void *p)
{
	struct wg_run *r = p;
	if (bug_forced(r->env))
		bug_gate_wait(r->go_on);
	if (!bug_fixed(r->env))
		gowg_add(r->wg, 1);
	int v = 42;
	chan_send(r->results, &v);
	gowg_done(r->wg);
}

int bug_wg_add_after_wait(struct bug_env *e)
{
	struct wg_run r = {.env = e};
	int result = BUG_ERROR;
	r.wg = gowg_new();
	r.results = chan_new(sizeof(int), 1);
	r.go_on = bug_gate_new();
	if (!r.wg || !r.results || !r.go_on)
		goto out;
	if (bug_fixed(e))
		gowg_add(r.wg, 1);
	if (bug_go(e, wg_worker, &r)) {
		goto out;
	}
	if (bug_fixed(e))
		bug_gate_open(r.go_on);
	gowg_wait(r.wg);
	int v;
	result = chan_try_recv(r.results, &v, NULL) == 0 ? BUG_CLEAN : BUG_MANIFESTED;
	bug_gate_open(r.go_on);
	bug_join(e);
out:
	if (r.go_on)
		chan_unref(r.go_on);
	if (r.results)
		chan_unref(r.results);
	if (r.wg)
		gowg_free(r.wg);
	return result;
}
