package main

import (
	"bytes"
	"io"
	"io/fs"
	"os"
	"path"
	"sync"
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

// dirQueue is the walk's shared stack of directories still to read (paths
// relative to the served root). pending counts directories queued or being
// read: the walk is over when it reaches zero, or when stop is called.
type dirQueue struct {
	mu      sync.Mutex
	cond    sync.Cond
	stack   []string
	pending int
	stopped bool
}

func (d *dirQueue) init(first string) {
	d.cond.L = &d.mu
	d.stack = append(d.stack, first)
	d.pending = 1
}

func (d *dirQueue) push(dir string) {
	d.mu.Lock()
	d.stack = append(d.stack, dir)
	d.pending++
	d.mu.Unlock()
	d.cond.Signal()
}

// pop waits for a directory; false when the walk is over or stopped.
func (d *dirQueue) pop() (string, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for len(d.stack) == 0 && d.pending > 0 && !d.stopped {
		d.cond.Wait()
	}
	if d.stopped || len(d.stack) == 0 {
		return "", false
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
	f, err := os.Open(path.Join(w.st.s.root, p))
	if err == nil {
		w.st.s.vars.fdsHeld.Add(1)
	}
	return f, err
}

func (w *walker) close(f *os.File) {
	f.Close()
	w.st.s.vars.fdsHeld.Add(-1)
}

// dir reads one directory. Symlinks are never followed (so a scan never
// leaves the served tree); unreadable directories count as errors.
func (w *walker) dir(rel string) {
	if w.st.canceled() {
		return
	}
	f, err := w.open(rel)
	if err != nil {
		w.errors++
		return
	}
	ents, err := f.ReadDir(-1)
	w.close(f)
	if err != nil {
		w.errors++
	}
	for _, e := range ents {
		if w.st.canceled() {
			return
		}
		name := e.Name()
		p := name
		if rel != "" {
			p = rel + "/" + name
		}
		switch t := e.Type(); {
		case t.IsDir():
			w.st.queue.push(p)
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
		return w.st.emit(result{path: p})
	}
	f, err := w.open(p)
	if err != nil { // vanished or unreadable
		w.errors++
		return true
	}
	defer w.close(f)
	fi, err := f.Stat()
	if err != nil {
		w.errors++
		return true
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
	m := matcher{w: w, path: p, line: 1}
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
			w.errors++
			return true
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
// the line number of pos (the start of the first line not yet searched).
type matcher struct {
	w       *walker
	path    string
	pos     int // data[:pos] is searched
	counted int // newlines in data[:counted] are counted in line
	line    int
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
		// match of the line: grep's rule is the line alone.
		if q.re != nil && j > le && !q.re.Match(data[ls:le]) {
			m.pos = next
			continue
		}
		m.line += bytes.Count(data[m.counted:ls], []byte{'\n'})
		m.counted = ls
		text := data[ls:le]
		if len(text) > maxLine {
			text = text[:maxLine]
		}
		if !m.w.st.emit(result{path: m.path, line: m.line, text: string(text)}) {
			return false
		}
		m.pos = next
	}
	if m.pos > len(data) {
		m.pos = len(data)
	}
	return true
}
