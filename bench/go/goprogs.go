//go:build ignore

// bench/go/goprogs.go - the Go twin of bench/goprogs.c: Go's test/chan
// programs doubleselect.go, sieve1.go and powser1.go, runtime's
// TestMultiConsumer and crossbeam-channel's tests/mpsc.rs stress and
// stress_shared, timed whole (goroutine start and end included), each
// checking its own result.
package main

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

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

// ---- powser1 ----------------------------------------------------------
//
// Go's test leaks its goroutines until main exits.  As in the C port, every
// channel of a run is registered and closed at the end; a goroutine that
// receives from a closed channel leaves (runtime.Goexit), one that sends on
// it panics and the panic is recovered; every goroutine is waited for.

type rat struct {
	num, den int64 // den == 0: the end mark
}

func gcd(u, v int64) int64 {
	if u < 0 {
		return gcd(-u, v)
	}
	if u == 0 {
		return v
	}
	return gcd(v%u, u)
}

func i2tor(u, v int64) rat {
	g := gcd(u, v)
	if v > 0 {
		return rat{u / g, v / g}
	}
	return rat{-u / g, -v / g}
}

func itor(u int64) rat { return i2tor(u, 1) }
func ratEnd(u rat) int64 {
	if u.den == 0 {
		return 1
	}
	return 0
}
func (u rat) eq(c rat) bool { return u.num == c.num && u.den == c.den }
func ratNeg(u rat) rat      { return i2tor(-u.num, u.den) }

func ratAdd(u, v rat) rat {
	g := gcd(u.den, v.den)
	return i2tor(u.num*(v.den/g)+v.num*(u.den/g), u.den*(v.den/g))
}

func ratMul(u, v rat) rat {
	g1 := gcd(u.num, v.den)
	g2 := gcd(u.den, v.num)
	return rat{(u.num / g1) * (v.num / g2), (u.den / g2) * (v.den / g1)}
}

var psZero, psOne, psFinis rat

type dch struct {
	req chan int
	dat chan rat
}

type dch2 [2]*dch

type psWorld struct {
	mu      sync.Mutex
	closing bool
	closers []func()
	wg      sync.WaitGroup
	seqno   int64
}

var world *psWorld

func (w *psWorld) register(closer func()) {
	w.mu.Lock()
	if w.closing {
		closer()
	} else {
		w.closers = append(w.closers, closer)
	}
	w.mu.Unlock()
}

func (w *psWorld) isClosing() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.closing
}

func psChanInt() chan int {
	c := make(chan int)
	world.register(func() { close(c) })
	return c
}

func psChanRat() chan rat {
	c := make(chan rat)
	world.register(func() { close(c) })
	return c
}

func psGo(f func()) {
	w := world
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		defer func() {
			if r := recover(); r != nil && !w.isClosing() {
				panic(r)
			}
		}()
		f()
	}()
}

func recvInt(c chan int) int {
	v, ok := <-c
	if !ok {
		runtime.Goexit()
	}
	return v
}

func recvRat(c chan rat) rat {
	v, ok := <-c
	if !ok {
		runtime.Goexit()
	}
	return v
}

func exitIf(closed bool) {
	if closed {
		runtime.Goexit()
	}
}

func seq() int { return int(atomic.AddInt64(&world.seqno, 1)) }

func mkdch() *dch   { return &dch{psChanInt(), psChanRat()} }
func mkdch2() *dch2 { return &dch2{mkdch(), mkdch()} }

func dosplit(in *dch, out *dch2, wait chan int) {
	both := false // do not service both channels
	select {
	case _, ok := <-out[0].req:
		exitIf(!ok)
	case _, ok := <-wait:
		exitIf(!ok)
		both = true
		select {
		case _, ok := <-out[0].req:
			exitIf(!ok)
		case _, ok := <-out[1].req:
			exitIf(!ok)
			out[0], out[1] = out[1], out[0]
		}
	}
	in.req <- seq()
	release := psChanInt()
	psGo(func() { dosplit(in, out, release) })
	dat := recvRat(in.dat)
	out[0].dat <- dat
	if !both {
		recvInt(wait)
	}
	recvInt(out[1].req)
	out[1].dat <- dat
	release <- 0
}

func split(in *dch, out *dch2) {
	release := psChanInt()
	psGo(func() { dosplit(in, out, release) })
	release <- 0
}

func put(dat rat, out *dch) {
	recvInt(out.req)
	out.dat <- dat
}

func get(in *dch) rat {
	in.req <- seq()
	return recvRat(in.dat)
}

func get2(in0, in1 *dch) [2]rat {
	in := [2]*dch{in0, in1}
	req := [2]chan int{in0.req, in1.req}
	var dat [2]chan rat
	var out [2]rat
	for n := 4; n > 0; n-- {
		s := seq()
		select {
		case req[0] <- s:
			dat[0] = in[0].dat
			req[0] = nil
		case req[1] <- s:
			dat[1] = in[1].dat
			req[1] = nil
		case it, ok := <-dat[0]:
			exitIf(!ok)
			out[0] = it
			dat[0] = nil
		case it, ok := <-dat[1]:
			exitIf(!ok)
			out[1] = it
			dat[1] = nil
		}
	}
	return out
}

