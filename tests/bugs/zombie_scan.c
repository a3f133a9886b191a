/*
 * tests/bugs/zombie_scan.c - the seed's zombie scan: a search handler whose
 * scan workers outlive the request when the client hangs up.
 *
 *   func handler(ctx context.Context, files []string) {
 *       paths, hits := make(chan string, len(files)), make(chan string)
 *       for _, f := range files { paths <- f }; close(paths)
 *       for i := 0; i < 2; i++ {
 *           go func() {
 *               for p := range paths {
 *                   hits <- p            // BUG: ignores ctx
 *               }
 *           }()
 *       }
 *       for n := 0; n < len(files); n++ {
 *           select {
 *           case h := <-hits: stream(h)
 *           case <-ctx.Done(): return      // the client hung up
 *           }
 *       }
 *   }
 *
 * When the hang-up comes before the last hit is streamed, the workers stay
 * blocked sending hits nobody reads: the zombie scan gochan-search exists to
 * prevent.  Fix: every worker send is `select { case hits <- p: case
 * <-ctx.Done(): return }` (ctx_send).
 *
 * Oracle: after the handler returned, bug_settle: a worker parked for good.
 * Forced: the workers start scanning only after the handler returned (the
 * hang-up came first).
 */
#include "bugs.h"

#define ZS_FILES 8
#define ZS_WORKERS 2

struct zs_run {
	struct bug_env *env;
	ctx_t *ctx;
	chan_t *paths, *hits;
	chan_t *returned; /* gate: the handler has returned */
};

static void zs_worker(void *p)
{
	struct zs_run *r = p;
	int path;
	bool ok;
	if (bug_forced(r->env))
		bug_gate_wait(r->returned);
	while (chan_recv(r->paths, &path, &ok) == 0 && ok) {
		int err = bug_fixed(r->env) ? ctx_send(r->ctx, r->hits, &path)
					    : chan_send(r->hits, &path);
		if (err)
			return; /* cancelled (fixed), or the rescue's close */
	}
}

static void zs_hangup(void *p)
{
	struct zs_run *r = p;
	ctx_cancel(r->ctx);
}

int bug_zombie_scan(struct bug_env *e)
{
	struct zs_run r = {.env = e};
	int result = BUG_ERROR;
	r.ctx = ctx_with_cancel(ctx_background());
	r.paths = chan_new(sizeof(int), ZS_FILES);
	r.hits = chan_new(sizeof(int), 0);
	r.returned = bug_gate_new();
	if (!r.ctx || !r.paths || !r.hits || !r.returned)
		goto out;
	for (int f = 0; f < ZS_FILES; f++)
		chan_send(r.paths, &f);
	chan_close(r.paths);
	int started = 0;
	for (int i = 0; i < ZS_WORKERS; i++)
		started += bug_go(e, zs_worker, &r) == 0;
	started += bug_go(e, zs_hangup, &r) == 0;
	if (started < ZS_WORKERS + 1) {
		ctx_cancel(r.ctx);
		bug_gate_open(r.returned);
		chan_close(r.hits);
		bug_join(e);
		goto out;
	}
	/* The handler: stream hits until done or hung up. */
	for (int n = 0; n < ZS_FILES; n++) {
		int hit;
		if (CHAN_SELECT(CHAN_FOREVER, CHAN_RECV(r.hits, &hit, NULL),
				CHAN_RECV(ctx_done(r.ctx), NULL, NULL)) == 1)
			break;
	}
	bug_gate_open(r.returned);

	int stuck = bug_settle(e);
	if (stuck >= 0)
		result = stuck > 0 ? BUG_MANIFESTED : BUG_CLEAN;
	chan_close(r.hits); /* frees stranded workers (their sends fail) */
	bug_join(e);
out:
	if (r.returned)
		chan_unref(r.returned);
	if (r.hits)
		chan_unref(r.hits);
	if (r.paths)
		chan_unref(r.paths);
	if (r.ctx)
		ctx_cancel_release(r.ctx);
	return result;
}
