//go:build ignore

// bench/go/fiber_bench.go - the Go twin of bench/fiber_bench.c: the same
// case names and n, with goroutines.  Built together with harness.go:
//
//	GO111MODULE=off go build -o fiber_bench fiber_bench.go harness.go
//
// Go has only goroutines: the C cases that differ in where the waiting side
// runs (a fiber or a thread: *_thread_fiber) are the same goroutine code
// here.  The benchmark's own code runs on the main goroutine, as the C
// fiber cases run theirs on a fiber.  skynet prints "maxrss_kib=" on stderr
// (getrusage after the run), as the C twin does.
package main

import (
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"
)

func empty() {}

// goWait is go_wait_fiber: start an empty goroutine and wait for it, one at
// a time (sync.WaitGroup, as gofiber_group_wait).
func goWait(n *int) time.Duration {
	var wg sync.WaitGroup
	t0 := time.Now()
	for i := 0; i < *n; i++ {
		wg.Add(1)
		go func() {
			empty()
			wg.Done()
		}()
		wg.Wait()
	}
	return time.Since(t0)
}

const batch = 100

func batch100(n *int) time.Duration {
	var wg sync.WaitGroup
	*n -= *n % batch
	t0 := time.Now()
	for i := 0; i < *n; i += batch {
		wg.Add(batch)
		for j := 0; j < batch; j++ {
			go func() {
				empty()
				wg.Done()
			}()
		}
		wg.Wait()
	}
	return time.Since(t0)
}

// pingpong: an echo goroutine answers every ping on an unbuffered channel
// until ping is closed; one op is one round trip.
func pingpong(n *int) time.Duration {
	ping, pong := make(chan int), make(chan int)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for v := range ping {
			pong <- v
		}
	}()
	t0 := time.Now()
	for i := 0; i < *n; i++ {
		ping <- i
		v := <-pong
		check(v == i, "echoed value")
	}
	d := time.Since(t0)
	close(ping)
	wg.Wait()
	return d
}

// skynet: github.com/atemerev/skynet's Go program, a goroutine per node of
// a 10-ary tree with size leaves.
func skynetNode(c chan<- int, num, size int) {
	if size == 1 {
		c <- num
		return
	}
	rc := make(chan int)
	sub := size / 10
	for i := 0; i < 10; i++ {
		go skynetNode(rc, num+i*sub, sub)
	}
	sum := 0
	for i := 0; i < 10; i++ {
		sum += <-rc
	}
	c <- sum
}

func skynet(n *int) time.Duration {
	size := 1
	for size <= *n/10 {
		size *= 10
	}
	*n = size
	c := make(chan int)
	t0 := time.Now()
	go skynetNode(c, 0, size)
	sum := <-c
	d := time.Since(t0)
	check(sum == size*(size-1)/2, "skynet's sum")
	var ru syscall.Rusage
	check(syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil, "getrusage")
	fmt.Fprintf(os.Stderr, "maxrss_kib=%d\n", ru.Maxrss)
	return d
}

func main() {
	benchMain([]benchCase{
		{"go_wait_fiber", 200000, goWait},
		{"go_wait_thread_fiber", 20000, goWait},
		{"batch100_fiber", 200000, batch100},
		{"pingpong_fiber", 200000, pingpong},
		{"pingpong_thread_fiber", 20000, pingpong},
		{"skynet", 1000000, skynet},
	})
}
