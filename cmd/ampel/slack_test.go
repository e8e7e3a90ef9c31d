package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestSlackHTTPModeWired: with a bot token and a signing secret, run serves
// Slack's Events API on --http-addr, verified with the secret.
func TestSlackHTTPModeWired(t *testing.T) {
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"ok":true,"user_id":"UBOT","team_id":"T1","user":"ampel","team":"Team","bot_id":"B1"}`)
	}))
	defer fake.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	const secret = "8f742231b10e8888abcd99yyyzzz85a5"
	getenv := env("AMPEL_SLACK_BOT_TOKEN", "xoxb-1-2-fake", "AMPEL_SLACK_SIGNING_SECRET", secret,
		"AMPEL_SLACK_API_URL", fake.URL+"/", "AMPEL_HTTP_ADDR", addr)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var errOut syncBuffer
	go func() {
		done <- run(ctx, []string{"--db", filepath.Join(t.TempDir(), "s.db")}, getenv, strings.NewReader(""), io.Discard, &errOut)
	}()
	body := `{"type":"url_verification","challenge":"c-123"}`
	post := func(sig string) (int, string) {
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		req, _ := http.NewRequest("POST", "http://"+addr+"/slack/events", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Slack-Request-Timestamp", ts)
		if sig == "" {
			mac := hmac.New(sha256.New, []byte(secret))
			io.WriteString(mac, "v0:"+ts+":"+body)
			sig = "v0=" + hex.EncodeToString(mac.Sum(nil))
		}
		req.Header.Set("X-Slack-Signature", sig)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	var code int
	var got string
	for deadline := time.Now().Add(hangGuard); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if code, got = post(""); code != 0 {
			break
		}
	}
	if code != 200 || !strings.Contains(got, "c-123") {
		t.Errorf("signed url_verification: %d %q", code, got)
	}
	if code, _ := post("v0=deadbeef"); code != http.StatusUnauthorized {
		t.Errorf("wrong signature: got %d, want 401", code)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
	if strings.Contains(errOut.String(), "xoxb-1-2-fake") || strings.Contains(errOut.String(), secret) {
		t.Error("a Slack secret in the log")
	}
}
