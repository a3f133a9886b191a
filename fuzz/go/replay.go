// Command replay runs fuzz_model's channel programs on Go's own runtime and
// prints the canonical outcome of every step, for fuzz/diff.sh to compare
// with fuzz/diff_model (the same programs on gochan).
//
//	go run fuzz/go/replay.go FILE|DIR...
//
// For each input it prints "== NAME" (NAME: the file's base name) and then
// one line per step.  The byte decoding is the one documented at the top of
// fuzz/fuzz_model.c: change both or neither.  Go's panics are recovered and
// printed as gochan's error codes are ("panic: send on closed channel",
// "panic: close of closed channel", "panic: close of nil channel").  A plain
// operation on a nil slot prints "EINVAL" (gochan's answer for a NULL
// channel) without touching Go.  Selects with several ready cases are run,
// as in the C twin's diff mode, with only the lowest-numbered ready case
// left in (the others become nil channels); the set of ready cases is
// printed and compared.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"time"
)

const (
	nslot    = 4
	maxSteps = 512
	maxTimed = 16
	timedNS  = 20000
	maxHeld  = 8
	maxElem  = 33
)

var sizes = [4]int{0, 1, 8, 33}
var caps = [8]int{0, 1, 2, 3, 4, 1, 9, 64}

// gch is one channel and what the interpreter knows about it.
type gch struct {
	v      reflect.Value
	esize  int
	closed bool
	refs   int
}

type slot struct {
	c    *gch
	held int
}

type run struct {
	d     []byte
	pos   int
	slot  [nslot]slot
	seq   uint32
	timed int
	line  strings.Builder
}

func (r *run) next() byte {
	if r.pos < len(r.d) {
		b := r.d[r.pos]
		r.pos++
		return b
	}
	return 0
}

func (r *run) lp(format string, a ...interface{}) { fmt.Fprintf(&r.line, format, a...) }

// fill gives the bytes of value seq for an element of size bytes.
func fill(seq uint32, size int) []byte {
	b := make([]byte, size)
	for i := range b {
		b[i] = byte(seq>>(8*(uint(i)%4))) ^ byte(i*0x35)
	}
	return b
}

func elemValue(c *gch, seq uint32) reflect.Value {
	v := reflect.New(c.v.Type().Elem()).Elem()
	reflect.Copy(v, reflect.ValueOf(fill(seq, c.esize)))
	return v
}

func hexOf(v reflect.Value) string {
	var sb strings.Builder
	for i := 0; i < v.Len(); i++ {
		fmt.Fprintf(&sb, "%02x", byte(v.Index(i).Uint()))
	}
	return sb.String()
}

func (r *run) drop(s int) {
	c := r.slot[s].c
	if c == nil {
		return
	}
	c.refs -= r.slot[s].held
	r.slot[s] = slot{}
}

func sendReady(c *gch) bool { return c != nil && (c.closed || c.v.Len() < c.v.Cap()) }
func recvReady(c *gch) bool { return c != nil && (c.v.Len() > 0 || c.closed) }

func (r *run) timedOrNowait() string {
	if r.timed < maxTimed {
		r.timed++
		return "timed"
	}
	return "nowait"
}

func (r *run) opMode(aux int, readyOrNil bool) string {
	switch aux {
	case 0:
		return "try"
	case 1:
		return "nowait"
	case 2:
		return "past"
	}
	if readyOrNil {
		return "block"
	}
	return r.timedOrNowait()
}

func panicText(p interface{}) string {
	return "panic: " + fmt.Sprint(p)
}

// trySelect runs reflect.Select over cases, non-blocking (with a default
// case) or blocking; it returns the chosen index (-1 for default), the
// received value and ok, or the text of a recovered panic.
func trySelect(cases []reflect.SelectCase, block bool) (chosen int, v reflect.Value, ok bool, panicked string) {
	defer func() {
		if p := recover(); p != nil {
			panicked = panicText(p)
		}
	}()
	if !block {
		cases = append(cases, reflect.SelectCase{Dir: reflect.SelectDefault})
	}
	chosen, v, ok = reflect.Select(cases)
	if !block && chosen == len(cases)-1 {
		chosen = -1
	}
	return
}

// waitSelect is a select with a 20 us timeout: first a non-blocking try (so
// that a ready case always wins over the timer), then a wait with a timer
// case.  Returns -1 on timeout.
func waitSelect(cases []reflect.SelectCase) (int, reflect.Value, bool, string) {
	k, v, ok, p := trySelect(cases, false)
	if k >= 0 || p != "" {
		return k, v, ok, p
	}
	t := time.NewTimer(timedNS * time.Nanosecond)
	defer t.Stop()
	all := append(append([]reflect.SelectCase{}, cases...),
		reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(t.C)})
	k, v, ok, p = trySelect(all, true)
	if k == len(all)-1 {
		k = -1
	}
	return k, v, ok, p
}

