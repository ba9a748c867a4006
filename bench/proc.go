package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's CPU times (100 on
// every Linux architecture Go runs on).
const clockTicks = 100

// child is a contestant's running process.
type child struct {
	name   string
	cmd    *exec.Cmd
	output *lockedWriter // its stdout and stderr, shown when it fails
	exited chan struct{}
	err    error // Wait's result, once exited is closed

	// samples of the process's CPU time, every sampleEvery while it runs.
	mu      sync.Mutex
	samples []cpuSample
	sampled chan struct{} // closed when the sampler has stopped
}

// cpuSample is the process's CPU time at a moment.
type cpuSample struct {
	at  time.Time
	cpu time.Duration
}

// sampleEvery is how often a child's CPU time is sampled (its resolution is
// 1/clockTicks anyway).
const sampleEvery = 5 * time.Millisecond

// startChild starts a contestant's process.
func startChild(name, bin string, args []string, env []string) (*child, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	out := &lockedWriter{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	c := &child{name: name, cmd: cmd, output: out, exited: make(chan struct{}), sampled: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		close(c.exited)
	}()
	go c.sample()
	return c, nil
}

// sample notes the process's CPU time every sampleEvery until it exits.
func (c *child) sample() {
	defer close(c.sampled)
	tick := time.NewTicker(sampleEvery)
	defer tick.Stop()
	for {
		select {
		case <-c.exited:
			return
		case <-tick.C:
		}
		cpu, err := c.cpu()
		if err != nil {
			continue // it is exiting
		}
		c.mu.Lock()
		c.samples = append(c.samples, cpuSample{at: time.Now(), cpu: cpu})
		c.mu.Unlock()
	}
}

// cpuAt is the process's CPU time at t, interpolated between the samples
// around it.
func (c *child) cpuAt(t time.Time) (time.Duration, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.samples) == 0 || t.Before(c.samples[0].at) {
		return 0, nil
	}
	for i := 1; i < len(c.samples); i++ {
		a, b := c.samples[i-1], c.samples[i]
		if t.After(b.at) {
			continue
		}
		f := float64(t.Sub(a.at)) / float64(b.at.Sub(a.at))
		return a.cpu + time.Duration(f*float64(b.cpu-a.cpu)), nil
	}
	last := c.samples[len(c.samples)-1]
	if t.Sub(last.at) > 10*sampleEvery {
		return 0, fmt.Errorf("%s: no CPU sample near %s", c.name, t.Format("15:04:05.000"))
	}
	return last.cpu, nil
}

// cpu returns the CPU time (user + system, all threads) the process has
// used so far, from /proc/<pid>/stat.
func (c *child) cpu() (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", c.cmd.Process.Pid))
	if err != nil {
		return 0, fmt.Errorf("reading the CPU time of %s: %w", c.name, err)
	}
	// Fields after the command name (which may hold spaces) in parentheses:
	// state is field 3, utime 14, stime 15.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("reading the CPU time of %s: malformed stat %q", c.name, b)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("reading the CPU time of %s: short stat %q", c.name, b)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("reading the CPU time of %s: %w", c.name, err)
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}

// alive reports an error when the process has exited.
func (c *child) alive() error {
	select {
	case <-c.exited:
		return fmt.Errorf("%s exited early (%v); its output:\n%s", c.name, c.err, tail(c.output.String(), 3000))
	default:
		return nil
	}
}

// usage is what a stopped process used.
type usage struct {
	cpu     time.Duration
	peakRSS int64 // bytes
}

// stop reads the process's peak RSS, sends SIGTERM, waits up to grace for
// it to exit (SIGKILL after), and returns what it used over its life.
//
// The peak RSS is VmHWM of /proc/<pid>/status, not the child's ru_maxrss:
// Go starts children with vfork, and Linux folds the memory high-water mark
// of the address space a process leaves at exec (the parent's, shared until
// then) into its ru_maxrss, so that would report the harness's peak.
func (c *child) stop(grace time.Duration) (usage, error) {
	peak, peakErr := c.peakRSS()
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
	case <-time.After(grace):
		_ = c.cmd.Process.Kill()
		<-c.exited
	}
	<-c.sampled
	ru, ok := c.cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return usage{}, fmt.Errorf("%s: no rusage", c.name)
	}
	return usage{cpu: time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), peakRSS: peak}, peakErr
}

// peakRSS is the process's resident set high-water mark, in bytes.
func (c *child) peakRSS() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", c.cmd.Process.Pid))
	if err != nil {
		return 0, fmt.Errorf("reading the peak RSS of %s: %w", c.name, err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("reading the peak RSS of %s: %q: %w", c.name, line, err)
			}
			return kb * 1024, nil
		}
	}
	return 0, fmt.Errorf("reading the peak RSS of %s: no VmHWM", c.name)
}

// tail returns the last n bytes of s.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

// lockedWriter collects a child's output, readable while it is written.
type lockedWriter struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

func (w *lockedWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}
