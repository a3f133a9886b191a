/* search/budget.c - see budget.h. */
#include "search/budget.h"

#include <errno.h>
#include <stdbool.h>

#include <gochan/chan.h>

static chan_t *tokens;

int budget_init(int n)
{
	if (!(tokens = chan_new(1, (size_t)n)))
		return errno ? errno : ENOMEM;
	char t = 0;
	for (int i = 0; i < n; i++)
		chan_try_send(tokens, &t); /* room for all: never EAGAIN */
	return 0;
}

int budget_take(ctx_t *c, int want)
{
	if (!tokens)
		return want; /* no budget (budget_init not called) */
	char t;
	bool ok;
	/* A free token first: a context already done (a client that
	 * half-closed after its request) must not turn a free thread into a
	 * refusal; the scan then ends at once as canceled. */
	if ((chan_try_recv(tokens, &t, &ok) != 0 || !ok) &&
	    (ctx_recv(c, tokens, &t, &ok) != 0 || !ok))
		return 0;
	int got = 1;
	while (got < want && chan_try_recv(tokens, &t, &ok) == 0 && ok)
		got++;
	return got;
}

void budget_give(int n)
{
	char t = 0;
	if (!tokens)
		return;
	for (int i = 0; i < n; i++)
		chan_try_send(tokens, &t); /* they came from it: room for each */
}

long budget_free_now(void)
{
	return tokens ? (long)chan_len(tokens) : 0;
}

void budget_fini(void)
{
	chan_unref(tokens);
	tokens = NULL;
}
