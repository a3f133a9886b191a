package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// resultKind says which line of the stream a result is.
type resultKind uint8

const (
	kindName      resultKind = iota // {"type":"name"}: counts in max= and matches
	kindMatch                       // {"type":"match"}: counts in max= and matches
	kindContext                     // {"type":"context"}: a line around a match; counts nowhere
	kindFileError                   // {"type":"file_error"}: counts in errors only
)

// result is one line for the client.
type result struct {
	kind   resultKind
	path   string
	line   int    // match, context
	text   string // match, context: the line, cut to maxLine bytes; file_error: why
	ms, me int    // match: the first match in the line, [ms, me) byte offsets
}

// counts reports whether a result counts in max= and "matches".
func (r *result) counts() bool { return r.kind == kindName || r.kind == kindMatch }

// schema is the version of the stream's JSON lines (SEARCH-API), also sent
// as the X-Search-Schema header.
const schema = "2"

// resultsCap bounds the channel from the walkers to the HTTP writer: a slow
// client slows the scan instead of filling memory.
const resultsCap = 256

// cutGrace is how long past its deadline a response may take to be
// delivered before its connection is closed (SEARCH-API: "cut").
const cutGrace = 200 * time.Millisecond

// progressEvery is the period of the progress lines.
const progressEvery = 250 * time.Millisecond

// scanState is what the walkers of one request share.
type scanState struct {
	s       *server
	q       *query
	done    <-chan struct{} // the scan's context: request + timeout + limit
	results chan result
	files   atomic.Int64
	bytes   atomic.Int64
	skipped atomic.Int64
	errors  atomic.Int64
	queue   dirQueue
}

