package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// counters are the figures of /debug/vars. Each is changed at one place:
// requestsInProgress/requestsTotal by handleSearch, scansInProgress and
// scansCanceled by runScan, workersAlive by the walkers, fdsHeld around every
// open/close of a scan, contextsAlive around every context a request makes.
type counters struct {
	requestsInProgress atomic.Int64
	requestsTotal      atomic.Int64
	scansInProgress    atomic.Int64
	scansCanceled      atomic.Int64
	workersAlive       atomic.Int64
	fdsHeld            atomic.Int64
	contextsAlive      atomic.Int64
}

type server struct {
	cfg     config
	root    string // the served tree, symlinks resolved
	log     io.Writer
	logMu   sync.Mutex
	vars    counters
	nextID  atomic.Int64
	scans   atomic.Int64   // admitted scans, for --max-scans
	scansWG sync.WaitGroup // every scan, so shutdown can wait for its walkers
	bufs    sync.Pool      // per-worker read buffers (*[]byte)
	// openFile opens every file and directory a scan reads: os.Open, or in
	// tests a stand-in that fails on purpose (as root, no mode bit can
	// make a file unreadable).
	openFile func(name string) (*os.File, error)
}

func newServer(cfg config, log io.Writer) (*server, error) {
	root, err := realRoot(cfg.root)
	if err != nil {
		return nil, err
	}
	s := &server{cfg: cfg, root: root, log: log, openFile: os.Open}
	s.bufs.New = func() any { b := make([]byte, 256<<10); return &b }
	return s, nil
}

// connKey is the request-context key of the request's net.Conn (Go 1.19 has
// no http.ResponseController): runScan sets its write deadline.
type connKey struct{}

// connContext is the http.Server's ConnContext: it puts the connection in
// every request's context.
func connContext(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, c)
}

func (s *server) mux() http.Handler {
	m := http.NewServeMux()
	m.HandleFunc("/search", s.handleSearch)
	m.HandleFunc("/debug/vars", s.handleVars)
	m.HandleFunc("/", s.handlePage)
	return m
}

func (s *server) logf(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	s.logMu.Lock()
	io.WriteString(s.log, line)
	s.logMu.Unlock()
}

// writeError sends a JSON error: {"error":msg[,"param":p][,"offset":n]}.
func writeError(w http.ResponseWriter, code int, e *inputError) {
	b := []byte(`{"error":`)
	b = appendJSONString(b, e.msg)
	if e.param != "" {
		b = append(b, `,"param":`...)
		b = appendJSONString(b, e.param)
	}
	if e.offset >= 0 {
		b = append(b, `,"offset":`...)
		b = strconv.AppendInt(b, int64(e.offset), 10)
	}
	b = append(b, "}\n"...)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(code)
	w.Write(b)
}

func (s *server) handleVars(w http.ResponseWriter, r *http.Request) {
	v := &s.vars
	b := []byte("{")
	for i, kv := range []struct {
		k string
		n int64
	}{
		{"requests_in_progress", v.requestsInProgress.Load()},
		{"scans_in_progress", v.scansInProgress.Load()},
		{"workers_alive", v.workersAlive.Load()},
		{"fds_held", v.fdsHeld.Load()},
		{"contexts_alive", v.contextsAlive.Load()},
		{"requests_total", v.requestsTotal.Load()},
		{"scans_canceled", v.scansCanceled.Load()},
		// The twin's "blocked": the goroutine count (SEARCH-API).
		{"blocked", int64(runtime.NumGoroutine())},
	} {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, kv.k...)
		b = append(b, `":`...)
		b = strconv.AppendInt(b, kv.n, 10)
	}
	b = append(b, "}\n"...)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b)
}

func (s *server) handlePage(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		writeError(w, http.StatusNotFound, &inputError{msg: "not found", offset: -1})
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	io.WriteString(w, pageHTML)
}

// handleSearch validates the query (400 before anything is scanned), admits
// the scan (503 past --max-scans), streams it and logs one line.
func (s *server) handleSearch(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	s.vars.requestsTotal.Add(1)
	s.vars.requestsInProgress.Add(1)
	defer s.vars.requestsInProgress.Add(-1)
	id := s.nextID.Add(1)

	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		writeError(w, http.StatusMethodNotAllowed, &inputError{msg: "only GET", offset: -1})
		s.logf("search id=%d end=error files=0 bytes=0 matches=0 ms=0\n", id)
		return
	}
	q, perr := s.parseQuery(r.URL.Query())
	if perr != nil {
		writeError(w, http.StatusBadRequest, perr)
		s.logf("search id=%d end=error files=0 bytes=0 matches=0 ms=%d\n", id, time.Since(start).Milliseconds())
		return
	}
	for {
		n := s.scans.Load()
		if n >= int64(s.cfg.maxScans) {
			writeError(w, http.StatusServiceUnavailable, &inputError{msg: "too many concurrent scans", offset: -1})
			s.logf("search id=%d end=error files=0 bytes=0 matches=0 ms=%d\n", id, time.Since(start).Milliseconds())
			return
		}
		if s.scans.CompareAndSwap(n, n+1) {
			break
		}
	}
	defer s.scans.Add(-1)
	s.runScan(w, r, id, q, start)
}
