//go:build ignore

// bench/go/context_bench.go - the Go twin of bench/context_bench.c: the same
// cases, the same logic and the same n, so the two can be run side by side
// (bench/run.sh).  Built together with harness.go
// (the protocol and runners every twin shares):
//
//	GO111MODULE=off go build -o context_bench context_bench.go harness.go
//
// Modelled on Go's src/context/benchmark_test.go (WithTimeout, CancelTree,
// CheckCanceled, DeepValue).  Every case runs on one goroutine.  Go frees
// with its garbage collector (whose work lands in the timed loops); the C
// twin frees explicitly inside them.
package main

import (
	"context"
	"time"
)

// withcancel_cancel: WithCancel(Background) + cancel, per op.  Background is
// never cancelled, so the child links into no parent; Done is never asked
// for, so the cancel stores the shared closed channel.
func withcancelCancel(n *int) time.Duration {
	bg := context.Background()
	t0 := time.Now()
	for i := 0; i < *n; i++ {
		_, cancel := context.WithCancel(bg)
		cancel()
	}
	return time.Since(t0)
}

// withcancel_nested_cancel: WithCancel(cancelable parent) + cancel: the child
// is added to the parent's children map and removed by its cancel.
func withcancelNestedCancel(n *int) time.Duration {
	parent, cancelParent := context.WithCancel(context.Background())
	t0 := time.Now()
	for i := 0; i < *n; i++ {
		_, cancel := context.WithCancel(parent)
		cancel()
	}
	d := time.Since(t0)
	check(parent.Err() == nil, "nested: parent still live")
	cancelParent()
	return d
}

// withtimeout_cancel: WithTimeout(Background, 1 h) + cancel, per op: a timer
// heap insert and removal plus the context itself.
func withtimeoutCancel(n *int) time.Duration {
	bg := context.Background()
	t0 := time.Now()
	for i := 0; i < *n; i++ {
		_, cancel := context.WithTimeout(bg, time.Hour)
		cancel()
	}
	return time.Since(t0)
}

// value_depth10: Value through 10 WithValue contexts, looking up the key of
// the first WithValue (next to Background): the lookup walks the whole chain.
// Keys are addresses, as in the C twin.
const valueDepth = 10

var keys, vals [valueDepth]int64

func valueDepth10(n *int) time.Duration {
	ctx := context.Background()
	for d := 0; d < valueDepth; d++ {
		ctx = context.WithValue(ctx, &keys[d], &vals[d])
	}
	var key any = &keys[0]
	want := &vals[0]
	hits := 0
	t0 := time.Now()
	for i := 0; i < *n; i++ {
		if p, _ := ctx.Value(key).(*int64); p == want {
			hits++
		}
	}
	d := time.Since(t0)
	check(hits == *n, "value hits")
	return d
}

// err_uncancelled: Err() of a live WithCancel context.
func errUncancelled(n *int) time.Duration {
	ctx, cancel := context.WithCancel(context.Background())
	errs := 0
	t0 := time.Now()
	for i := 0; i < *n; i++ {
		if ctx.Err() != nil {
			errs++
		}
	}
	d := time.Since(t0)
	check(errs == 0, "err on a live context")
	cancel()
	return d
}

// cancel_fanout_1000: one op cancels a WithCancel parent (of Background) with
// fanout WithCancel children, each of whose Done channel has been asked for
// (so every cancel closes a real channel).  Only the parent's cancel is
// timed, op by op: building the tree, checking that every child's Done is
// closed and dropping it all happen outside the clock (but the garbage
// collection the building causes may land inside it).
const fanout = 1000

func cancelFanout1000(n *int) time.Duration {
	kids := make([]context.Context, fanout)
	cancels := make([]context.CancelFunc, fanout)
	done := make([]<-chan struct{}, fanout)
	var total time.Duration
	for i := 0; i < *n; i++ {
		parent, cancelParent := context.WithCancel(context.Background())
		for k := range kids {
			kids[k], cancels[k] = context.WithCancel(parent)
			done[k] = kids[k].Done()
		}
		t0 := time.Now()
		cancelParent()
		total += time.Since(t0)
		for k := range kids {
			select {
			case _, ok := <-done[k]:
				check(!ok, "fanout: Done closed")
			default:
				check(false, "fanout: Done not closed")
			}
			check(kids[k].Err() == context.Canceled, "fanout: child cancelled")
			cancels[k]()
			kids[k], cancels[k], done[k] = nil, nil, nil
		}
	}
	return total
}

var cases = []benchCase{
	{"withcancel_cancel", 2000000, withcancelCancel},
	{"withcancel_nested_cancel", 2000000, withcancelNestedCancel},
	{"withtimeout_cancel", 1000000, withtimeoutCancel},
	{"value_depth10", 20000000, valueDepth10},
	{"err_uncancelled", 50000000, errUncancelled},
	{"cancel_fanout_1000", 1000, cancelFanout1000},
}

func main() { benchMain(cases) }
