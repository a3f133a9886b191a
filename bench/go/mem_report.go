//go:build ignore

// bench/go/mem_report.go - the Go twin of bench/mem_report.c: memory per
// channel and per blocked goroutine, measured with runtime.ReadMemStats.
//
//	mem_report --list     nothing (no timed cases)
//	mem_report --report   lines "mem impl=go item=<item> bytes=<b> allocs=<a>"
//
// chan_capC: heap bytes (size-class rounded) and allocations per make(chan
// int, C), over K channels kept alive.  op_heap: allocations per blocking
// unbuffered round trip after a warm-up.  waiter_plain: heap + stack bytes per
// goroutine blocked in a receive (its g, its stack, its sudog), over K
// blocked goroutines; Go's twin of a blocked thread's parker + waiter (a
// goroutine is also what runs the code, so this is not like for like: see
// bench/README.md).
package main

import (
	"fmt"
	"os"
	"runtime"
	"time"
)

const k = 1000

func report(item string, bytes float64, allocs float64) {
	fmt.Printf("mem impl=go item=%s bytes=%.0f allocs=%.2f\n", item, bytes, allocs)
}

func stats() runtime.MemStats {
	var m runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m
}

var keep [k]chan int

func chanSize(c int) {
	m0 := stats()
	for i := range keep {
		keep[i] = make(chan int, c)
	}
	m1 := stats()
	report(fmt.Sprintf("chan_cap%d", c), float64(m1.TotalAlloc-m0.TotalAlloc)/k,
		float64(m1.Mallocs-m0.Mallocs)/k)
	for i := range keep {
		keep[i] = nil
	}
}

func opHeap() {
	ping, pong := make(chan int), make(chan int)
	go func() {
		for v := range ping {
			pong <- v
		}
	}()
	for i := 0; i < 100; i++ {
		ping <- i
		<-pong
	}
	m0 := stats()
	for i := 0; i < 100*k; i++ {
		ping <- i
		<-pong
	}
	m1 := stats()
	close(ping)
	report("op_heap", 0, float64(m1.Mallocs-m0.Mallocs)/(100*k))
}

func blockedWaiters() {
	c := make(chan int)
	started := make(chan bool, k)
	m0 := stats()
	for i := 0; i < k; i++ {
		go func() {
			started <- true
			<-c
		}()
	}
	for i := 0; i < k; i++ {
		<-started
	}
	// Let each one reach its receive and park (a report, not a test: a
	// short pause is enough, and an unparked one only lowers the figure).
	time.Sleep(100 * time.Millisecond)
	m1 := stats()
	close(c)
	heap := float64(m1.HeapAlloc) - float64(m0.HeapAlloc)
	stack := float64(m1.StackInuse) - float64(m0.StackInuse)
	report("waiter_plain", (heap+stack)/k, float64(m1.Mallocs-m0.Mallocs)/k)
}

func main() {
	if len(os.Args) == 2 && os.Args[1] == "--list" {
		return
	}
	if len(os.Args) != 2 || os.Args[1] != "--report" {
		fmt.Fprintf(os.Stderr, "usage: %s --list | --report\n", os.Args[0])
		os.Exit(2)
	}
	chanSize(0)
	chanSize(1)
	chanSize(64)
	opHeap()
	blockedWaiters()
}
