/*
 * examples/md5_tree.c - the MD5-of-a-tree program of the Go blog's
 * "Go Concurrency Patterns: Pipelines and cancellation" (serial.go,
 * parallel.go, bounded.go), ported stage for stage:
 *
 *     ./md5_tree serial|parallel|bounded DIR
 *
 * prints "<md5>  <path>" for every regular file under DIR, sorted by path:
 * exactly what `find DIR -type f | LC_ALL=C sort | xargs md5sum` prints
 * (scripts/check-example.sh compares the three forms with md5sum).
 *
 *   serial    MD5All walks the tree and hashes each file in turn.
 *   parallel  sumFiles starts one thread per file (Go: a goroutine per file);
 *             each sends its result on c or gives up when done is closed.
 *   bounded   walkFiles sends paths on a channel; a fixed number of digester
 *             threads read it and send results on c; a closer thread closes
 *             c once every digester has returned.
 * In both concurrent forms MD5All closes done on return (Go: defer
 * close(done)), so a read error stops the walk and every thread.
 *
 * Differences from the Go program, all from C: errors are errno values, not
 * error objects; the map is an array sorted at the end; "wg.Wait()" is
 * pthread_join() of the threads (the waitgroup module, gowg_, would read
 * exactly like Go's sync.WaitGroup; joins keep this example on the core
 * API); MD5 is a small implementation of RFC 1321 below (no crypto library).
 */
#include <gochan.h>

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- MD5 (RFC 1321), one call over a whole buffer: md5.Sum(data) -------- */

struct md5sum {
	unsigned char b[16];
};

static uint32_t rol(uint32_t x, int c)
{
	return (x << c) | (x >> (32 - c));
}

static void md5_block(uint32_t h[4], const unsigned char *p)
{
	static const uint32_t k[64] = {
		0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613,
		0xfd469501, 0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193,
		0xa679438e, 0x49b40821, 0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d,
		0x02441453, 0xd8a1e681, 0xe7d3fbc8, 0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed,
		0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a, 0xfffa3942, 0x8771f681, 0x6d9d6122,
		0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70, 0x289b7ec6, 0xeaa127fa,
		0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665, 0xf4292244,
		0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
		0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb,
		0xeb86d391,
	};
	static const int r[64] = {
		7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9,  14, 20, 5, 9,
		14, 20, 5, 9,  14, 20, 5, 9,  14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
		4, 11, 16, 23, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
	};
	uint32_t w[16], a = h[0], b = h[1], c = h[2], d = h[3];
	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 |
		       (uint32_t)p[4 * i + 2] << 16 | (uint32_t)p[4 * i + 3] << 24;
	for (int i = 0; i < 64; i++) {
		uint32_t f;
		int g;
		if (i < 16) {
			f = (b & c) | (~b & d);
			g = i;
		} else if (i < 32) {
			f = (d & b) | (~d & c);
			g = (5 * i + 1) % 16;
		} else if (i < 48) {
			f = b ^ c ^ d;
			g = (3 * i + 5) % 16;
		} else {
			f = c ^ (b | ~d);
			g = (7 * i) % 16;
		}
		uint32_t t = d;
		d = c;
		c = b;
		b = b + rol(a + f + k[i] + w[g], r[i]);
		a = t;
	}
	h[0] += a;
	h[1] += b;
	h[2] += c;
	h[3] += d;
}

static struct md5sum md5(const unsigned char *data, size_t n)
{
	uint32_t h[4] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476};
	unsigned char tail[128];
	size_t full = n / 64 * 64, rest = n - full, tail_len = rest < 56 ? 64 : 128;
	uint64_t bits = (uint64_t)n * 8;
	struct md5sum s;

	for (size_t off = 0; off < full; off += 64)
		md5_block(h, data + off);
	memset(tail, 0, sizeof(tail));
	if (rest)
		memcpy(tail, data + full, rest);
	tail[rest] = 0x80;
	for (int i = 0; i < 8; i++)
		tail[tail_len - 8 + i] = (unsigned char)(bits >> (8 * i));
	for (size_t off = 0; off < tail_len; off += 64)
		md5_block(h, tail + off);
	for (int i = 0; i < 16; i++)
		s.b[i] = (unsigned char)(h[i / 4] >> (8 * (i % 4)));
	return s;
}

