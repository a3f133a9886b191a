/*
 * context/ctx_hook.h - a synchronous cancel hook on a cancelable context,
 * for library modules that attach an outside registration to a context
 * (poll/'s hangup context: an fd in the poller's epoll set).  Not installed;
 * not for users.
 *
 * A hooked context is an ordinary WithCancel context (CTX_K_CANCEL) that
 * carries two functions and an argument, immutable after construction:
 *
 *   cancel(arg)   called with no context lock held, on the calling thread,
 *                 after the context is done:
 *                   - by the cancel that marked it (its own ctx_cancel*, a
 *                     cancel of an ancestor, or the constructor when the
 *                     parent was already done), after that cancel's walk and
 *                     before it returns;
 *                   - and again by every ctx_cancel() / ctx_cancel_cause()
 *                     called on the context itself, even one that lost the
 *                     race to another thread's cancel, so that such a call
 *                     returns only once the hook's work is complete.
 *                 So it runs at least once, possibly several times, from
 *                 any thread, concurrently: it must be idempotent, must not
 *                 block for long, and must not wait for another cancel.
 *                 Every caller holds a reference to the context.
 *   destroy(arg)  called exactly once, when the last reference is dropped,
 *                 before anything of the context is torn down (whether or not
 *                 it was ever cancelled: a context released without a cancel
 *                 gets destroy() and no cancel()).  Frees @arg.
 *
 * Neither function may call back into this context's cancel or release.
 */
#ifndef GOCHAN_CONTEXT_CTX_HOOK_H
#define GOCHAN_CONTEXT_CTX_HOOK_H

#include <stdbool.h>

#include <gochan/context.h>

struct ctx_hook {
	void (*cancel)(void *arg);
	void (*destroy)(void *arg);
};

/*
 * ctx__with_hook - ctx_with_cancel(@parent) carrying @hook and @arg (both
 * kept by the context; @hook must outlive it, a static const object).  If
 * @parent is already done the context is done at once and hook->cancel(arg)
 * has run before this returns.  NULL with errno EINVAL (NULL @parent or
 * @hook) or ENOMEM; on failure no hook function is ever called.
 */
ctx_t *ctx__with_hook(ctx_t *parent, const struct ctx_hook *hook, void *arg);

/*
 * ctx__tryref - take a reference to @c unless its count already reached 0
 * (its destruction has begun).  The caller must know @c is still allocated
 * by other means: for a hooked context, holding the lock that destroy() must
 * take before it returns.  Relaxed, like ctx_ref().
 */
bool ctx__tryref(ctx_t *c);

#endif
