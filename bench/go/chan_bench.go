//go:build ignore

// bench/go/chan_bench.go - the Go twin of bench/chan_bench.c: the same cases,
// the same logic and the same n, so the two can be run side by side
// (bench/run.sh).  Built together with harness.go
// (the protocol and runners every twin shares):
//
//	GO111MODULE=off go build -o chan_bench chan_bench.go harness.go
//
// Element type everywhere is int (int64 on amd64), as in the C twin.
package main

import (
	"sync"
	"sync/atomic"
	"time"
)

// ---- ping-pong: two goroutines, one round trip per op ----

func pingpong(n int, capacity int) time.Duration {
	ping := make(chan int, capacity)
	pong := make(chan int, capacity)
	return runPair(func() {
		for i := 0; i < n; i++ {
			ping <- i
			back := <-pong
			check(back == i, "pingpong value")
		}
	}, func() {
		for i := 0; i < n; i++ {
			v, ok := <-ping
			check(ok && v == i, "pingpong echo")
			pong <- v
		}
	})
}

// ---- producer/consumer: t producers, t consumers, n messages in all ----

// prodcons is Go's benchmarkChanProdCons with a fixed n/t share per producer
// instead of batches of CallsPerSched from an atomic counter (see the C twin):
// work iterations of localWork before each send and after each receive of a 1.
func prodcons(n *int, capacity int, t int, work int) time.Duration {
	perProducer := *n / t
	*n = perProducer * t
	c := make(chan int, capacity)
	var received int64
	s := newStartLine(2 * t)
	var wg sync.WaitGroup
	wg.Add(2 * t)
	for i := 0; i < t; i++ {
		go func() {
			defer wg.Done()
			foo := 0
			s.wait()
			for k := 0; k < perProducer; k++ {
				foo = localWork(foo, work)
				c <- 1
			}
			c <- 0
			check(foo == 0, "prodcons producer work")
		}()
		go func() {
			defer wg.Done()
			foo := 0
			s.wait()
			got := int64(0)
			for {
				v, ok := <-c
				check(ok, "prodcons recv")
				if v == 0 {
					break
				}
				got++
				foo = localWork(foo, work)
			}
			check(foo == 0, "prodcons consumer work")
			atomic.AddInt64(&received, got)
		}()
	}
	t0 := s.goNow()
	wg.Wait()
	d := time.Since(t0)
	check(atomic.LoadInt64(&received) == int64(*n), "prodcons count")
	check(len(c) == 0, "prodcons drained")
	return d
}

// chanSync is Go's BenchmarkChanSync with its two goroutines' roles fixed
// (one receives then sends, the other sends then receives, n/2 calls each;
// see the C twin): one op is one message through an unbuffered channel.
func chanSync(n *int) time.Duration {
	calls := *n / 2
	*n = calls * 2
	myc := make(chan int)
	d := runPair(func() {
		for i := 0; i < calls; i++ {
			v := <-myc
			myc <- v
		}
	}, func() {
		v := 0
		for i := 0; i < calls; i++ {
			myc <- v
			v = <-myc
		}
	})
	check(len(myc) == 0, "chan_sync drained")
	return d
}

func nonblocking(n *int) time.Duration {
	myc := make(chan int)
	return runParallel(n, func(per int, s *startLine) {
		s.wait()
		for i := 0; i < per; i++ {
			select {
			case <-myc:
				check(false, "nonblocking received")
			default:
			}
		}
	})
}

func creation(n *int) time.Duration {
	return runParallel(n, func(per int, s *startLine) {
		s.wait()
		for i := 0; i < per; i++ {
			myc := make(chan int, 1)
			myc <- i
			w := <-myc
			check(w == i, "creation value")
		}
	})
}

func uncontendedC100(n *int) time.Duration {
	return runParallel(n, func(per int, s *startLine) {
		myc := make(chan int, 100)
		s.wait()
		for i := 0; i < per; i++ {
			for k := 0; k < 100; k++ {
				myc <- 0
			}
			for k := 0; k < 100; k++ {
				<-myc
			}
		}
	})
}