// runOne performs a single send or receive case in the given mode; it
// returns the result like the C function would ("ok", "EAGAIN", ...), plus
// the received value and ok for receives.
func runOne(sc reflect.SelectCase, mode string) (res string, v reflect.Value, ok bool) {
	var k int
	var p string
	switch mode {
	case "try", "nowait", "past":
		k, v, ok, p = trySelect([]reflect.SelectCase{sc}, false)
	case "block":
		k, v, ok, p = trySelect([]reflect.SelectCase{sc}, true)
	default: // timed
		k, v, ok, p = waitSelect([]reflect.SelectCase{sc})
	}
	switch {
	case p != "":
		return p, v, ok
	case k == 0:
		return "ok", v, ok
	case mode == "try":
		return "EAGAIN", v, ok
	default:
		return "ETIMEDOUT", v, ok
	}
}

func (r *run) opMake(s int) {
	m := r.next()
	size, cp := sizes[m&3], caps[(m>>2)&7]
	r.lp("make s%d size=%d cap=%d", s, size, cp)
	r.drop(s)
	t := reflect.ChanOf(reflect.BothDir, reflect.ArrayOf(size, reflect.TypeOf(byte(0))))
	c := &gch{v: reflect.MakeChan(t, cp), esize: size, refs: 1}
	r.slot[s] = slot{c: c, held: 1}
}

func (r *run) opSend(s, aux int) {
	c := r.slot[s].c
	r.seq++
	v := r.seq
	mode := r.opMode(aux, c == nil || sendReady(c))
	r.lp("send s%d v=%d %s -> ", s, v, mode)
	if c == nil {
		r.lp("EINVAL")
		return
	}
	res, _, _ := runOne(reflect.SelectCase{Dir: reflect.SelectSend, Chan: c.v, Send: elemValue(c, v)}, mode)
	r.lp("%s", res)
}

func (r *run) recvText(c *gch, v reflect.Value, ok, discard, nook bool) {
	switch {
	case nook:
		r.lp("recv0 v=")
	case ok:
		r.lp("ok v=")
	default:
		r.lp("closed v=")
	}
	if discard {
		r.lp("_")
	} else {
		r.lp("%s", hexOf(v))
	}
}

func (r *run) opRecv(s, aux int) {
	c := r.slot[s].c
	f := r.next()
	discard, nook := f&1 != 0, f&2 != 0
	mode := r.opMode(aux, c == nil || recvReady(c))
	r.lp("recv s%d %s -> ", s, mode)
	if c == nil {
		r.lp("EINVAL")
		return
	}
	res, v, ok := runOne(reflect.SelectCase{Dir: reflect.SelectRecv, Chan: c.v}, mode)
	if res != "ok" {
		r.lp("%s", res)
		return
	}
	r.recvText(c, v, ok, discard, nook)
}

func (r *run) opClose(s int) {
	c := r.slot[s].c
	r.lp("close s%d -> ", s)
	func() {
		defer func() {
			if p := recover(); p != nil {
				r.lp("%s", panicText(p))
			}
		}()
		if c == nil {
			var nilch chan struct{}
			close(nilch)
		}
		c.v.Close()
		c.closed = true
		r.lp("ok")
	}()
}

func (r *run) opSelect(aux int, big bool) {
	n := r.next()
	base := int(n % 9)
	total := base
	if base == 0 {
		total = 0
	} else if big {
		total = 65 + int((n>>4)&7)
	}
	cb := make([]byte, base)
	cg := make([]*gch, total)
	seqs := make([]uint32, base)
	for i := 0; i < base; i++ {
		c := r.next()
		cb[i] = c
		if c&8 == 0 {
			cg[i] = r.slot[(c>>1)&3].c
		}
		if c&1 != 0 {
			r.seq++
			seqs[i] = r.seq
		}
	}
	for i := base; i < total; i++ {
		cg[i] = cg[i%base]
	}
	ready := make([]bool, total)
	nready, first := 0, -1
	for i := 0; i < total; i++ {
		if cb[i%base]&1 != 0 {
			ready[i] = sendReady(cg[i])
		} else {
			ready[i] = recvReady(cg[i])
		}
		if ready[i] {
			if nready == 0 {
				first = i
			}
			nready++
		}
	}
	var mode string
	switch aux {
	case 0:
		mode = "nowait"
	case 1:
		mode = "past"
	case 2:
		mode = r.timedOrNowait()
	default:
		if nready > 0 {
			mode = "forever"
		} else {
			mode = r.timedOrNowait()
		}
	}
	r.lp("select %s x%d [", mode, total)
	for i := 0; i < base; i++ {
		c := cb[i]
		ch := string(rune('0' + (c>>1)&3))
		if c&8 != 0 {
			ch = "-"
		}
		sep := ""
		if i > 0 {
			sep = ","
		}
		nk := ""
		if c&32 != 0 {
			nk = "n"
		}
		if c&1 != 0 {
			r.lp("%ss%s=%d%s", sep, ch, seqs[i], nk)
		} else {
			d := ""
			if c&16 != 0 {
				d = "d"
			}
			r.lp("%sr%s%s%s", sep, ch, d, nk)
		}
	}
	r.lp("] -> ready={")
	j := 0
	for i := 0; i < total; i++ {
		if ready[i] {
			if j > 0 {
				r.lp(",")
			}
			j++
			r.lp("%d", i)
		}
	}
	r.lp("} ")

	nilT := reflect.ChanOf(reflect.BothDir, reflect.TypeOf([0]byte{}))
	cases := make([]reflect.SelectCase, total)
	for i := 0; i < total; i++ {
		c := cg[i]
		send := cb[i%base]&1 != 0
		if c == nil || (ready[i] && i != first) {
			// A nil channel: never ready (Go's nil channel case).
			cases[i] = reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.Zero(nilT)}
			if send {
				cases[i] = reflect.SelectCase{Dir: reflect.SelectSend, Chan: reflect.Zero(nilT),
					Send: reflect.Zero(nilT.Elem())}
			}
			continue
		}
		if send {
			cases[i] = reflect.SelectCase{Dir: reflect.SelectSend, Chan: c.v, Send: elemValue(c, seqs[i%base])}
		} else {
			cases[i] = reflect.SelectCase{Dir: reflect.SelectRecv, Chan: c.v}
		}
	}
	var k int
	var v reflect.Value
	var ok bool
	var p string
	switch mode {
	case "nowait", "past":
		k, v, ok, p = trySelect(cases, false)
	case "forever":
		k, v, ok, p = trySelect(cases, true)
	default:
		k, v, ok, p = waitSelect(cases)
	}
	if p != "" {
		k = first // only one case could run: the first ready one
	}
	if k < 0 {
		if mode == "nowait" {
			r.lp("default")
		} else {
			r.lp("timeout")
		}
		return
	}
	r.lp("fired=%d ", k)
	c := cb[k%base]
	if c&1 != 0 {
		switch {
		case c&32 != 0:
			r.lp("sent0")
		case p != "":
			r.lp("%s", p)
		default:
			r.lp("ok")
		}
		return
	}
	r.recvText(cg[k], v, ok, c&16 != 0, c&32 != 0)
}