/* ioutil.ReadFile: the whole file, malloc'd; 0 or an errno. */
static int read_file(const char *path, unsigned char **data, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 4096, n = 0;
	unsigned char *buf = (unsigned char *)malloc(cap);
	int err = 0;

	if (!f || !buf) {
		err = errno ? errno : ENOMEM;
		if (f)
			fclose(f);
		free(buf);
		return err;
	}
	for (;;) {
		if (n == cap) {
			unsigned char *bigger = (unsigned char *)realloc(buf, cap * 2);
			if (!bigger) {
				err = ENOMEM;
				break;
			}
			buf = bigger;
			cap *= 2;
		}
		size_t got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0) {
			if (ferror(f))
				err = EIO;
			break;
		}
	}
	fclose(f);
	if (err) {
		free(buf);
		return err;
	}
	*data = buf;
	*len = n;
	return 0;
}

/* ---- filepath.Walk: every regular file under root, in lexical order ----- */

typedef int (*walk_fn)(const char *path, void *arg); /* non-zero stops the walk */

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int walk(const char *root, walk_fn fn, void *arg)
{
	struct stat st;
	if (lstat(root, &st) != 0)
		return errno;
	if (S_ISREG(st.st_mode))
		return fn(root, arg);
	if (!S_ISDIR(st.st_mode))
		return 0;
	DIR *d = opendir(root);
	if (!d)
		return errno;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int err = 0;
	for (struct dirent *e; !err && (e = readdir(d));) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			char **bigger = (char **)realloc(names, cap * sizeof(*names));
			if (!bigger) {
				err = ENOMEM;
				break;
			}
			names = bigger;
		}
		size_t len = strlen(root) + 1 + strlen(e->d_name) + 1;
		if (!(names[n] = (char *)malloc(len)))
			err = ENOMEM;
		else
			snprintf(names[n++], len, "%s/%s", root, e->d_name);
	}
	closedir(d);
	if (!err && n)
		qsort(names, n, sizeof(*names), by_name);
	for (size_t i = 0; i < n; i++) {
		if (!err)
			err = walk(names[i], fn, arg);
		free(names[i]);
	}
	free(names);
	return err;
}

/* ---- results: the map[string][md5.Size]byte ------------------------------ */

struct result {
	char *path; /* malloc'd; owned by whoever holds the result */
	struct md5sum sum;
	int err;
};

struct sums {
	struct result *r;
	size_t n, cap;
};

static int sums_add(struct sums *m, struct result r)
{
	if (m->n == m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 64;
		struct result *bigger = (struct result *)realloc(m->r, cap * sizeof(*bigger));
		if (!bigger)
			return ENOMEM;
		m->r = bigger;
		m->cap = cap;
	}
	m->r[m->n++] = r;
	return 0;
}

static void sums_free(struct sums *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->r[i].path);
	free(m->r);
	m->r = NULL;
	m->n = m->cap = 0;
}

static int by_path(const void *a, const void *b)
{
	return strcmp(((const struct result *)a)->path, ((const struct result *)b)->path);
}

static struct result digest(const char *path)
{
	struct result r;
	unsigned char *data = NULL;
	size_t len = 0;

	memset(&r, 0, sizeof(r));
	r.path = strdup(path);
	r.err = r.path ? read_file(path, &data, &len) : ENOMEM;
	if (!r.err)
		r.sum = md5(data, len);
	free(data);
	return r;
}

/* ---- serial.go ------------------------------------------------------------ */

static int serial_visit(const char *path, void *arg)
{
	struct result r = digest(path);
	if (r.err || sums_add((struct sums *)arg, r)) {
		int err = r.err ? r.err : ENOMEM;
		free(r.path);
		return err;
	}
	return 0;
}

static int md5_all_serial(const char *root, struct sums *m)
{
	return walk(root, serial_visit, m);
}

/* ---- parallel.go ------------------------------------------------------------ */

/* The state shared by the threads of one MD5All call.  Each thread holds its
 * own references to the channels it uses. */
struct pipeline {
	const char *root;
	chan_t *done;  /* struct{}: closed by MD5All when it returns */
	chan_t *c;     /* struct result */
	chan_t *errc;  /* int, capacity 1: the walk's error */
	chan_t *paths; /* char *, bounded only */
	pthread_t *threads; /* parallel: one per file, joined by the closer */
	size_t n_threads, cap_threads;
	pthread_t closer;   /* closes c once every sender has returned */
	bool closer_started;
};

