//go:build ignore

// bench/go/timer_bench.go - the Go twin of bench/timer_bench.c: the same
// cases, the same logic and the same n, so the two can be run side by side
// (bench/run.sh).  Built together with harness.go
// (the protocol and runners every twin shares):
//
//	GO111MODULE=off go build -o timer_bench timer_bench.go harness.go
//
// Mapping of the C API onto Go's time package:
//
//	gotime_timer_new(d) + gotime_timer_free(t)    time.NewTimer(d) + t.Stop()
//	                                              (the GC frees it; Stop takes
//	                                              it out of the heap, as free does)
//	gotime_timer_reset / _stop                    t.Reset / t.Stop
//	gotime_after_func_at(now + d, fn, arg)        time.AfterFunc(d, fn)
//
// One difference the table should be read with: gotime_after_func_at runs fn
// on the timer thread, while Go's AfterFunc starts a goroutine for each call
// (cheap in Go), so fire_func compares "run the callback where it is cheapest"
// in both.  The --compare mode of the C program has no twin.
package main

import (
	"sync"
	"sync/atomic"
	"time"
)

const (
	pending = 100000
	far     = time.Hour
)

// ---- the pending-timer load ----

// loadStart arms n far-future timers at scattered deadlines (a realistic
// heap, not a sorted one), as load_start in the C twin.
func loadStart(n int) []*time.Timer {
	load := make([]*time.Timer, n)
	for i := range load {
		load[i] = time.NewTimer(far + time.Duration((i*7919)%n)*time.Microsecond)
	}
	return load
}

func loadStop(load []*time.Timer) {
	for _, t := range load {
		check(t.Stop(), "load timer pending")
	}
}

// ---- select2: one goroutine, token between two cap-1 channels ----

func select2(n int, npending int) time.Duration {
	c1 := make(chan int, 1)
	c2 := make(chan int, 1)
	c1 <- 0
	load := loadStart(npending)
	t0 := time.Now()
	for i := 0; i < n; i++ {
		select {
		case <-c1:
			c2 <- 0
		case <-c2:
			c1 <- 0
		}
	}
	d := time.Since(t0)
	loadStop(load)
	check(len(c1)+len(c2) == 1, "one token left")
	return d
}

// ---- select2_pingpong: sender goroutine vs selecting goroutine ----

func select2Pingpong(n int, npending int) time.Duration {
	a := make(chan int)
	b := make(chan int)
	load := loadStart(npending)
	s := newStartLine(1)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.wait()
		for i := 0; i < n; i++ {
			if i%2 != 0 {
				b <- i
			} else {
				a <- i
			}
		}
	}()
	sum := 0
	t0 := s.goNow()
	for i := 0; i < n; i++ {
		var v int
		select {
		case v = <-a:
		case v = <-b:
		}
		sum += v
	}
	d := time.Since(t0)
	wg.Wait()
	loadStop(load)
	check(sum == n*(n-1)/2, "pingpong sum")
	return d
}

// ---- timer operations ----

func resetStop(n int, npending int) time.Duration {
	t := time.NewTimer(far)
	check(t.Stop(), "stop a pending timer")
	load := loadStart(npending)
	t0 := time.Now()
	for i := 0; i < n; i++ {
		// deadlines spread over the load's range: sifts of every depth
		t.Reset(far + time.Duration((i*7919)%pending)*time.Microsecond)
		check(t.Stop(), "stop after reset")
	}
	d := time.Since(t0)
	loadStop(load)
	return d
}

func newFree(n *int) time.Duration {
	t0 := time.Now()
	for i := 0; i < *n; i++ {
		t := time.NewTimer(far)
		t.Stop() // gotime_timer_free stops a pending timer; the GC frees
	}
	return time.Since(t0)
}

func nop() {}

func funcNewStopFree(n *int) time.Duration {
	t0 := time.Now()
	for i := 0; i < *n; i++ {
		t := time.AfterFunc(far, nop)
		check(t.Stop(), "stop a pending AfterFunc")
	}
	return time.Since(t0)
}

func fireFunc(n *int) time.Duration {
	var left int64 = int64(*n)
	done := make(chan struct{})
	fn := func() {
		if atomic.AddInt64(&left, -1) == 0 {
			close(done)
		}
	}
	ts := make([]*time.Timer, *n)
	t0 := time.Now()
	for i := range ts {
		ts[i] = time.AfterFunc(0, fn) // due now, as after_func_at(chan_now())
	}
	<-done
	d := time.Since(t0)
	for _, t := range ts {
		check(!t.Stop(), "every function has run")
	}
	return d
}

var cases = []benchCase{
	{"select2_timers0", 2000000, func(n *int) time.Duration { return select2(*n, 0) }},
	{"select2_timers100k", 2000000, func(n *int) time.Duration { return select2(*n, pending) }},
	{"select2_pingpong_timers0", 200000, func(n *int) time.Duration { return select2Pingpong(*n, 0) }},
	{"select2_pingpong_timers100k", 200000, func(n *int) time.Duration { return select2Pingpong(*n, pending) }},
	{"reset_stop_timers0", 1000000, func(n *int) time.Duration { return resetStop(*n, 0) }},
	{"reset_stop_timers100k", 1000000, func(n *int) time.Duration { return resetStop(*n, pending) }},
	{"new_free", 500000, newFree},
	{"func_new_stop_free", 1000000, funcNewStopFree},
	{"fire_func", 200000, fireFunc},
}

func main() { benchMain(cases) }
