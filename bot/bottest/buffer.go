package bottest

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"time"
)

// Buffer is a bytes.Buffer safe for writers and a reader at once: output
// of a bot running in goroutines, read while it runs.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write implements io.Writer.
func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Zone loads a time zone or panics; for tests' fixed instants.
func Zone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// Holds lets a platform's fake hold requests, as a platform slow to
// answer would: a request whose key starts with a held prefix waits until
// that hold is released, or its context ends. The zero value holds
// nothing.
type Holds struct {
	mu sync.Mutex
	m  map[string]chan struct{}
}

// Hold holds the requests whose key starts with prefix until release is
// called (once or more).
func (h *Holds) Hold(prefix string) (release func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.m == nil {
		h.m = map[string]chan struct{}{}
	}
	ch := make(chan struct{})
	h.m[prefix] = ch
	return sync.OnceFunc(func() { close(ch) })
}

// Wait waits while a request with key is held; false if ctx ended first.
func (h *Holds) Wait(ctx context.Context, key string) bool {
	h.mu.Lock()
	var held []chan struct{}
	for prefix, ch := range h.m {
		if strings.HasPrefix(key, prefix) {
			held = append(held, ch)
		}
	}
	h.mu.Unlock()
	for _, ch := range held {
		select {
		case <-ch:
		case <-ctx.Done():
			return false
		}
	}
	return true
}
