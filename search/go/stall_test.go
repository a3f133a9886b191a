package main

// A client that stops reading cannot keep its scan: its response is cut
// (the connection closed) at the request's deadline plus cutGrace, the slot
// is free again, every gauge returns to idle, and others are served
// meanwhile (issue 16's zombie, for the twin).

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"testing"
)

func TestStalledClientIsCut(t *testing.T) {
	dir := t.TempDir()
	bigTree(t, dir)
	s, ts, log := newTestServer(t, dir, func(c *config) { c.maxScans = 2; c.maxResults = 1 << 30 })
	addr := strings.TrimPrefix(ts.URL, "http://")
	var stalled []net.Conn
	for i := 0; i < 2; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.(*net.TCPConn).SetReadBuffer(4096)
		// ~2 million matching lines: the socket buffers fill long before the scan ends.
		fmt.Fprintf(c, "GET /search?q=needle&timeout=1s HTTP/1.1\r\nHost: x\r\n\r\n")
		stalled = append(stalled, c) // never read
	}
	for i := 1; i <= 2; i++ {
		l := log.next(t, "search id=")
		if !strings.Contains(l, "end=stalled") || !strings.Contains(l, "cut=deadline") {
			t.Errorf("log line %q, want end=stalled cut=deadline", l)
		}
	}
	waitIdle(t, s)
	if n := s.scans.Load(); n != 0 {
		t.Errorf("%d scan slots still held", n)
	}
	// Both slots are free: two searches run to their end.
	for i := 0; i < 2; i++ {
		if code, _, got := get2(t, ts, url.Values{"q": {"needle"}, "max": {"2"}}); code != 200 || got[len(got)-1].Reason != "limit" {
			t.Fatalf("after the cut: %d %+v", code, got[len(got)-1])
		}
	}
}
