/*
 * examples/zig-consumer/src/main.c - C code in a Zig project that depends on
 * gochan: <gochan.h> comes from the package.  A worker squares what it
 * receives until its input is closed; main checks every answer.
 */
#include <gochan.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>

struct pipe {
	chan_t *in, *out;
};

static void *square(void *arg)
{
	struct pipe *p = (struct pipe *)arg;
	int v;
	CHAN_RANGE(p->in, &v) {
		int sq = v * v;
		chan_send(p->out, &sq);
	}
	chan_close(p->out);
	return NULL;
}

int main(void)
{
	struct pipe p = {chan_new(sizeof(int), 0), chan_new(sizeof(int), 4)};
	pthread_t t;
	int passed = 0, failed = 0;

	if (!p.in || !p.out || pthread_create(&t, NULL, square, &p) != 0)
		return 1;
	for (int i = 1; i <= 10; i++) {
		int sq;
		bool ok;
		chan_send(p.in, &i);
		chan_recv(p.out, &sq, &ok);
		if (ok && sq == i * i)
			passed++;
		else
			failed++;
	}
	chan_close(p.in);
	pthread_join(t, NULL);
	chan_unref(p.in);
	chan_unref(p.out);
	if (strcmp(gochan_version(), GOCHAN_VERSION) == 0)
		passed++;
	else
		failed++;
	printf("consumer-c (gochan %s): %d passed, %d failed\n", gochan_version(), passed, failed);
	return failed ? 1 : 0;
}
