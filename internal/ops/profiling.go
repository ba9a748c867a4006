package ops

import (
	"net/http"
	"net/http/pprof"
	"runtime"
)

// Profiling rates set by WithProfiling: every blocking event of 10 µs or
// more on average (runtime.SetBlockProfileRate is in nanoseconds), and one
// contended mutex in 10.
const (
	blockProfileRate     = 10_000
	mutexProfileFraction = 10
)

// WithProfiling serves Go's profiles under /debug/pprof/ beside the
// endpoints of h (go tool pprof http://ADDR/debug/pprof/profile, .../block,
// .../mutex, .../goroutine, .../trace) and turns on the block and mutex
// profiles, which cost a little on every contended lock and blocking channel
// operation: for finding what a slow pipeline waits on, not for every run.
// The profiles show the process's code and the keys and values in its
// stacks' arguments, so serve them only where /metrics may be read.
func WithProfiling(h http.Handler) http.Handler {
	runtime.SetBlockProfileRate(blockProfileRate)
	runtime.SetMutexProfileFraction(mutexProfileFraction)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	mux.Handle("/", h)
	return mux
}