/* go func() { data, err := ReadFile(path); select { case c <- result{...}: case <-done: } }() */
struct file_job {
	struct pipeline *p;
	char *path;
};

static void *sum_one_file(void *arg)
{
	struct file_job *job = (struct file_job *)arg;
	struct result r = digest(job->path);
	bool sent = false;

	switch (CHAN_SELECT(CHAN_FOREVER, CHAN_SEND(job->p->c, &r, &sent), CHAN_RECV(job->p->done, NULL, NULL))) {
	case 0:
		break;
	default: /* done: nobody wants the result */
		break;
	}
	if (!sent)
		free(r.path);
	free(job->path);
	free(job);
	return NULL;
}

static int parallel_visit(const char *path, void *arg)
{
	struct pipeline *p = (struct pipeline *)arg;
	struct file_job *job = (struct file_job *)malloc(sizeof(*job));
	if (!job || !(job->path = strdup(path))) {
		free(job);
		return ENOMEM;
	}
	job->p = p;
	if (p->n_threads == p->cap_threads) {
		size_t cap = p->cap_threads ? 2 * p->cap_threads : 64;
		pthread_t *bigger = (pthread_t *)realloc(p->threads, cap * sizeof(*bigger));
		if (!bigger) {
			free(job->path);
			free(job);
			return ENOMEM;
		}
		p->threads = bigger;
		p->cap_threads = cap;
	}
	int err = pthread_create(&p->threads[p->n_threads], NULL, sum_one_file, job); /* wg.Add(1); go ... */
	if (err) {
		free(job->path);
		free(job);
		return err;
	}
	p->n_threads++;
	/* select { case <-done: return errors.New("walk canceled") default: return nil } */
	return chan_try_recv(p->done, NULL, NULL) == 0 ? ECANCELED : 0;
}

/* go func() { wg.Wait(); close(c) }() */
static void *close_after_files(void *arg)
{
	struct pipeline *p = (struct pipeline *)arg;
	for (size_t i = 0; i < p->n_threads; i++)
		pthread_join(p->threads[i], NULL);
	chan_close(p->c);
	return NULL;
}

/* sumFiles's goroutine: walk, start the closer, report the walk's error. */
static void *sum_files(void *arg)
{
	struct pipeline *p = (struct pipeline *)arg;
	int err = walk(p->root, parallel_visit, p);
	p->closer_started = pthread_create(&p->closer, NULL, close_after_files, p) == 0;
	if (!p->closer_started)
		close_after_files(p); /* no thread: MD5All is already receiving, so this ends */
	chan_send(p->errc, &err); /* capacity 1: never blocks; MD5All joins the closer after it */
	return NULL;
}

/* ---- bounded.go ------------------------------------------------------------- */

static int bounded_visit(const char *path, void *arg)
{
	struct pipeline *p = (struct pipeline *)arg;
	char *copy = strdup(path);
	if (!copy)
		return ENOMEM;
	/* select { case paths <- path: case <-done: return errors.New("walk canceled") } */
	switch (CHAN_SELECT(CHAN_FOREVER, CHAN_SEND(p->paths, &copy, NULL), CHAN_RECV(p->done, NULL, NULL))) {
	case 0:
		return 0;
	default:
		free(copy);
		return ECANCELED;
	}
}

/* walkFiles's goroutine: defer close(paths); errc <- filepath.Walk(...) */
static void *walk_files(void *arg)
{
	struct pipeline *p = (struct pipeline *)arg;
	int err = walk(p->root, bounded_visit, p);
	chan_close(p->paths);
	chan_send(p->errc, &err);
	return NULL;
}

/* digester: for path := range paths { select { case c <- result: case <-done: return } } */
static void *digester(void *arg)
{
	struct pipeline *p = (struct pipeline *)arg;
	char *path;
	CHAN_RANGE(p->paths, &path) {
		struct result r = digest(path);
		bool sent = false;
		free(path);
		int i = CHAN_SELECT(CHAN_FOREVER, CHAN_SEND(p->c, &r, &sent), CHAN_RECV(p->done, NULL, NULL));
		if (i != 0 || !sent) {
			free(r.path);
			return NULL;
		}
	}
	return NULL;
}

enum { NUM_DIGESTERS = 20 };

struct digesters {
	struct pipeline *p;
	pthread_t t[NUM_DIGESTERS];
	int n;
};

