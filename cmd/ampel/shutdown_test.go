package main

import (
	"bufio"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ampel-bot/ampel/store"
)

// slowTelegram is a Bot API that delivers one /start and then holds the
// bot's reply (sendMessage) until release is closed: a turn in flight,
// for as long as the test wants.
type slowTelegram struct {
	srv      *httptest.Server
	sending  chan struct{} // closed when the reply arrives
	release  chan struct{}
	once     sync.Once
	mu       sync.Mutex
	answered bool // the reply was answered as sent
}

func newSlowTelegram(t *testing.T) *slowTelegram {
	f := &slowTelegram{sending: make(chan struct{}), release: make(chan struct{})}
	delivered := false
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		method := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
		w.Header().Set("Content-Type", "application/json")
		switch method {
		case "getMe":
			io.WriteString(w, `{"ok":true,"result":{"id":42,"is_bot":true,"first_name":"Ampel","username":"ampel_test_bot"}}`)
		case "getUpdates":
			f.mu.Lock()
			first := !delivered
			delivered = true
			f.mu.Unlock()
			if first {
				io.WriteString(w, `{"ok":true,"result":[{"update_id":1,"message":{"message_id":1,`+
					`"from":{"id":7,"is_bot":false,"first_name":"Eva","language_code":"de"},`+
					`"chat":{"id":7,"type":"private"},"date":1804150800,"text":"/start"}}]}`)
				return
			}
			select { // a long poll with nothing new
			case <-r.Context().Done():
			case <-time.After(200 * time.Millisecond):
			}
			io.WriteString(w, `{"ok":true,"result":[]}`)
		case "sendMessage":
			f.once.Do(func() { close(f.sending) })
			select {
			case <-f.release:
			case <-r.Context().Done():
				return
			}
			f.mu.Lock()
			f.answered = true
			f.mu.Unlock()
			io.WriteString(w, `{"ok":true,"result":{"message_id":100,"chat":{"id":7,"type":"private"},"date":1804150800,"text":"Willkommen"}}`)
		default:
			io.WriteString(w, `{"ok":true,"result":true}`)
		}
	}))
	t.Cleanup(func() {
		f.once.Do(func() { close(f.sending) })
		select {
		case <-f.release:
		default:
			close(f.release)
		}
		f.srv.Close()
	})
	return f
}

// child is ampel run as a process of its own (this test binary, see
// TestMain), its log read line by line.
type child struct {
	cmd   *exec.Cmd
	mu    sync.Mutex
	log   strings.Builder
	lines chan string
}

func startChild(t *testing.T, db string, extraEnv ...string) *child {
	t.Helper()
	c := &child{lines: make(chan string, 1024)}
	c.cmd = exec.Command(os.Args[0], "-test.run=^$", "--db", db)
	c.cmd.Env = append(append(cleanEnv(), "AMPEL_TEST_MAIN=1", "AMPEL_LOG_FORMAT=json", "AMPEL_LOG_LEVEL=info"), extraEnv...)
	c.cmd.Dir = filepath.Dir(db)
	stderr, err := c.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.cmd.Process.Kill()
		c.cmd.Wait()
	})
	go func() {
		defer close(c.lines)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			c.mu.Lock()
			c.log.WriteString(sc.Text() + "\n")
			c.mu.Unlock()
			c.lines <- sc.Text()
		}
	}()
	return c
}

func (c *child) logs() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.log.String()
}

// waitLog waits for a log line containing want.
func (c *child) waitLog(t *testing.T, want string) {
	t.Helper()
	timeout := time.After(15 * time.Second)
	for {
		select {
		case l, ok := <-c.lines:
			if !ok {
				t.Fatalf("ampel ended before logging %q; log:\n%s", want, c.logs())
			}
			if strings.Contains(l, want) {
				return
			}
		case <-timeout:
			t.Fatalf("ampel did not log %q; log:\n%s", want, c.logs())
		}
	}
}

// exitCode waits for the process to end and returns its exit code.
func (c *child) exitCode(t *testing.T) int {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		for range c.lines { // drain, so the process never blocks on its log
		}
		done <- c.cmd.Wait()
	}()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(15 * time.Second):
		t.Fatalf("ampel did not exit; log:\n%s", c.logs())
		return -1
	}
}

func waitClosed(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(15 * time.Second):
		t.Fatalf("waited 15s for %s", what)
	}
}

// TestSIGTERMFinishesTurnInFlight: SIGTERM arrives while a turn is sending
// its reply. Ampel stops taking events but lets the turn finish: the reply
// is delivered once the platform answers, nothing is left in the outbox,
// the store is closed cleanly, and the exit code is 0.
func TestSIGTERMFinishesTurnInFlight(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	tg := newSlowTelegram(t)
	db := filepath.Join(t.TempDir(), "ampel.db")
	c := startChild(t, db, "AMPEL_TELEGRAM_TOKEN=123:fake-token", "AMPEL_TELEGRAM_API_URL="+tg.srv.URL)
	waitClosed(t, tg.sending, "the reply to /start")
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	c.waitLog(t, `"msg":"signal received`)
	close(tg.release)
	if code := c.exitCode(t); code != 0 {
		t.Fatalf("exit code %d after SIGTERM, want 0; log:\n%s", code, c.logs())
	}
	tg.mu.Lock()
	answered := tg.answered
	tg.mu.Unlock()
	if !answered {
		t.Error("the reply in flight was cut")
	}
	r, err := store.InspectFile(db)
	if err != nil {
		t.Fatal(err)
	}
	if r.Conversations != 1 || r.Outbox != 0 {
		t.Errorf("after the stop: %d conversations, %d outbox messages; want 1 and 0 (the reply sent)", r.Conversations, r.Outbox)
	}
	for _, want := range []string{`"msg":"stopping: no new events`, `"msg":"stopped"`} {
		if !strings.Contains(c.logs(), want) {
			t.Errorf("log lacks %s:\n%s", want, c.logs())
		}
	}
}

// TestSecondSignalExitsAtOnce: a second SIGTERM while the first one's
// stop waits for a turn ends the process at once, with a non-zero exit
// code and a log line saying so; what was committed is kept.
func TestSecondSignalExitsAtOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	tg := newSlowTelegram(t)
	db := filepath.Join(t.TempDir(), "ampel.db")
	c := startChild(t, db, "AMPEL_TELEGRAM_TOKEN=123:fake-token", "AMPEL_TELEGRAM_API_URL="+tg.srv.URL, "AMPEL_SHUTDOWN_TIMEOUT=5m")
	waitClosed(t, tg.sending, "the reply to /start")
	c.cmd.Process.Signal(syscall.SIGTERM)
	c.waitLog(t, `"msg":"signal received`)
	c.cmd.Process.Signal(syscall.SIGTERM)
	if code := c.exitCode(t); code != 128+int(syscall.SIGTERM) {
		t.Fatalf("exit code %d after a second SIGTERM, want %d; log:\n%s", code, 128+int(syscall.SIGTERM), c.logs())
	}
	if !strings.Contains(c.logs(), `"msg":"second signal: exiting at once`) {
		t.Errorf("the log does not say why it ended:\n%s", c.logs())
	}
	r, err := store.InspectFile(db)
	if err != nil {
		t.Fatal(err)
	}
	if r.Conversations != 1 || r.Outbox != 1 {
		t.Errorf("after the hard stop: %d conversations, %d outbox messages; want the answer kept and its reply in the outbox", r.Conversations, r.Outbox)
	}
}
