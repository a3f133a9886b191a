package main

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"sync"
	"unicode"
	"unicode/utf8"
)

// chunk is how much of a file is read between two looks at the context.
const chunk = 64 << 10

// binaryProbe: a file with a NUL in its first 8 KiB is binary and skipped
// (as in gochan-search).
const binaryProbe = 8 << 10

func min(a, b int) int {
	if a < b {
		return a
	}
	return b
}

// maxLine is how much of a matching line is sent.
const maxLine = 200

// dirItem is a directory to read: its path relative to the served root and
// its level below the request's root (1: the root itself, whose files are at
// depth 1).
type dirItem struct {
	rel   string
	level int
}

// dirQueue is the walk's shared stack of directories still to read. pending
// counts directories queued or being read: the walk is over when it reaches
// zero, or when stop is called.
type dirQueue struct {
	mu      sync.Mutex
	cond    sync.Cond
	stack   []dirItem
	pending int
	stopped bool
}

func (d *dirQueue) init(first dirItem) {
	d.cond.L = &d.mu
	d.stack = append(d.stack, first)
	d.pending = 1
}

func (d *dirQueue) push(dir dirItem) {
	d.mu.Lock()
	d.stack = append(d.stack, dir)
	d.pending++
	d.mu.Unlock()
	d.cond.Signal()
}

// pop waits for a directory; false when the walk is over or stopped.
func (d *dirQueue) pop() (dirItem, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for len(d.stack) == 0 && d.pending > 0 && !d.stopped {
		d.cond.Wait()
	}
	if d.stopped || len(d.stack) == 0 {
		return dirItem{}, false
	}
	dir := d.stack[len(d.stack)-1]
	d.stack = d.stack[:len(d.stack)-1]
	return dir, true
}

// finished marks one popped directory read; the last one wakes every waiter.
func (d *dirQueue) finished() {
	d.mu.Lock()
	d.pending--
	last := d.pending == 0
	d.mu.Unlock()
	if last {
		d.cond.Broadcast()
	}
}

func (d *dirQueue) stop() {
	d.mu.Lock()
	d.stopped = true
	d.mu.Unlock()
	d.cond.Broadcast()
}

// canceled is the walkers' look at the scan's context: a non-blocking receive
// on its Done channel.
func (st *scanState) canceled() bool {
	select {
	case <-st.done:
		return true
	default:
		return false
	}
}

// emit hands a result to the writer, or gives up when the scan is canceled.
func (st *scanState) emit(r result) bool {
	select {
	case st.results <- r:
		return true
	case <-st.done:
		return false
	}
}

// walk is one walker: it reads directories from the queue, queues their
// subdirectories and searches their files, until the walk is over.
func (st *scanState) walk() {
	bp := st.s.bufs.Get().(*[]byte)
	defer st.s.bufs.Put(bp)
	w := walker{st: st, buf: *bp}
	defer func() { *bp = w.buf; w.flush() }()
	for {
		dir, ok := st.queue.pop()
		if !ok {
			return
		}
		w.dir(dir)
		st.queue.finished()
		w.flush()
	}
}

// walker keeps a worker's buffer and its counts, added to the scan's once per
// directory so that the walkers do not share a cache line per file.
type walker struct {
	st                            *scanState
	buf                           []byte
	files, bytes, skipped, errors int64
}

func (w *walker) flush() {
	st := w.st
	st.files.Add(w.files)
	st.bytes.Add(w.bytes)
	st.skipped.Add(w.skipped)
	st.errors.Add(w.errors)
	w.files, w.bytes, w.skipped, w.errors = 0, 0, 0, 0
}

func (w *walker) open(p string) (*os.File, error) {
	f, err := w.st.s.openFile(path.Join(w.st.s.root, p))
	if err == nil {
		w.st.s.vars.fdsHeld.Add(1)
	}
	return f, err
}

func (w *walker) close(f *os.File) {
	f.Close()
	w.st.s.vars.fdsHeld.Add(-1)
}

