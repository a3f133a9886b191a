//go:build ignore

// bench/go/poll_bench.go - Go twin of bench/poll_bench.c (see there for what
// each case means).  Built with harness.go by bench/run.sh.
//
//	hangup_latency     a net/http handler blocked on r.Context().Done(); the
//	                   client closes its connection: close -> Done received
//	                   (the server's background read sees EOF and cancels).
//	hangup_done_latency  the handler hands r.Context() to the client, which
//	                   waits on <-ctx.Done() right after its Close.
//	read_eof_latency   a goroutine blocked in conn.Read on the server side;
//	                   close -> Read returns (the netpoller's own latency).
//	hangup_ctx_cycle   context.WithCancel + cancel, per op.
//
// Latency cases report the MEDIAN as ns_per_op and print median/p99/min/max
// to stderr, as the C twin does.
package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"time"
)

const settle = 200 * time.Microsecond

func report(name string, lat []time.Duration) time.Duration {
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	n := len(lat)
	p := n * 99 / 100
	if p >= n {
		p = n - 1
	}
	fmt.Fprintf(os.Stderr, "%s: trials=%d median_ns=%d p99_ns=%d min_ns=%d max_ns=%d\n", name,
		n, lat[n/2].Nanoseconds(), lat[p].Nanoseconds(), lat[0].Nanoseconds(),
		lat[n-1].Nanoseconds())
	return lat[n/2] * time.Duration(n)
}

func hangupLatency(n *int) time.Duration {
	ready := make(chan struct{})
	woke := make(chan time.Time)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ready <- struct{}{}
		<-r.Context().Done()
		woke <- time.Now()
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	check(err == nil, "listen")
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	lat := make([]time.Duration, *n)
	for i := 0; i < *n; i++ {
		c, err := net.Dial("tcp", ln.Addr().String())
		check(err == nil, "dial")
		_, err = io.WriteString(c, "GET / HTTP/1.1\r\nHost: bench\r\n\r\n")
		check(err == nil, "write")
		<-ready
		time.Sleep(settle)
		t0 := time.Now()
		c.Close()
		t1 := <-woke
		lat[i] = t1.Sub(t0)
	}
	srv.Close()
	return report("hangup_latency", lat)
}

func hangupDoneLatency(n *int) time.Duration {
	ctxs := make(chan context.Context)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctxs <- r.Context()
		<-r.Context().Done()
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	check(err == nil, "listen")
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	lat := make([]time.Duration, *n)
	for i := 0; i < *n; i++ {
		c, err := net.Dial("tcp", ln.Addr().String())
		check(err == nil, "dial")
		_, err = io.WriteString(c, "GET / HTTP/1.1\r\nHost: bench\r\n\r\n")
		check(err == nil, "write")
		ctx := <-ctxs
		time.Sleep(settle)
		t0 := time.Now()
		c.Close()
		<-ctx.Done()
		lat[i] = time.Since(t0)
	}
	srv.Close()
	return report("hangup_done_latency", lat)
}

func readEOFLatency(n *int) time.Duration {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	check(err == nil, "listen")
	ready := make(chan struct{})
	woke := make(chan time.Time)
	lat := make([]time.Duration, *n)
	for i := 0; i < *n; i++ {
		c, err := net.Dial("tcp", ln.Addr().String())
		check(err == nil, "dial")
		s, err := ln.Accept()
		check(err == nil, "accept")
		go func() {
			r := bufio.NewReader(s)
			ready <- struct{}{}
			_, err := r.ReadByte()
			check(err == io.EOF, "expected EOF")
			woke <- time.Now()
		}()
		<-ready
		time.Sleep(settle)
		t0 := time.Now()
		c.Close()
		t1 := <-woke
		lat[i] = t1.Sub(t0)
		s.Close()
	}
	ln.Close()
	return report("read_eof_latency", lat)
}

func hangupCtxCycle(n *int) time.Duration {
	bg := context.Background()
	t0 := time.Now()
	for i := 0; i < *n; i++ {
		_, cancel := context.WithCancel(bg)
		cancel()
	}
	return time.Since(t0)
}

func main() {
	benchMain([]benchCase{
		{"hangup_latency", 1000, hangupLatency},
		{"hangup_done_latency", 1000, hangupDoneLatency},
		{"read_eof_latency", 1000, readEOFLatency},
		{"hangup_ctx_cycle", 200000, hangupCtxCycle},
	})
}
