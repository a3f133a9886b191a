//go:build ignore

// bench/go/crossbeam_suite.go - the Go twin of bench/crossbeam_suite.c:
// crossbeam-channel's benchmark suite (its benchmarks/go.go), with the same
// cases, logic, checks and n as the C twin.  Built together with harness.go:
//
//	GO111MODULE=off go build -o crossbeam_suite crossbeam_suite.go harness.go
//
// Messages are int (8 bytes); T = 4 goroutines a side; capacities 0, 1, n.
package main

import (
	"sync"
	"sync/atomic"
	"time"
)

const threads = 4 // crossbeam's THREADS

const capN = -1 // stands for "capacity n" (boundedN)

type suite struct {
	c     [threads]chan int
	per   int // per producer
	nrecv int // per consumer
	order bool
	got   int64
	sum   int64
	s     *startLine
	wg    sync.WaitGroup
}

func newSuite(n *int, capacity int, nchan int, producers int) *suite {
	st := &suite{per: *n / producers}
	*n = st.per * producers
	if capacity == capN {
		capacity = *n
	}
	for k := 0; k < nchan; k++ {
		st.c[k] = make(chan int, capacity)
	}
	return st
}

func (st *suite) account(got, sum int64) {
	atomic.AddInt64(&st.got, got)
	atomic.AddInt64(&st.sum, sum)
}

func (st *suite) finish(n int, nchan int, producers int) {
	per := int64(st.per)
	check(atomic.LoadInt64(&st.got) == int64(n), "message count")
	check(atomic.LoadInt64(&st.sum) == int64(producers)*(per*(per-1)/2), "message sum")
	for k := 0; k < nchan; k++ {
		check(len(st.c[k]) == 0, "drained")
	}
}

func (st *suite) spawn(k int, body func()) {
	st.wg.Add(k)
	for i := 0; i < k; i++ {
		go func() {
			defer st.wg.Done()
			st.s.wait()
			body()
		}()
	}
}

func (st *suite) run() time.Duration {
	t0 := st.s.goNow()
	st.wg.Wait()
	return time.Since(t0)
}

func seq(n *int, capacity int) time.Duration {
	st := newSuite(n, capacity, 1, 1)
	c := st.c[0]
	t0 := time.Now()
	for i := 0; i < *n; i++ {
		c <- i
	}
	sum := int64(0)
	for i := 0; i < *n; i++ {
		v := <-c
		check(v == i, "seq order")
		sum += int64(v)
	}
	d := time.Since(t0)
	st.account(int64(*n), sum)
	st.finish(*n, 1, 1)
	return d
}

// pc: p producers and q consumers on one channel.
func pc(n *int, capacity int, p int, q int) time.Duration {
	st := newSuite(n, capacity, 1, p)
	st.nrecv = *n / q
	st.order = p == 1 && q == 1
	c := st.c[0]
	st.s = newStartLine(p + q)
	st.spawn(p, func() {
		for i := 0; i < st.per; i++ {
			c <- i
		}
	})
	st.spawn(q, func() {
		sum := int64(0)
		for i := 0; i < st.nrecv; i++ {
			v, ok := <-c
			check(ok, "recv ok")
			if st.order {
				check(v == i, "spsc order")
			}
			sum += int64(v)
		}
		st.account(int64(st.nrecv), sum)
	})
	d := st.run()
	st.finish(*n, 1, p)
	return d
}

// selectRecv receives st.nrecv values with a four-case select (threads == 4).
func (st *suite) selectRecv() {
	c0, c1, c2, c3 := st.c[0], st.c[1], st.c[2], st.c[3]
	sum := int64(0)
	for i := 0; i < st.nrecv; i++ {
		var v int
		var ok bool
		select {
		case v, ok = <-c0:
		case v, ok = <-c1:
		case v, ok = <-c2:
		case v, ok = <-c3:
		}
		check(ok, "select recv ok")
		sum += int64(v)
	}
	st.account(int64(st.nrecv), sum)
}

func selectRx(n *int, capacity int) time.Duration {
	st := newSuite(n, capacity, threads, threads)
	st.nrecv = *n
	st.s = newStartLine(threads + 1)
	var next int32
	st.spawn(threads, func() {
		c := st.c[atomic.AddInt32(&next, 1)-1]
		for i := 0; i < st.per; i++ {
			c <- i
		}
	})
	st.spawn(1, st.selectRecv)
	d := st.run()
	st.finish(*n, threads, threads)
	return d
}

func selectBoth(n *int, capacity int) time.Duration {
	st := newSuite(n, capacity, threads, threads)
	st.nrecv = st.per
	st.s = newStartLine(2 * threads)
	st.spawn(threads, func() {
		c0, c1, c2, c3 := st.c[0], st.c[1], st.c[2], st.c[3]
		for i := 0; i < st.per; i++ {
			select {
			case c0 <- i:
			case c1 <- i:
			case c2 <- i:
			case c3 <- i:
			}
		}
	})
	st.spawn(threads, st.selectRecv)
	d := st.run()
	st.finish(*n, threads, threads)
	return d
}

func flavor(prefix string, capacity int) []benchCase {
	const m = 5000000 // crossbeam's MESSAGES
	return []benchCase{
		{prefix + "_spsc", m, func(n *int) time.Duration { return pc(n, capacity, 1, 1) }},
		{prefix + "_mpsc", m, func(n *int) time.Duration { return pc(n, capacity, threads, 1) }},
		{prefix + "_mpmc", m, func(n *int) time.Duration { return pc(n, capacity, threads, threads) }},
		{prefix + "_select_rx", m, func(n *int) time.Duration { return selectRx(n, capacity) }},
		{prefix + "_select_both", m, func(n *int) time.Duration { return selectBoth(n, capacity) }},
	}
}

func main() {
	cases := append(flavor("bounded0", 0), flavor("bounded1", 1)...)
	cases = append(cases, benchCase{"boundedN_seq", 5000000, func(n *int) time.Duration { return seq(n, capN) }})
	cases = append(cases, flavor("boundedN", capN)...)
	benchMain(cases)
}