// errText is why an operation failed, as strerror(3) words it (Go's errno
// texts are strerror's with a lower-case first letter).
func errText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	s := err.Error()
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}

// fileError reports a file or directory that could not be searched, or not
// wholly: it counts 1 in errors, and the done line says "incomplete".
func (w *walker) fileError(p string, err error) bool {
	w.errors++
	return w.st.emit(result{kind: kindFileError, path: p, text: errText(err)})
}

// dir reads one directory. Symlinks are never followed (so a scan never
// leaves the served tree); unreadable directories are reported.
// Entries that hidden=0 or exclude= leave out count nowhere.
func (w *walker) dir(d dirItem) {
	rel := d.rel
	if w.st.canceled() {
		return
	}
	f, err := w.open(rel)
	if err != nil {
		w.fileError(rel, err)
		return
	}
	ents, err := f.ReadDir(-1)
	w.close(f)
	if err != nil && !w.fileError(rel, err) {
		return
	}
	q := w.st.q
	for _, e := range ents {
		if w.st.canceled() {
			return
		}
		name := e.Name()
		p := name
		if rel != "" {
			p = rel + "/" + name
		}
		t := e.Type()
		if q.excluded(p, name, t.IsDir()) {
			continue
		}
		switch {
		case t.IsDir():
			if q.depth == 0 || d.level < q.depth {
				w.st.queue.push(dirItem{rel: p, level: d.level + 1})
			}
		case t.IsRegular():
			if !w.file(p, name) {
				return
			}
		case t&fs.ModeSymlink != 0:
			w.skipped++
		default: // devices, sockets, pipes
			w.skipped++
		}
	}
}

// file handles one regular file; false when the scan is canceled.
func (w *walker) file(p, name string) bool {
	q := w.st.q
	w.files++
	if q.glob != "" {
		if ok, _ := path.Match(q.glob, name); !ok {
			return true
		}
	}
	if !q.content() {
		return w.st.emit(result{kind: kindName, path: p})
	}
	f, err := w.open(p)
	if err != nil { // vanished or unreadable
		return w.fileError(p, err)
	}
	defer w.close(f)
	fi, err := f.Stat()
	if err != nil {
		return w.fileError(p, err)
	}
	if fi.Size() > w.st.s.cfg.maxFileSize {
		w.skipped++
		return true
	}
	if need := int(fi.Size()) + 1; need > len(w.buf) {
		w.buf = make([]byte, need+need/8)
	}
	// Read a chunk at a time, searching the complete lines read so far, and
	// look at the context between chunks.
	m := matcher{w: w, path: p, line: 1, ctxLine: 1}
	n := 0
	for {
		if w.st.canceled() {
			return false
		}
		if n == len(w.buf) { // the file grew while we read it
			if int64(n) > w.st.s.cfg.maxFileSize {
				w.skipped++
				return true
			}
			nb := make([]byte, 2*len(w.buf))
			copy(nb, w.buf[:n])
			w.buf = nb
		}
		end := n + chunk
		if end > len(w.buf) {
			end = len(w.buf)
		}
		k, err := f.Read(w.buf[n:end])
		if n == 0 && bytes.IndexByte(w.buf[:min(k, binaryProbe)], 0) >= 0 {
			w.skipped++ // binary
			w.bytes += int64(k)
			return true
		}
		n += k
		if err == io.EOF || k == 0 {
			break
		}
		if err != nil {
			return w.fileError(p, err)
		}
		if i := bytes.LastIndexByte(w.buf[m.pos:n], '\n'); i >= 0 {
			if !m.search(w.buf[:m.pos+i+1]) {
				return false
			}
		}
	}
	w.bytes += int64(n)
	return m.search(w.buf[:n])
}

