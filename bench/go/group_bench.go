//go:build ignore

// bench/go/group_bench.go - the Go twin of bench/group_bench.c: the same case
// names and n, with goroutines, so bench/run.sh shows what Go's `go`
// statement costs next to a library thread.  Built together with harness.go:
//
//	GO111MODULE=off go build -o group_bench group_bench.go harness.go
//
// Go has only goroutines: the C cases that differ in how the thread is made
// (pthread, gowg, gogroup, reuse on or off) are all the same goroutine code
// here (go+wait one at a time, or 100 then one Wait).  limit8 is errgroup's
// SetLimit(8) written out (a `sem chan struct{}` of capacity 8, as errgroup
// does), since golang.org/x/sync is not in the offline GOPATH build.
package main

import (
	"sync"
	"sync/atomic"
	"time"
)

var ran int64

func goWait(n *int) time.Duration {
	var wg sync.WaitGroup
	atomic.StoreInt64(&ran, 0)
	t0 := time.Now()
	for i := 0; i < *n; i++ {
		wg.Add(1)
		go func() {
			atomic.AddInt64(&ran, 1)
			wg.Done()
		}()
		wg.Wait()
	}
	d := time.Since(t0)
	check(atomic.LoadInt64(&ran) == int64(*n), "every task ran")
	return d
}

const batch = 100

func batch100(n *int) time.Duration {
	var wg sync.WaitGroup
	*n = *n / batch * batch
	atomic.StoreInt64(&ran, 0)
	t0 := time.Now()
	for i := 0; i < *n; i += batch {
		wg.Add(batch)
		for j := 0; j < batch; j++ {
			go func() {
				atomic.AddInt64(&ran, 1)
				wg.Done()
			}()
		}
		wg.Wait()
	}
	d := time.Since(t0)
	check(atomic.LoadInt64(&ran) == int64(*n), "every task ran")
	return d
}

func limit8(n *int) time.Duration {
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	atomic.StoreInt64(&ran, 0)
	t0 := time.Now()
	for i := 0; i < *n; i++ {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			atomic.AddInt64(&ran, 1)
			<-sem
			wg.Done()
		}()
	}
	wg.Wait()
	d := time.Since(t0)
	check(atomic.LoadInt64(&ran) == int64(*n), "every task ran")
	return d
}

func main() {
	benchMain([]benchCase{
		{"go_wait_pthread", 20000, goWait},
		{"go_wait_gowg", 20000, goWait},
		{"go_wait_gowg_fresh", 20000, goWait},
		{"go_wait_group", 20000, goWait},
		{"go_wait_group_fresh", 20000, goWait},
		{"batch100_pthread", 20000, batch100},
		{"batch100_group", 20000, batch100},
		{"batch100_group_fresh", 20000, batch100},
		{"limit8_group", 20000, limit8},
		{"limit8_group_fresh", 20000, limit8},
	})
}