func copyPS(in *dch, out *dch) {
	for {
		recvInt(out.req)
		out.dat <- get(in)
	}
}

func repeat(dat rat, out *dch) {
	for {
		put(dat, out)
	}
}

func Split(U *dch) *dch2 {
	UU := mkdch2()
	psGo(func() { split(U, UU) })
	return UU
}

func Add(U, V *dch) *dch {
	Z := mkdch()
	psGo(func() {
		for {
			recvInt(Z.req)
			uv := get2(U, V)
			switch ratEnd(uv[0]) + 2*ratEnd(uv[1]) {
			case 0:
				Z.dat <- ratAdd(uv[0], uv[1])
			case 1:
				Z.dat <- uv[1]
				copyPS(V, Z)
			case 2:
				Z.dat <- uv[0]
				copyPS(U, Z)
			case 3:
				Z.dat <- psFinis
			}
		}
	})
	return Z
}

func Cmul(c rat, U *dch) *dch {
	Z := mkdch()
	psGo(func() {
		done := false
		for !done {
			recvInt(Z.req)
			u := get(U)
			if ratEnd(u) != 0 {
				done = true
			} else {
				Z.dat <- ratMul(c, u)
			}
		}
		Z.dat <- psFinis
	})
	return Z
}

func Sub(U, V *dch) *dch { return Add(U, Cmul(ratNeg(psOne), V)) }

func Rep(c rat) *dch {
	Z := mkdch()
	psGo(func() { repeat(c, Z) })
	return Z
}

func Mul(U, V *dch) *dch {
	Z := mkdch()
	psGo(func() {
		recvInt(Z.req)
		uv := get2(U, V)
		if ratEnd(uv[0]) != 0 || ratEnd(uv[1]) != 0 {
			Z.dat <- psFinis
		} else {
			Z.dat <- ratMul(uv[0], uv[1])
			UU := Split(U)
			VV := Split(V)
			W := Add(Cmul(uv[0], VV[0]), Cmul(uv[1], UU[0]))
			recvInt(Z.req)
			Z.dat <- get(W)
			copyPS(Add(W, Mul(UU[1], VV[1])), Z)
		}
	})
	return Z
}

func Diff(U *dch) *dch {
	Z := mkdch()
	psGo(func() {
		recvInt(Z.req)
		u := get(U)
		if ratEnd(u) == 0 {
			done := false
			for i := 1; !done; i++ {
				u = get(U)
				if ratEnd(u) != 0 {
					done = true
				} else {
					Z.dat <- ratMul(itor(int64(i)), u)
					recvInt(Z.req)
				}
			}
		}
		Z.dat <- psFinis
	})
	return Z
}

func Integ(c rat, U *dch) *dch {
	Z := mkdch()
	psGo(func() {
		put(c, Z)
		done := false
		for i := 1; !done; i++ {
			recvInt(Z.req)
			u := get(U)
			if ratEnd(u) != 0 {
				done = true
			}
			Z.dat <- ratMul(i2tor(1, int64(i)), u)
		}
		Z.dat <- psFinis
	})
	return Z
}

func Exp(U *dch) *dch {
	ZZ := mkdch2()
	split(Integ(psOne, Mul(ZZ[0], Diff(U))), ZZ)
	return ZZ[1]
}

func MonSubst(U *dch, c0 rat, n int) *dch {
	Z := mkdch()
	psGo(func() {
		c := psOne
		for {
			recvInt(Z.req)
			u := get(U)
			Z.dat <- ratMul(u, c)
			c = ratMul(c, c0)
			if ratEnd(u) != 0 {
				Z.dat <- psFinis
				break
			}
			for i := 1; i < n; i++ {
				recvInt(Z.req)
				Z.dat <- psZero
			}
		}
	})
	return Z
}

func psCheck(U *dch, c rat, count int, str string) {
	for i := 0; i < count; i++ {
		r := get(U)
		if !r.eq(c) {
			fmt.Fprintf(os.Stderr, "powser1: %s: got %d/%d, should get %d/%d\n", str, r.num, r.den, c.num, c.den)
			os.Exit(3)
		}
	}
}

const psN = 10

func psChecka(U *dch, a []rat, str string) {
	for i := 0; i < psN; i++ {
		psCheck(U, a[i], 1, str)
	}
}

