/*
 * examples/consumer/consumer.c - a program built against an INSTALLED gochan
 * (`zig build install-check`: through pkg-config, shared and static, and
 * through CMake's find_package): a producer thread, a CHAN_RANGE consumer, a
 * select with a timer, and the version of the library it runs with.
 * Prints one line; exit status 0 if everything held.
 */
#include <gochan.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static void *produce(void *arg)
{
	chan_t *c = arg;
	for (int i = 1; i <= 100; i++)
		if (chan_send(c, &i))
			break;
	chan_close(c);
	chan_unref(c);
	return NULL;
}

int main(void)
{
	chan_t *c = chan_new(sizeof(int), 8);
	pthread_t th;
	int v, sum = 0;

	if (!c || pthread_create(&th, NULL, produce, chan_ref(c)))
		return 1;
	CHAN_RANGE(c, &v) sum += v;
	pthread_join(th, NULL);
	chan_unref(c);

	/* A timer channel in a select: it fires, and refuses a send (EPERM). */
	gotime_timer_t *t = gotime_timer_new(1000000);
	int64_t when;
	int fired = CHAN_SELECT(CHAN_FOREVER, CHAN_RECV(gotime_timer_chan(t), &when, NULL));
	int perm = chan_try_send(gotime_timer_chan(t), &when);
	gotime_timer_free(t);

	bool same = strcmp(gochan_version(), GOCHAN_VERSION) == 0;
	printf("gochan %s: sum %d, timer case %d, send on timer %s\n", gochan_version(), sum,
	       fired, chan_strerror(perm));
	return sum == 5050 && fired == 0 && perm == EPERM && same &&
			       godiag_verify_none(chan_deadline_in(5000000000)) == 0
		       ? 0
		       : 1;
}
