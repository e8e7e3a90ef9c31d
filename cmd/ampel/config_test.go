package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSecretFromFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "token")
	if err := os.WriteFile(file, []byte("123:abc\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := parseConfig(nil, env("AMPEL_TELEGRAM_TOKEN_FILE", file), io.Discard)
	if err != nil || cfg.TelegramToken.Reveal() != "123:abc" {
		t.Fatalf("from file: got %q, %v", cfg.TelegramToken.Reveal(), err)
	}
	if got := fmt.Sprint(cfg.TelegramToken); strings.Contains(got, "abc") {
		t.Errorf("a secret printed as %q", got)
	}
	if _, err := parseConfig(nil, env("AMPEL_TELEGRAM_TOKEN", "x", "AMPEL_TELEGRAM_TOKEN_FILE", file), io.Discard); err == nil {
		t.Error("both the variable and the file set: want an error")
	}
	_, err = parseConfig(nil, env("AMPEL_TELEGRAM_TOKEN_FILE", filepath.Join(dir, "missing")), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "AMPEL_TELEGRAM_TOKEN_FILE") {
		t.Errorf("missing file: got %v", err)
	}
}

// TestHealthEndpoint: with --http-addr, /healthz answers while the bot runs.
func TestHealthEndpoint(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	in, feed := io.Pipe()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--db", filepath.Join(t.TempDir(), "a.db"), "--http-addr", addr}, german, in, io.Discard, io.Discard)
	}()
	var body []byte
	for deadline := time.Now().Add(hangGuard); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err != nil {
			continue
		}
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		break
	}
	if !bytes.Equal(body, []byte("ok\n")) {
		t.Errorf("/healthz: got %q", body)
	}
	// Linked libraries register debug pages on http.DefaultServeMux
	// (x/net/trace, through gRPC, its /debug/requests); the bot's server
	// has its own mux and shows none of them.
	for _, path := range []string{"/debug/requests", "/debug/events", "/debug/pprof/", "/debug/vars"} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", path, resp.StatusCode)
		}
	}
	feed.Close() // the console's input ends: the bot stops
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
	if _, err := http.Get("http://" + addr + "/healthz"); err == nil {
		t.Error("the HTTP server still answers after the bot stopped")
	}
}
