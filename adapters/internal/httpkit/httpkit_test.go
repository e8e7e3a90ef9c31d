package httpkit

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestGateRefusesWhenFull: while a slow client holds the only slot by
// sending its body a byte at a time, the next request is refused at once
// with 503, Retry-After and the connection closed; the slot is free again
// once the slow body is read.
func TestGateRefusesWhenFull(t *testing.T) {
	g := NewGate(1)
	pr, pw := io.Pipe()
	done := make(chan bool)
	go func() {
		rec := httptest.NewRecorder()
		_, ok := g.ReadBody(rec, httptest.NewRequest("POST", "/", pr), 1<<10)
		done <- ok
	}()
	pw.Write([]byte("{")) // returns once ReadBody reads: the slot is held
	rec := httptest.NewRecorder()
	if _, ok := g.ReadBody(rec, httptest.NewRequest("POST", "/", strings.NewReader("{}")), 1<<10); ok || rec.Code != http.StatusServiceUnavailable {
		t.Errorf("second request while the slot is held: %d, want 503", rec.Code)
	}
	if rec.Header().Get("Retry-After") == "" || rec.Header().Get("Connection") != "close" {
		t.Errorf("503 without Retry-After or Connection: close: %v", rec.Header())
	}
	pw.Write([]byte("}"))
	pw.Close()
	if !<-done {
		t.Error("the slow request was refused once its body came")
	}
	rec = httptest.NewRecorder()
	if body, ok := g.ReadBody(rec, httptest.NewRequest("POST", "/", strings.NewReader("{}")), 1<<10); !ok || string(body) != "{}" {
		t.Errorf("after the slow request: %d %q, want the body", rec.Code, body)
	}
}

// TestGateChecksLengthFirst: a declared length over the limit is refused
// with 413 before a byte of the body is read.
func TestGateChecksLengthFirst(t *testing.T) {
	g := NewGate(1)
	req := httptest.NewRequest("POST", "/", readFails{t})
	req.ContentLength = 2 << 10
	rec := httptest.NewRecorder()
	if _, ok := g.ReadBody(rec, req, 1<<10); ok || rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("declared length over the limit: %d, want 413", rec.Code)
	}
	rec = httptest.NewRecorder()
	if _, ok := g.ReadBody(rec, httptest.NewRequest("POST", "/", bytes.NewReader(make([]byte, 2<<10))), 1<<10); ok || rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("body over the limit: %d, want 413", rec.Code)
	}
}

type readFails struct{ t *testing.T }

func (r readFails) Read([]byte) (int, error) {
	r.t.Error("the body was read")
	return 0, io.EOF
}

// TestOpaque: a value logs as its length and a short hash.
func TestOpaque(t *testing.T) {
	var b bytes.Buffer
	slog.New(slog.NewTextHandler(&b, nil)).Info("x", "post", Opaque(strings.Repeat("P", 70000)))
	if got := b.String(); strings.Contains(got, "PPPP") || !strings.Contains(got, "post.len=70000 post.sha256=") {
		t.Errorf("log line %q", got)
	}
}
