// gochan-search-go: the Go twin of gochan-search (search/), the same service
// written the way a Go programmer would: net/http, r.Context(), a parallel
// walk of goroutines joined by a sync.WaitGroup. Standard library only, so it
// builds offline with Debian's Go 1.19:
//
//	cd search/go && GOFLAGS=-mod=mod GOPROXY=off go build -o ../../zig-out/bin/gochan-search-go .
//	cd search/go && GOFLAGS=-mod=mod GOPROXY=off go test .
//
// Both services follow one contract (search/API.md): the same flags, API,
// JSON lines, /debug/vars keys ("blocked" is the goroutine count here) and
// log line. bench/search/run.sh measures them side by side.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// version is the twin's version, set at link time
// (go build -ldflags "-X main.version=V"); --version prints it with the
// stream schema, as gochan-search --version does.
var version = "dev"

type config struct {
	root        string
	listen      string
	port        int
	workers     int
	maxScans    int
	maxResults  int
	maxFileSize int64
	maxTimeout  time.Duration
	version     bool // --version: print it and exit
}

// parseFlags reads the flags of SEARCH-API. Go's flag package accepts both
// --name and -name, with "=value" or a separate argument.
func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("gochan-search-go", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.root, "root", "", "the served tree (required)")
	fs.StringVar(&c.listen, "listen", "127.0.0.1", "address to listen on")
	fs.IntVar(&c.port, "port", 8080, "port (0 picks a free one)")
	fs.IntVar(&c.workers, "workers", runtime.GOMAXPROCS(0), "walk goroutines per scan (default GOMAXPROCS)")
	fs.IntVar(&c.maxScans, "max-scans", 8, "concurrent scans; past it 503")
	fs.IntVar(&c.maxResults, "max-results", 10000, "results per request")
	c.maxFileSize = 8 << 20
	fs.Var((*sizeFlag)(&c.maxFileSize), "max-file-size", "larger files are skipped (bytes, or K/M/G: powers of 1024, optional B or iB)")
	fs.DurationVar(&c.maxTimeout, "max-timeout", 60*time.Second, "longest request time")
	fs.BoolVar(&c.version, "version", false, "print the version and the stream schema, and exit")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if c.version {
		return c, nil
	}
	switch {
	case fs.NArg() != 0:
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case c.root == "":
		return c, errors.New("--root DIR is required")
	case c.port < 0 || c.port > 65535:
		return c, errors.New("--port must be 0..65535")
	case c.workers < 1:
		return c, errors.New("--workers must be >= 1")
	case c.maxScans < 1:
		return c, errors.New("--max-scans must be >= 1")
	case c.maxResults < 1:
		return c, errors.New("--max-results must be >= 1")
	case c.maxFileSize < 0:
		return c, errors.New("--max-file-size must be >= 0")
	case c.maxTimeout <= 0:
		return c, errors.New("--max-timeout must be > 0")
	}
	return c, nil
}

// sizeFlag is a byte count: digits, optionally followed by K, M or G (powers
// of 1024) and an optional B or iB, as the C service's --max-file-size.
type sizeFlag int64

func (f *sizeFlag) String() string { return strconv.FormatInt(int64(*f), 10) }

func (f *sizeFlag) Set(v string) error {
	num := strings.TrimRight(v, "KMGiBkmgb")
	unit := strings.ToUpper(v[len(num):])
	shift := map[string]uint{"": 0, "B": 0, "K": 10, "KB": 10, "KIB": 10, "M": 20, "MB": 20, "MIB": 20,
		"G": 30, "GB": 30, "GIB": 30}
	sh, ok := shift[unit]
	n, err := strconv.ParseInt(num, 10, 64)
	if !ok || err != nil || n < 0 || n > (1<<62)>>sh {
		return errors.New("want bytes, or a number with K, M or G (e.g. 8M)")
	}
	*f = sizeFlag(n << sh)
	return nil
}

func main() {
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "gochan-search-go:", err)
		os.Exit(2)
	}
	if cfg.version {
		fmt.Printf("gochan-search-go %s (stream schema %s)\n", version, schema)
		os.Exit(0)
	}
	s, err := newServer(cfg, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gochan-search-go:", err)
		os.Exit(2)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(cfg.listen, strconv.Itoa(cfg.port)))
	if err != nil {
		fmt.Fprintln(os.Stderr, "gochan-search-go:", err)
		os.Exit(1)
	}
	os.Exit(s.serve(ln, os.Stdout))
}

// serve runs until SIGINT/SIGTERM, then stops accepting, cancels every
// request (their contexts derive from base), waits for the handlers and the
// scans they started, and returns the exit status.
func (s *server) serve(ln net.Listener, stdout *os.File) int {
	base, cancelAll := context.WithCancel(context.Background())
	defer cancelAll()
	srv := &http.Server{
		Handler:           s.mux(),
		BaseContext:       func(net.Listener) context.Context { return base },
		ConnContext:       connContext,
		ReadHeaderTimeout: 10 * time.Second,
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)

	fmt.Fprintf(stdout, "listening on http://%s\n", ln.Addr())
	stdout.Sync()

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case sig := <-sigs:
		fmt.Fprintf(s.log, "shutdown on %v: canceling %d request(s)\n", sig, s.vars.requestsInProgress.Load())
	case err := <-served:
		fmt.Fprintln(s.log, "gochan-search-go: serve:", err)
		return 1
	}
	cancelAll()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := srv.Shutdown(ctx) // closes the listener, waits for handlers
	if err != nil {
		srv.Close() // a handler still running: its connections closed under it
	}
	s.scansWG.Wait() // every scan's walkers joined
	if err != nil {
		fmt.Fprintln(s.log, "gochan-search-go: shutdown:", err)
		return 1
	}
	<-served
	fmt.Fprintln(s.log, "shutdown complete")
	return 0
}

// realRoot resolves the served tree once: every request root is checked
// against this path, symlinks resolved.
func realRoot(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return "", err
	}
	st, err := os.Stat(real)
	if err != nil {
		return "", err
	}
	if !st.IsDir() {
		return "", fmt.Errorf("--root %s is not a directory", dir)
	}
	return real, nil
}
