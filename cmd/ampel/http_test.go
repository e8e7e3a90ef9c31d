package main

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// TestHTTPServerLimits: the server ampel runs bounds every phase of a
// connection: headers, the whole request, the answer, and the wait of an
// idle kept-alive connection, and the headers' size.
func TestHTTPServerLimits(t *testing.T) {
	srv := newHTTPServer(http.NewServeMux(), defaultHTTPLimits)
	for name, d := range map[string]time.Duration{"ReadHeaderTimeout": srv.ReadHeaderTimeout, "ReadTimeout": srv.ReadTimeout,
		"WriteTimeout": srv.WriteTimeout, "IdleTimeout": srv.IdleTimeout} {
		if d <= 0 || d > 2*time.Minute {
			t.Errorf("%s = %s; want set, and at most 2 minutes", name, d)
		}
	}
	if srv.ReadTimeout > srv.WriteTimeout {
		t.Errorf("ReadTimeout %s > WriteTimeout %s: the answer's time would end before the request is read", srv.ReadTimeout, srv.WriteTimeout)
	}
	if srv.MaxHeaderBytes <= 0 || srv.MaxHeaderBytes > 1<<20 {
		t.Errorf("MaxHeaderBytes = %d; want set, below Go's default of 1 MB", srv.MaxHeaderBytes)
	}
}

// shortLimits stand in for the real ones, so that a test waits a fraction
// of a second for what takes seconds in production.
var shortLimits = httpLimits{header: 300 * time.Millisecond, read: 300 * time.Millisecond, write: 2 * time.Second, idle: 300 * time.Millisecond}

// serveTest runs newHTTPServer(h, shortLimits) on a loopback port until the
// test ends and returns its address.
func serveTest(t *testing.T, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := newHTTPServer(h, shortLimits)
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// closedWithin reports whether the server closes conn within d, reading
// (and discarding) whatever it answers until then.
func closedWithin(conn net.Conn, d time.Duration) bool {
	conn.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, conn)
	return !errors.Is(err, os.ErrDeadlineExceeded)
}

// TestSlowClientCutOff: a client that sends its headers and then its body
// a byte at a time, never finishing, is cut off once the read limit has
// passed; its handler never gets the body.
func TestSlowClientCutOff(t *testing.T) {
	got := make(chan error, 1)
	addr := serveTest(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(r.Body)
		got <- err
	}))
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "POST /slack/events HTTP/1.1\r\nHost: ampel\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{")
	stop := make(chan struct{})
	defer close(stop)
	go func() { // a byte every 10 ms: faster than any limit per read
		for {
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
				if _, err := conn.Write([]byte(" ")); err != nil {
					return
				}
			}
		}
	}()
	if !closedWithin(conn, 10*time.Second) {
		t.Fatal("a client sending its body a byte at a time still holds its connection after 10 s")
	}
	if err := <-got; err == nil {
		t.Error("the handler got a whole body")
	}
}

// TestIdleConnectionClosed: a kept-alive connection that sends nothing
// after its answer is closed once the idle limit has passed.
func TestIdleConnectionClosed(t *testing.T) {
	addr := serveTest(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") }))
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: ampel\r\n\r\n")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || strings.TrimSpace(string(body)) != "ok" || resp.Close {
		t.Fatalf("answer %d %q (close %v); want ok on a kept-alive connection", resp.StatusCode, body, resp.Close)
	}
	if !closedWithin(conn, 10*time.Second) {
		t.Fatal("an idle kept-alive connection is still open after 10 s")
	}
}