// matcher finds the matching lines of one file, a line at most once, keeping
// the line number of pos (the start of the first line not yet searched), and
// sends the context lines around them (before=, after=).
type matcher struct {
	w       *walker
	path    string
	pos     int // data[:pos] is searched
	counted int // newlines in data[:counted] are counted in line
	line    int
	// Context: data[:ctxPos] is sent or passed over; ctxPos starts line
	// ctxLine; lines up to afterTo follow a match and are sent as context.
	ctxPos, ctxLine, afterTo int
}

// send hands one match or context line (data[ls:le], line number n) on.
func (m *matcher) send(kind resultKind, data []byte, ls, le, n, ms, me int) bool {
	text := data[ls:le]
	text = text[:utf8Cut(text, maxLine)]
	return m.w.st.emit(result{kind: kind, path: m.path, line: n, text: string(text), ms: ms, me: me})
}

// afterContext sends the lines that follow the last match, from ctxPos up
// to limit (a line start, or the end of data) and line afterTo.
func (m *matcher) afterContext(data []byte, limit int) bool {
	for m.ctxPos < limit && m.ctxLine <= m.afterTo {
		le := limit
		if k := bytes.IndexByte(data[m.ctxPos:limit], '\n'); k >= 0 {
			le = m.ctxPos + k
		}
		if !m.send(kindContext, data, m.ctxPos, le, m.ctxLine, 0, 0) {
			return false
		}
		m.ctxPos, m.ctxLine = le+1, m.ctxLine+1
	}
	return true
}

// context sends what goes before the match line data[ls:] (line n): the
// rest of the previous match's after-lines, then up to q.before lines not
// sent yet; it leaves ctxPos at the match line.
func (m *matcher) context(data []byte, ls, n int) bool {
	q := m.w.st.q
	if q.before == 0 && q.after == 0 {
		return true
	}
	if !m.afterContext(data, ls) {
		return false
	}
	start, k := ls, 0
	for k < q.before && start > m.ctxPos {
		start = bytes.LastIndexByte(data[:start-1], '\n') + 1
		k++
	}
	for ln := n - k; start < ls; ln++ {
		le := start + bytes.IndexByte(data[start:ls], '\n')
		if !m.send(kindContext, data, start, le, ln, 0, 0) {
			return false
		}
		start = le + 1
	}
	return true
}

// search searches data[m.pos:], which ends at a line end (or the file's end).
func (m *matcher) search(data []byte) bool {
	q := m.w.st.q
	for m.pos < len(data) {
		var i, j int
		if q.lit != nil {
			i = bytes.Index(data[m.pos:], q.lit)
			if i < 0 {
				m.pos = len(data)
				break
			}
			i += m.pos
			j = i + len(q.lit)
		} else {
			loc := q.re.FindIndex(data[m.pos:])
			if loc == nil {
				m.pos = len(data)
				break
			}
			i, j = loc[0]+m.pos, loc[1]+m.pos
		}
		ls := bytes.LastIndexByte(data[:i], '\n') + 1
		if ls < m.pos {
			ls = m.pos
		}
		le := len(data)
		if k := bytes.IndexByte(data[i:], '\n'); k >= 0 {
			le = i + k
		}
		if i == len(data) && ls == i { // an empty match past the last line
			m.pos = len(data)
			break
		}
		next := le + 1
		// A regexp match that runs over the line end (\s, [^x]) is not a
		// match of the line: grep's rule is the line alone, and so is the
		// reported submatch.
		if q.re != nil && j > le {
			loc := q.re.FindIndex(data[ls:le])
			if loc == nil {
				m.pos = next
				continue
			}
			i, j = ls+loc[0], ls+loc[1]
		}
		m.line += bytes.Count(data[m.counted:ls], []byte{'\n'})
		m.counted = ls
		if !m.context(data, ls, m.line) {
			return false
		}
		if !m.send(kindMatch, data, ls, le, m.line, i-ls, j-ls) {
			return false
		}
		m.ctxPos, m.ctxLine, m.afterTo = next, m.line+1, m.line+q.after
		m.pos = next
	}
	if m.pos > len(data) {
		m.pos = len(data)
	}
	return m.afterContext(data, len(data))
}