func powserOnce() {
	world = &psWorld{}
	Ones := Rep(psOne)
	Twos := Rep(itor(2))
	psCheck(Ones, psOne, 5, "Ones")
	psCheck(Add(Ones, Ones), itor(2), 0, "Add Ones Ones")
	psCheck(Add(Ones, Twos), itor(3), 0, "Add Ones Twos")
	a := make([]rat, psN)
	d := Diff(Ones)
	for i := 0; i < psN; i++ {
		a[i] = itor(int64(i + 1))
	}
	psChecka(d, a, "Diff")
	in := Integ(psZero, Ones)
	a[0] = psZero
	for i := 1; i < psN; i++ {
		a[i] = i2tor(1, int64(i))
	}
	psChecka(in, a, "Integ")
	psCheck(Cmul(ratNeg(psOne), Twos), itor(-2), 10, "CMul")
	psCheck(Sub(Ones, Twos), itor(-1), 0, "Sub Ones Twos")
	m := Mul(Ones, Ones)
	for i := 0; i < psN; i++ {
		a[i] = itor(int64(i + 1))
	}
	psChecka(m, a, "Mul")
	e := Exp(Ones)
	expNum := []int64{1, 1, 3, 13, 73, 167, 4051, 37633, 43817, 4596553}
	expDen := []int64{1, 1, 2, 6, 24, 40, 720, 5040, 4480, 362880}
	for i := 0; i < psN; i++ {
		a[i] = i2tor(expNum[i], expDen[i])
	}
	psChecka(e, a, "Exp")
	at := Integ(psZero, MonSubst(Ones, ratNeg(psOne), 2))
	for c, i := 1, 0; i < psN; i++ {
		if i%2 == 0 {
			a[i] = psZero
		} else {
			a[i] = i2tor(int64(c), int64(i))
			c *= -1
		}
	}
	psChecka(at, a, "ATan")

	// The end: close everything, wait for every goroutine.
	w := world
	w.mu.Lock()
	w.closing = true
	for _, f := range w.closers {
		f()
	}
	w.mu.Unlock()
	w.wg.Wait()
}

func powser1(np *int) time.Duration {
	t0 := time.Now()
	psZero, psOne, psFinis = itor(0), itor(1), i2tor(1, 0)
	for i := 0; i < *np; i++ {
		powserOnce()
	}
	return time.Since(t0)
}

// ---- multiconsumer: runtime/chan_test.go's TestMultiConsumer ------------

func multiconsumer(np *int) time.Duration {
	const nwork = 23
	niter := *np
	t0 := time.Now()
	pn := []int{2, 3, 7, 11, 13, 17, 19, 23, 27, 31}
	q := make(chan int, nwork*3)
	r := make(chan int, nwork*3)
	var wg sync.WaitGroup
	for i := 0; i < nwork; i++ {
		wg.Add(1)
		go func(w int) {
			for v := range q {
				// mess with the fifo-ish nature of range
				if pn[w%len(pn)] == v {
					runtime.Gosched()
				}
				r <- v
			}
			wg.Done()
		}(i)
	}
	expect := 0
	fed := make(chan struct{})
	go func() {
		for i := 0; i < niter; i++ {
			v := pn[i%len(pn)]
			expect += v
			q <- v
		}
		close(q)  // no more work
		wg.Wait() // workers done
		close(r)  // ... so there can be no more results
		close(fed)
	}()
	n, s := 0, 0
	for v := range r {
		n++
		s += v
	}
	<-fed // as the C port joins its feeder
	check(n == niter && s == expect, "multiconsumer count and sum")
	return time.Since(t0)
}

// ---- crossbeam-channel tests/mpsc.rs: stress, stress_shared ------------

func xbeamStress(np *int) time.Duration {
	count := *np
	t0 := time.Now()
	tx := make(chan int)
	done := make(chan struct{})
	go func() {
		for i := 0; i < count; i++ {
			tx <- 1
		}
		close(done)
	}()
	for i := 0; i < count; i++ {
		check(<-tx == 1, "xbeam_stress value")
	}
	<-done
	return time.Since(t0)
}

func xbeamStressShared(np *int) time.Duration {
	const nthreads = 8
	amt := *np / nthreads
	if amt < 1 {
		amt = 1
	}
	*np = amt * nthreads
	t0 := time.Now()
	tx := make(chan int)
	dtx := make(chan struct{})
	rdone := make(chan struct{})
	go func() {
		for i := 0; i < amt*nthreads; i++ {
			check(<-tx == 1, "xbeam_stress_shared value")
		}
		select {
		case <-tx:
			check(false, "nothing left after the senders")
		default:
		}
		dtx <- struct{}{}
		close(rdone)
	}()
	var wg sync.WaitGroup
	for i := 0; i < nthreads; i++ {
		wg.Add(1)
		go func() {
			for j := 0; j < amt; j++ {
				tx <- 1
			}
			wg.Done()
		}()
	}
	<-dtx
	wg.Wait()
	<-rdone
	return time.Since(t0)
}

var cases = []benchCase{
	{"doubleselect", 50000, doubleselect},
	{"sieve", 300, sieve},
	{"powser1", 1, powser1},
	{"multiconsumer", 271828, multiconsumer},
	{"xbeam_stress", 10000, xbeamStress},
	{"xbeam_stress_shared", 8000, xbeamStressShared},
}

func main() { benchMain(cases) }
