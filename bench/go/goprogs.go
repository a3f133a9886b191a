//go:build ignore

// bench/go/goprogs.go - the Go twin of bench/goprogs.c: Go's test/chan
// programs doubleselect.go and sieve1.go, timed whole (goroutine start and
// end included), each checking its own result.
package main

import "time"

func doubleselect(np *int) time.Duration {
	n := *np
	t0 := time.Now()
	c1, c2, c3, c4 := make(chan int), make(chan int), make(chan int), make(chan int)
	done := make(chan bool)
	cmux := make(chan int)
	go func() { // sender
		defer close(c1)
		defer close(c2)
		defer close(c3)
		defer close(c4)
		for i := 0; i < n; i++ {
			select {
			case c1 <- i:
			case c2 <- i:
			case c3 <- i:
			case c4 <- i:
			}
		}
	}()
	mux := func(in <-chan int) {
		for v := range in {
			cmux <- v
		}
		done <- true
	}
	go mux(c1)
	go mux(c2)
	go mux(c3)
	go mux(c4)
	go func() {
		<-done
		<-done
		<-done
		<-done
		close(cmux)
	}()
	seen := make([]bool, n)
	got := 0
	for v := range cmux { // recver
		check(v >= 0 && v < n && !seen[v], "got duplicate value")
		seen[v] = true
		got++
	}
	check(got == n, "every value received")
	return time.Since(t0)
}

func sieve(np *int) time.Duration {
	n := *np
	t0 := time.Now()
	quit := make(chan struct{})
	finished := make(chan struct{})
	live := 0
	generate := func(ch chan<- int) {
		for i := 2; ; i++ {
			select {
			case ch <- i:
			case <-quit:
				finished <- struct{}{}
				return
			}
		}
	}
	filter := func(in <-chan int, out chan<- int, prime int) {
		for {
			var i int
			select {
			case i = <-in:
			case <-quit:
				finished <- struct{}{}
				return
			}
			if i%prime != 0 {
				select {
				case out <- i:
				case <-quit:
					finished <- struct{}{}
					return
				}
			}
		}
	}
	first := []int{2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47}
	ch := make(chan int)
	go generate(ch)
	live++
	for i := 0; i < n; i++ {
		prime := <-ch
		if i < len(first) {
			check(prime == first[i], "the first primes")
		}
		ch1 := make(chan int)
		go filter(ch, ch1, prime)
		live++
		ch = ch1
	}
	// As the C port joins its threads: every goroutine has returned.
	close(quit)
	for ; live > 0; live-- {
		<-finished
	}
	return time.Since(t0)
}

var cases = []benchCase{
	{"doubleselect", 50000, doubleselect},
	{"sieve", 300, sieve},
}

func main() { benchMain(cases) }
