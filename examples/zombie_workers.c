/*
 * examples/zombie_workers.c - the zombie-goroutine story, part 1: workers
 * that stop when their context's 200 ms timeout passes, instead of running
 * forever for nobody.  The Go program and its port, line for line:
 *
 *   func worker(ctx context.Context, id int, wg *sync.WaitGroup) {
 *       defer wg.Done()
 *       for {
 *           select {
 *           case <-ctx.Done():
 *               fmt.Printf("Worker %d stopped: %v\n", id, ctx.Err())
 *               return
 *           default:
 *               time.Sleep(50 * time.Millisecond) // one unit of work
 *           }
 *       }
 *   }
 *
 *   func main() {
 *       ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
 *       defer cancel()
 *       var wg sync.WaitGroup
 *       for i := 1; i <= 3; i++ {
 *           wg.Add(1)
 *           go worker(ctx, i, &wg)
 *       }
 *       wg.Wait()
 *       fmt.Println("All workers stopped")
 *   }
 *
 * Output (the workers' lines in any order):
 *   Worker 1 stopped: context deadline exceeded
 *   Worker 2 stopped: context deadline exceeded
 *   Worker 3 stopped: context deadline exceeded
 *   All workers stopped
 *
 * Differences: a goroutine is a thread here, and wg.Wait() is pthread_join()
 * (gowg_ in gochan/waitgroup.h is the literal WaitGroup); each worker holds
 * its own reference to the context (ctx_ref), released when it returns;
 * `defer cancel()` is CTX_SCOPED.
 */
#include <gochan.h>

#include <pthread.h>
#include <stdio.h>
#include <time.h>

struct worker_arg {
	ctx_t *ctx; /* this worker's own reference */
	int id;
};

static void *worker(void *arg)
{
	struct worker_arg *w = (struct worker_arg *)arg;
	for (;;) {
		switch (CHAN_SELECT(CHAN_NOWAIT, CHAN_RECV(ctx_done(w->ctx), NULL, NULL))) {
		case 0:
			printf("Worker %d stopped: %s\n", w->id, ctx_strerror(ctx_err(w->ctx)));
			ctx_release(w->ctx);
			return NULL;
		case CHAN_DEFAULT: {
			struct timespec unit = {0, 50 * 1000 * 1000}; /* one unit of work */
			nanosleep(&unit, NULL);
			break;
		}
		default:
			fprintf(stderr, "select failed\n");
			ctx_release(w->ctx);
			return NULL;
		}
	}
}

int main(void)
{
	CTX_SCOPED ctx_t *ctx = ctx_with_timeout(ctx_background(), 200 * GOTIME_MILLISECOND);
	struct worker_arg workers[3];
	pthread_t threads[3];

	if (!ctx) {
		perror("ctx_with_timeout");
		return 1;
	}
	for (int i = 0; i < 3; i++) {
		workers[i].ctx = ctx_ref(ctx);
		workers[i].id = i + 1;
		if (pthread_create(&threads[i], NULL, worker, &workers[i]) != 0) {
			perror("pthread_create");
			return 1;
		}
	}
	for (int i = 0; i < 3; i++)
		pthread_join(threads[i], NULL);
	printf("All workers stopped\n");
	return 0;
}
