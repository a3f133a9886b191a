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
	char t;
	bool ok;
	if (ctx_recv(c, tokens, &t, &ok) != 0 || !ok)
		return 0;
	int got = 1;
	while (got < want && chan_try_recv(tokens, &t, &ok) == 0 && ok)
		got++;
	return got;
}

void budget_give(int n)
{
	char t = 0;
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