/* go func() { wg.Wait(); close(c) }() */
static void *close_after_digesters(void *arg)
{
	struct digesters *d = (struct digesters *)arg;
	for (int i = 0; i < d->n; i++)
		pthread_join(d->t[i], NULL);
	chan_close(d->p->c);
	return NULL;
}

/* ---- MD5All for the concurrent forms ---------------------------------------- */

/*
 * func MD5All(root string) (map[string][md5.Size]byte, error) {
 *     done := make(chan struct{}); defer close(done)
 *     c, errc := sumFiles(done, root)        // or walkFiles + digesters
 *     m := make(map[string][md5.Size]byte)
 *     for r := range c { if r.err != nil { return nil, r.err }; m[r.path] = r.sum }
 *     if err := <-errc; err != nil { return nil, err }
 *     return m, nil
 * }
 * The C version also waits for every thread it started before it returns.
 */
static int md5_all(const char *root, bool bounded, struct sums *m)
{
	struct pipeline p;
	struct digesters d;
	pthread_t producer;
	int err = 0, walk_err = 0;

	memset(&p, 0, sizeof(p));
	p.root = root;
	p.done = chan_new(0, 0);
	p.c = chan_new(sizeof(struct result), 0);
	p.errc = chan_new(sizeof(int), 1);
	p.paths = bounded ? chan_new(sizeof(char *), 0) : NULL;
	if (!p.done || !p.c || !p.errc || (bounded && !p.paths)) {
		err = ENOMEM;
		goto out;
	}
	if ((err = pthread_create(&producer, NULL, bounded ? walk_files : sum_files, &p)))
		goto out;
	if (bounded) {
		d.p = &p;
		for (d.n = 0; d.n < NUM_DIGESTERS; d.n++)
			if (pthread_create(&d.t[d.n], NULL, digester, &p) != 0)
				break;
		p.closer_started = d.n > 0 && pthread_create(&p.closer, NULL, close_after_digesters, &d) == 0;
		if (!p.closer_started) { /* out of threads: give up, as on a read error */
			err = EAGAIN;
			chan_close(p.done);
			close_after_digesters(&d);
		}
	}

	struct result r;
	CHAN_RANGE(p.c, &r) {
		if (!err && r.err)
			err = r.err;
		if (err || (err = sums_add(m, r))) {
			free(r.path);
			break; /* return nil, r.err: the deferred close(done) stops everyone */
		}
	}
	chan_close(p.done); /* defer close(done) */
	/* Drain c, so that nothing stays blocked on it (a thread that lost the
	 * race with done may still be sending), then collect the walk's error. */
	CHAN_RANGE(p.c, &r) free(r.path);
	chan_recv(p.errc, &walk_err, NULL);
	if (!err)
		err = walk_err;
	pthread_join(producer, NULL); /* after which p.closer is set */
	if (p.closer_started)
		pthread_join(p.closer, NULL);
out:
	free(p.threads);
	chan_unref(p.done);
	chan_unref(p.c);
	chan_unref(p.errc);
	chan_unref(p.paths);
	return err;
}

int main(int argc, char **argv)
{
	struct sums m;
	int err;

	memset(&m, 0, sizeof(m));
	if (argc != 3) {
		fprintf(stderr, "usage: %s serial|parallel|bounded DIR\n", argv[0]);
		return 2;
	}
	if (!strcmp(argv[1], "serial"))
		err = md5_all_serial(argv[2], &m);
	else if (!strcmp(argv[1], "parallel"))
		err = md5_all(argv[2], false, &m);
	else if (!strcmp(argv[1], "bounded"))
		err = md5_all(argv[2], true, &m);
	else {
		fprintf(stderr, "%s: unknown form '%s'\n", argv[0], argv[1]);
		return 2;
	}
	if (err) {
		fprintf(stderr, "md5_tree: %s\n", strerror(err));
		sums_free(&m);
		return 1;
	}
	/* var paths []string; for path := range m { paths = append(paths, path) }; sort.Strings(paths) */
	qsort(m.r, m.n, sizeof(*m.r), by_path);
	for (size_t i = 0; i < m.n; i++) {
		for (int j = 0; j < 16; j++)
			printf("%02x", m.r[i].sum.b[j]);
		printf("  %s\n", m.r[i].path);
	}
	sums_free(&m);
	return 0;
}