func (r *run) program(d []byte) []string {
	r.d = d
	var out []string
	for step := 0; step < maxSteps && r.pos < len(r.d); step++ {
		b := r.next()
		op, s, aux := int(b&15), int((b>>4)&3), int(b>>6)
		r.line.Reset()
		r.lp("%d ", step)
		c := r.slot[s].c
		switch op {
		case 0:
			r.opMake(s)
		case 1, 14:
			r.opSend(s, aux)
		case 2, 15:
			r.opRecv(s, aux)
		case 3:
			r.opClose(s)
		case 4:
			n := 0
			if c != nil {
				n = c.v.Len()
			}
			r.lp("len s%d -> %d", s, n)
		case 5:
			n, sz := 0, 0
			if c != nil {
				n, sz = c.v.Cap(), int(c.v.Type().Elem().Size())
			}
			r.lp("cap s%d -> %d size=%d", s, n, sz)
		case 6:
			if c == nil {
				r.lp("ref s%d -> nil", s)
			} else {
				if r.slot[s].held < maxHeld {
					r.slot[s].held++
					c.refs++
				}
				r.lp("ref s%d -> held=%d", s, r.slot[s].held)
			}
		case 7:
			if c == nil {
				r.lp("unref s%d -> EINVAL", s)
			} else {
				c.refs--
				r.slot[s].held--
				if r.slot[s].held == 0 {
					r.slot[s].c = nil
				}
				r.lp("unref s%d -> held=%d", s, r.slot[s].held)
			}
		case 8, 9:
			r.opSelect(aux, op == 9)
		case 10:
			r.lp("badnew")
		case 11:
			r.lp("misuse")
		case 12:
			t := int(r.next() & 3)
			r.lp("dup s%d s%d", s, t)
			if c == nil {
				r.drop(t)
			} else if s != t {
				r.drop(t)
				c.refs++
				r.slot[t] = slot{c: c, held: 1}
			}
		default:
			r.lp("drop s%d", s)
			r.drop(s)
		}
		out = append(out, r.line.String())
	}
	return out
}

func files(args []string) []string {
	var fs []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			fmt.Fprintf(os.Stderr, "skip %s: %v\n", a, err)
			continue
		}
		if !st.IsDir() {
			fs = append(fs, a)
			continue
		}
		ents, err := os.ReadDir(a)
		if err != nil {
			fmt.Fprintf(os.Stderr, "skip %s: %v\n", a, err)
			continue
		}
		var names []string
		for _, e := range ents {
			if e.Type().IsRegular() && !strings.HasPrefix(e.Name(), ".") {
				names = append(names, filepath.Join(a, e.Name()))
			}
		}
		sort.Strings(names)
		fs = append(fs, names...)
	}
	return fs
}

func main() {
	for _, f := range files(os.Args[1:]) {
		d, err := os.ReadFile(f)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", f, err)
			os.Exit(2)
		}
		fmt.Printf("== %s\n", filepath.Base(f))
		var r run
		for _, l := range r.program(d) {
			fmt.Println(l)
		}
	}
}
