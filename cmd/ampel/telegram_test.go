package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestTelegramSwitchedOnByToken: with a token, run starts the Telegram
// adapter against the configured API (a minimal fake here) instead of the
// console, registers the command menu, polls, and stops cleanly; the token
// appears in no output.
func TestTelegramSwitchedOnByToken(t *testing.T) {
	const token = "123456789:AAE-fake-token-0123456789abcdefghijklmnopq"
	var mu sync.Mutex
	calls := map[string]int{}
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		method := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
		mu.Lock()
		calls[method]++
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch method {
		case "getMe":
			io.WriteString(w, `{"ok":true,"result":{"id":42,"is_bot":true,"first_name":"Ampel","username":"ampel_test_bot"}}`)
		case "getUpdates":
			select { // a short long-poll
			case <-r.Context().Done():
			case <-time.After(50 * time.Millisecond):
			}
			io.WriteString(w, `{"ok":true,"result":[]}`)
		default:
			io.WriteString(w, `{"ok":true,"result":true}`)
		}
	}))
	defer fake.Close()
	seen := func() string {
		mu.Lock()
		defer mu.Unlock()
		return fmt.Sprint(calls)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel() // on a failure too: run must not outlive the test
	done := make(chan error, 1)
	var out, errOut syncBuffer
	getenv := env("AMPEL_TELEGRAM_TOKEN", token, "AMPEL_TELEGRAM_API_URL", fake.URL, "AMPEL_LOG_LEVEL", "debug")
	go func() {
		done <- run(ctx, []string{"--db", filepath.Join(t.TempDir(), "tg.db")}, getenv, strings.NewReader(""), &out, &errOut)
	}()
	deadline := time.Now().Add(hangGuard)
	for {
		mu.Lock()
		polled, menus := calls["getUpdates"], calls["setMyCommands"]
		mu.Unlock()
		if polled >= 2 && menus >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("calls so far: %s", seen())
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(hangGuard):
		t.Fatal("run did not stop after cancel")
	}
	if out.String() != "" {
		t.Errorf("the console ran beside Telegram: %q", out.String())
	}
	// The fake may still be answering a poll the shutdown cut short: the
	// calls map is read under its lock, as the handler writes it.
	for _, s := range []string{out.String(), errOut.String(), seen()} {
		if strings.Contains(s, "AAE-fake-token") {
			t.Errorf("the token leaked: %q", s)
		}
	}
}
