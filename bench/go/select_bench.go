//go:build ignore

// bench/go/select_bench.go - the Go twin of bench/select_bench.c: the same
// cases, the same logic and the same n (bench/run.sh runs them side by side).
// Most cases are Go's own runtime/chan_test.go benchmarks of the same name,
// timed by hand.  Built together with harness.go
// (the protocol and runners every twin shares):
//
//	GO111MODULE=off go build -o select_bench select_bench.go harness.go
package main

import (
	"sync"
	"sync/atomic"
	"time"
)

func selectUncontended(n *int) time.Duration {
	return runParallel(n, func(per int, s *startLine) {
		myc1 := make(chan int, 1)
		myc2 := make(chan int, 1)
		myc1 <- 0
		s.wait()
		for i := 0; i < per; i++ {
			select {
			case <-myc1:
				myc2 <- 0
			case <-myc2:
				myc1 <- 0
			}
		}
		check(len(myc1)+len(myc2) == 1, "uncontended token")
	})
}

func selectSyncContended(n *int) time.Duration {
	myc1 := make(chan int)
	myc2 := make(chan int)
	myc3 := make(chan int)
	done := make(chan struct{})
	p := procs()
	var helpers sync.WaitGroup
	helpers.Add(p)
	for i := 0; i < p; i++ {
		go func() {
			defer helpers.Done()
			for {
				select {
				case myc1 <- 0:
				case myc2 <- 0:
				case myc3 <- 0:
				case <-done:
					return
				}
			}
		}()
	}
	d := runParallel(n, func(per int, s *startLine) {
		s.wait()
		for i := 0; i < per; i++ {
			v := -1
			select {
			case v = <-myc1:
			case v = <-myc2:
			case v = <-myc3:
			}
			check(v == 0, "sync contended value")
		}
	})
	close(done)
	helpers.Wait()
	return d
}

func selectAsyncContended(n *int) time.Duration {
	p := procs()
	myc1 := make(chan int, p)
	myc2 := make(chan int, p)
	d := runParallel(n, func(per int, s *startLine) {
		myc1 <- 0
		s.wait()
		for i := 0; i < per; i++ {
			select {
			case <-myc1:
				myc2 <- 0
			case <-myc2:
				myc1 <- 0
			}
		}
	})
	check(len(myc1)+len(myc2) == p, "async contended tokens")
	return d
}

func selectNonblock(n *int) time.Duration {
	myc1 := make(chan int)
	myc2 := make(chan int)
	myc3 := make(chan int, 1)
	myc4 := make(chan int, 1)
	d := runParallel(n, func(per int, s *startLine) {
		s.wait()
		for i := 0; i < per; i++ {
			select {
			case <-myc1:
				check(false, "nonblock myc1")
			default:
			}
			select {
			case myc2 <- 0:
				check(false, "nonblock myc2")
			default:
			}
			select {
			case <-myc3:
				check(false, "nonblock myc3")
			default:
			}
			select {
			case myc4 <- 0:
			default:
			}
		}
	})
	check(len(myc4) == 1, "nonblock myc4")
	return d
}

func selectNonblock2(n *int) time.Duration {
	myc1 := make(chan int)
	myc2 := make(chan int, 1)
	return runParallel(n, func(per int, s *startLine) {
		s.wait()
		for i := 0; i < per; i++ {
			select {
			case <-myc1:
				check(false, "nonblock2 myc1")
			case <-myc2:
				check(false, "nonblock2 myc2")
			default:
			}
		}
	})
}

func selectPingpongC0(n *int) time.Duration {
	ping := make(chan int)
	pong := make(chan int)
	idle := make(chan struct{})
	return runPair(func() {
		for i := 0; i < *n; i++ {
			select {
			case ping <- i:
			case <-idle:
				check(false, "idle fired")
			}
			back := -1
			select {
			case back = <-pong:
			case <-idle:
				check(false, "idle fired")
			}
			check(back == i, "select pingpong value")
		}
	}, func() {
		for i := 0; i < *n; i++ {
			v := -1
			select {
			case v = <-ping:
			case <-idle:
				check(false, "idle fired")
			}
			check(v == i, "select pingpong echo")
			select {
			case pong <- v:
			case <-idle:
				check(false, "idle fired")
			}
		}
	})
}

// Go's BenchmarkSelectProdCons, with mytimer a per-goroutine cap-1 channel
// nobody sends on (what time.After(time.Hour) is within the benchmark in Go
// 1.19), so that the C twin can do exactly the same.
func selectProdCons(n *int) time.Duration {
	p := procs()
	perProducer := *n / p
	*n = perProducer * p
	myc := make(chan int, 128)
	myclose := make(chan bool)
	var received, sink int64
	s := newStartLine(2 * p)
	var wg sync.WaitGroup
	wg.Add(2 * p)
	for i := 0; i < p; i++ {
		go func() {
			defer wg.Done()
			mytimer := make(chan int, 1)
			foo := 0
			s.wait()
			for k := 0; k < perProducer; k++ {
				foo = localWork(foo, 100)
				select {
				case myc <- 1:
				case <-mytimer:
					check(false, "timer fired")
				case <-myclose:
					check(false, "close fired")
				}
			}
			myc <- 0
			if foo == 42 {
				atomic.AddInt64(&sink, 1)
			}
		}()
		go func() {
			defer wg.Done()
			mytimer := make(chan int, 1)
			foo := 0
			got := int64(0)
			s.wait()
		loop:
			for {
				select {
				case v := <-myc:
					if v == 0 {
						break loop
					}
				case <-mytimer:
					check(false, "timer fired")
				case <-myclose:
					check(false, "close fired")
				}
				got++
				foo = localWork(foo, 100)
			}
			atomic.AddInt64(&received, got)
			if foo == 42 {
				atomic.AddInt64(&sink, 1)
			}
		}()
	}
	t0 := s.goNow()
	wg.Wait()
	d := time.Since(t0)
	check(atomic.LoadInt64(&received) == int64(*n), "select prodcons count")
	check(atomic.LoadInt64(&sink) == 0, "local work")
	return d
}

// Go's BenchmarkChanPopular with popular goroutines (the C twin's POPULAR).
const popular = 200

func chanPopular(n *int) time.Duration {
	rounds := *n
	c := make(chan bool)
	var a []chan bool
	s := newStartLine(popular)
	var wg sync.WaitGroup
	wg.Add(popular)
	for j := 0; j < popular; j++ {
		d := make(chan bool)
		a = append(a, d)
		go func() {
			defer wg.Done()
			s.wait()
			for i := 0; i < rounds; i++ {
				v := false
				select {
				case <-c:
					check(false, "popular c fired")
				case v = <-d:
				}
				check(v, "popular value")
			}
		}()
	}
	t0 := s.goNow()
	for i := 0; i < rounds; i++ {
		for _, d := range a {
			d <- true
		}
	}
	wg.Wait()
	return time.Since(t0)
}

var cases = []benchCase{
	{"select_uncontended", 5000000, selectUncontended},
	{"select_pingpong_c0", 200000, selectPingpongC0},
	{"select_sync_contended", 300000, selectSyncContended},
	{"select_async_contended", 1000000, selectAsyncContended},
	{"select_prodcons", 500000, selectProdCons},
	{"select_nonblock", 10000000, selectNonblock},
	{"select_nonblock2", 2000000, selectNonblock2},
	{"chan_popular_200", 1000, chanPopular},
}

func main() { benchMain(cases) }