// chanContended is Go's BenchmarkChanContended: one channel of capacity
// 100*procs() shared by all; each goroutine sends 1..100 and adds up what it
// receives (5050 per op over all of them, see the C twin).
func chanContended(n *int) time.Duration {
	myc := make(chan int, 100*procs())
	var sum int64
	d := runParallel(n, func(per int, s *startLine) {
		local := int64(0)
		s.wait()
		for i := 0; i < per; i++ {
			for k := 1; k <= 100; k++ {
				myc <- k
			}
			for k := 0; k < 100; k++ {
				v, ok := <-myc
				check(ok, "chan_contended recv")
				local += int64(v)
			}
		}
		atomic.AddInt64(&sum, local)
	})
	check(atomic.LoadInt64(&sum) == int64(*n)*5050, "chan_contended sum")
	check(len(myc) == 0, "chan_contended drained")
	return d
}

// chanSem is Go's BenchmarkChanSem: a chan struct{} of capacity procs().
func chanSem(n *int) time.Duration {
	type empty struct{}
	myc := make(chan empty, procs())
	var got int64
	d := runParallel(n, func(per int, s *startLine) {
		local := int64(0)
		s.wait()
		for i := 0; i < per; i++ {
			myc <- empty{}
			_, ok := <-myc
			check(ok, "chan_sem recv")
			local++
		}
		atomic.AddInt64(&got, local)
	})
	check(atomic.LoadInt64(&got) == int64(*n), "chan_sem count")
	check(len(myc) == 0, "chan_sem drained")
	return d
}

// chanClosed is Go's BenchmarkChanClosed: a non-blocking receive on a closed
// unbuffered chan struct{} must succeed with ok == false.
func chanClosed(n *int) time.Duration {
	myc := make(chan struct{})
	close(myc)
	return runParallel(n, func(per int, s *startLine) {
		s.wait()
		for i := 0; i < per; i++ {
			select {
			case _, ok := <-myc:
				check(!ok, "chan_closed ok")
			default:
				check(false, "chan_closed would block")
			}
		}
	})
}

var cases = []benchCase{
	{"pingpong_c0", 200000, func(n *int) time.Duration { return pingpong(*n, 0) }},
	{"pingpong_c1", 200000, func(n *int) time.Duration { return pingpong(*n, 1) }},
	{"prodcons_c0_t1", 400000, func(n *int) time.Duration { return prodcons(n, 0, 1, 0) }},
	{"prodcons_c0_t2", 400000, func(n *int) time.Duration { return prodcons(n, 0, 2, 0) }},
	{"prodcons_c0_t4", 200000, func(n *int) time.Duration { return prodcons(n, 0, 4, 0) }},
	{"prodcons_c1_t1", 400000, func(n *int) time.Duration { return prodcons(n, 1, 1, 0) }},
	{"prodcons_c1_t2", 500000, func(n *int) time.Duration { return prodcons(n, 1, 2, 0) }},
	{"prodcons_c10_t2", 1000000, func(n *int) time.Duration { return prodcons(n, 10, 2, 0) }},
	{"prodcons_c64_t1", 2000000, func(n *int) time.Duration { return prodcons(n, 64, 1, 0) }},
	{"prodcons_c64_t2", 2000000, func(n *int) time.Duration { return prodcons(n, 64, 2, 0) }},
	{"prodcons_c64_t4", 2000000, func(n *int) time.Duration { return prodcons(n, 64, 4, 0) }},
	{"prodcons_c100_t2", 2000000, func(n *int) time.Duration { return prodcons(n, 100, 2, 0) }},
	{"chan_sync", 400000, chanSync},
	{"nonblocking", 50000000, nonblocking},
	{"creation", 2000000, creation},
	{"uncontended_c100", 100000, uncontendedC100},
	{"chan_contended", 50000, chanContended},
	{"chan_sem", 5000000, chanSem},
	{"chan_closed", 10000000, chanClosed},
	{"prodcons_work_c0", 500000, func(n *int) time.Duration { return prodcons(n, 0, procs(), 100) }},
	{"prodcons_work_c10", 1000000, func(n *int) time.Duration { return prodcons(n, 10, procs(), 100) }},
	{"prodcons_work_c100", 1000000, func(n *int) time.Duration { return prodcons(n, 100, procs(), 100) }},
}

func main() { benchMain(cases) }