// runScan starts the walkers under a context derived from r.Context() (which
// net/http cancels when the client hangs up or the server shuts down), then
// writes their results, a progress line every 250 ms and a final line; it
// returns once every walker is joined, and logs the request.
func (s *server) runScan(w http.ResponseWriter, r *http.Request, id int64, q *query, start time.Time) {
	s.scansWG.Add(1)
	defer s.scansWG.Done()
	s.vars.scansInProgress.Add(1)
	defer s.vars.scansInProgress.Add(-1)

	reqCtx := r.Context()
	// The response must be delivered by the deadline plus cutGrace: a
	// client that stops reading would otherwise hold a blocked Write, and
	// with it this scan's slot, for as long as it stays connected.
	conn, _ := reqCtx.Value(connKey{}).(net.Conn)
	setWriteDeadline := func(t time.Time) {
		if conn != nil {
			conn.SetWriteDeadline(t)
		}
	}
	cutAt := start.Add(q.timeout + cutGrace)
	setWriteDeadline(cutAt)
	ctx, cancel := context.WithTimeout(reqCtx, q.timeout)
	s.vars.contextsAlive.Add(1)
	defer func() { cancel(); s.vars.contextsAlive.Add(-1) }()
	scanCtx, stopScan := context.WithCancel(ctx) // stopScan: the result limit
	s.vars.contextsAlive.Add(1)
	defer func() { stopScan(); s.vars.contextsAlive.Add(-1) }()

	st := &scanState{s: s, q: q, done: scanCtx.Done(), results: make(chan result, resultsCap)}
	st.queue.init(dirItem{rel: q.rel, level: 1})

	// The hang-up watcher records when the server saw the request's context
	// end (client gone or shutdown); finished ends it otherwise.
	var hangupAt atomic.Pointer[time.Time]
	markHangup := func() {
		t := time.Now()
		hangupAt.CompareAndSwap(nil, &t)
	}
	finished := make(chan struct{})
	var aux sync.WaitGroup
	aux.Add(2)
	go func() {
		defer aux.Done()
		select {
		case <-reqCtx.Done():
			markHangup()
			// Nothing more is written for a client that left or a
			// server that shuts down: end a Write blocked on a full
			// socket buffer now.
			setWriteDeadline(time.Now())
		case <-finished:
		}
	}()
	// The queue's waiters sleep on a sync.Cond; this wakes them on cancel.
	go func() {
		defer aux.Done()
		select {
		case <-scanCtx.Done():
			st.queue.stop()
		case <-finished:
		}
	}()

	var walkers sync.WaitGroup
	var joinedAt time.Time
	for i := 0; i < s.cfg.workers; i++ {
		walkers.Add(1)
		s.vars.workersAlive.Add(1)
		go func() {
			defer func() { s.vars.workersAlive.Add(-1); walkers.Done() }()
			st.walk()
		}()
	}
	go func() {
		walkers.Wait()
		joinedAt = time.Now() // read after close(results) is seen: happens-before
		close(st.results)
	}()

	h := w.Header()
	h.Set("Content-Type", "application/x-ndjson")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Search-Schema", schema)
	w.WriteHeader(http.StatusOK)
	fl, _ := w.(http.Flusher)
	if fl != nil {
		fl.Flush()
	}

	var (
		buf      []byte
		matches  int
		limitHit bool
		dead     bool // the client is gone: stop writing
		stalled  bool // a write passed the deadline + cutGrace: the client stopped reading
		reqDone  = reqCtx.Done()
	)
	send := func() {
		if dead || len(buf) == 0 {
			buf = buf[:0]
			return
		}
		_, err := w.Write(buf)
		if err == nil && fl != nil {
			fl.Flush()
		}
		buf = buf[:0]
		if err != nil { // a failed write is a hang-up too
			dead = true
			// Past cutAt: the cut (net/http has canceled reqCtx by now,
			// so the clock tells it from a hang-up's deadline of "now").
			stalled = errors.Is(err, os.ErrDeadlineExceeded) && !time.Now().Before(cutAt)
			markHangup()
			stopScan()
		}
	}
	take := func(res result) {
		if limitHit {
			return // drained after the limit: not sent
		}
		buf = appendResult(buf, &res)
		if !res.counts() {
			return
		}
		matches++
		if matches >= q.max {
			limitHit = true
			stopScan()
		}
	}
	tick := time.NewTicker(progressEvery)
	defer tick.Stop()
loop:
	for {
		select {
		case res, ok := <-st.results:
			if !ok {
				break loop
			}
			take(res)
			// Batch what is already there into one write.
		batch:
			for n := 0; n < resultsCap; n++ {
				select {
				case res, ok := <-st.results:
					if !ok {
						break batch
					}
					take(res)
				default:
					break batch
				}
			}
			send()
		case <-tick.C:
			buf = append(buf, `{"type":"progress","files":`...)
			buf = strconv.AppendInt(buf, st.files.Load(), 10)
			buf = append(buf, `,"bytes":`...)
			buf = strconv.AppendInt(buf, st.bytes.Load(), 10)
			buf = append(buf, `,"elapsed_ms":`...)
			buf = strconv.AppendInt(buf, time.Since(start).Milliseconds(), 10)
			buf = append(buf, "}\n"...)
			send()
		case <-reqDone:
			dead = true // nobody to write to; keep draining until joined
			reqDone = nil
		}
	}
	// Every walker is joined here (results was closed after walkers.Wait).
	close(finished)
	aux.Wait()

	reason := "complete"
	switch {
	case stalled:
		reason = "stalled"
	case limitHit:
		reason = "limit"
	case reqCtx.Err() != nil || dead:
		reason = "canceled"
		s.vars.scansCanceled.Add(1)
	case ctx.Err() == context.DeadlineExceeded:
		reason = "deadline"
	case st.errors.Load() > 0:
		reason = "incomplete" // walked the whole tree, but some of it unsearched
	}
	ms := time.Since(start).Milliseconds()
	buf = append(buf, `{"type":"done","reason":"`...)
	buf = append(buf, reason...)
	buf = append(buf, `","files":`...)
	buf = strconv.AppendInt(buf, st.files.Load(), 10)
	buf = append(buf, `,"bytes":`...)
	buf = strconv.AppendInt(buf, st.bytes.Load(), 10)
	buf = append(buf, `,"matches":`...)
	buf = strconv.AppendInt(buf, int64(matches), 10)
	buf = append(buf, `,"skipped":`...)
	buf = strconv.AppendInt(buf, st.skipped.Load(), 10)
	buf = append(buf, `,"errors":`...)
	buf = strconv.AppendInt(buf, st.errors.Load(), 10)
	buf = append(buf, `,"elapsed_ms":`...)
	buf = strconv.AppendInt(buf, ms, 10)
	buf = append(buf, `,"schema":`+schema+"}\n"...)
	send()
	if !dead {
		setWriteDeadline(time.Time{}) // the connection may carry the next request
	}

	line := "search id=" + strconv.FormatInt(id, 10) + " end=" + reason +
		" files=" + strconv.FormatInt(st.files.Load(), 10) +
		" bytes=" + strconv.FormatInt(st.bytes.Load(), 10) +
		" matches=" + strconv.Itoa(matches) +
		" ms=" + strconv.FormatInt(ms, 10)
	if reason == "stalled" {
		line += " cut=deadline"
	}
	if reason == "canceled" {
		hang := joinedAt
		if p := hangupAt.Load(); p != nil {
			hang = *p
		}
		h := joinedAt.Sub(hang)
		if h < 0 {
			h = 0
		}
		line += " hangup_to_joined_ms=" + strconv.FormatFloat(float64(h.Nanoseconds())/1e6, 'f', 3, 64) +
			" joined_unix_ns=" + strconv.FormatInt(joinedAt.UnixNano(), 10)
	}
	s.logf("%s\n", line)
}
