//go:build ignore

// bench/go/harness.go - what every Go twin shares: the command line and
// output protocol, the parallel width, the start line and the parallel
// runner.  It is not a program on its own; each twin is built together with
// it (bench/run.sh does this):
//
//	GO111MODULE=off go build -o chan_bench chan_bench.go harness.go
//
// Protocol (see bench/bench.h): --list | <case> <n>, printing
// "case=<case> impl=go n=<n> ns_per_op=<x>".
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"
)

// procs is the width of the parallel cases: $BENCH_PROCS, else GOMAXPROCS
// (the number of CPUs), the same rule as bench_procs() in bench/bench.h.
func procs() int {
	if p, err := strconv.Atoi(os.Getenv("BENCH_PROCS")); err == nil && p > 0 {
		return p
	}
	return runtime.GOMAXPROCS(0)
}

// check ends the program with status 3 when a benchmark computed something
// wrong (run.sh reports the case as FAIL).
func check(ok bool, what string) {
	if !ok {
		fmt.Fprintln(os.Stderr, "check failed:", what)
		os.Exit(3)
	}
}

// localWork is the "local work" loop of Go's benchmarks in
// runtime/chan_test.go: foo *= 2; foo /= 2, iters times (bench_local_work in
// bench/bench.h).
func localWork(foo int, iters int) int {
	for i := 0; i < iters; i++ {
		foo *= 2
		foo /= 2
	}
	return foo
}

// startLine releases k workers together and returns when they are all ready;
// the C twin's bench_start_* barrier.
type startLine struct {
	ready sync.WaitGroup
	gate  chan struct{}
}

func newStartLine(k int) *startLine {
	s := &startLine{gate: make(chan struct{})}
	s.ready.Add(k)
	return s
}

func (s *startLine) wait() { s.ready.Done(); <-s.gate }

func (s *startLine) goNow() time.Time {
	s.ready.Wait()
	t := time.Now()
	close(s.gate)
	return t
}

// runParallel is b.RunParallel: procs() goroutines share *n ops, each doing
// perThread of them (at least one); *n is rounded down to what was done.
// body calls s.wait() once its setup is done; the clock runs from the moment
// all of them are ready until the last returns.
func runParallel(n *int, body func(perThread int, s *startLine)) time.Duration {
	p := procs()
	perThread := *n / p
	if perThread == 0 {
		perThread = 1
	}
	*n = perThread * p
	s := newStartLine(p)
	var wg sync.WaitGroup
	wg.Add(p)
	for i := 0; i < p; i++ {
		go func() {
			defer wg.Done()
			body(perThread, s)
		}()
	}
	t0 := s.goNow()
	wg.Wait()
	return time.Since(t0)
}

// runPair runs a and b on two goroutines that start together; the clock
// runs from the moment both are ready until both have returned.
func runPair(a, b func()) time.Duration {
	s := newStartLine(2)
	var wg sync.WaitGroup
	wg.Add(2)
	for _, f := range []func(){a, b} {
		f := f
		go func() {
			defer wg.Done()
			s.wait()
			f()
		}()
	}
	t0 := s.goNow()
	wg.Wait()
	return time.Since(t0)
}

// benchCase is one case: run does *n ops (it may round *n to what it did)
// and returns the time they took.
type benchCase struct {
	name     string
	defaultN int
	run      func(n *int) time.Duration
}

// benchMain is each twin's main: --list prints "<case> <default n>" lines;
// "<case> <n>" runs one case and prints its result line.  Bad arguments exit
// with status 2.
func benchMain(cases []benchCase) {
	if len(os.Args) == 2 && os.Args[1] == "--list" {
		for _, c := range cases {
			fmt.Printf("%s %d\n", c.name, c.defaultN)
		}
		return
	}
	if len(os.Args) != 3 {
		fmt.Fprintf(os.Stderr, "usage: %s --list | %s <case> <n>\n", os.Args[0], os.Args[0])
		os.Exit(2)
	}
	n, err := strconv.Atoi(os.Args[2])
	if err != nil || n <= 0 {
		fmt.Fprintf(os.Stderr, "%s: bad iteration count '%s'\n", os.Args[0], os.Args[2])
		os.Exit(2)
	}
	for _, c := range cases {
		if c.name == os.Args[1] {
			d := c.run(&n)
			fmt.Printf("case=%s impl=go n=%d ns_per_op=%.2f\n", c.name, n,
				float64(d.Nanoseconds())/float64(n))
			return
		}
	}
	fmt.Fprintf(os.Stderr, "%s: unknown case '%s'\n", os.Args[0], os.Args[1])
	os.Exit(2)
}
