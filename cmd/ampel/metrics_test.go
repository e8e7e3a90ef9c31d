package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape reads /metrics and parses it with client_golang's own parser.
func scrape(t *testing.T, addr string) map[string]*dto.MetricFamily {
	t.Helper()
	return scrapeURL(t, "http://"+addr+"/metrics")
}

// scrapeURL reads the exposition at url and parses it.
func scrapeURL(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("the exposition does not parse: %v", err)
	}
	return fams
}

// value is the sum of family name's samples whose labels include want
// (counter, gauge, or a histogram's count).
func value(fams map[string]*dto.MetricFamily, name string, want ...string) float64 {
	f := fams[name]
	if f == nil {
		return -1
	}
	var sum float64
next:
	for _, m := range f.GetMetric() {
		for i := 0; i+1 < len(want); i += 2 {
			found := false
			for _, l := range m.GetLabel() {
				if l.GetName() == want[i] && l.GetValue() == want[i+1] {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			sum += m.Counter.GetValue()
		case m.Gauge != nil:
			sum += m.Gauge.GetValue()
		case m.Histogram != nil:
			sum += float64(m.Histogram.GetSampleCount())
		}
	}
	return sum
}

func readyz(t *testing.T, addr string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/readyz")
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	var body map[string]any
	json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

// TestMetricsDuringConsoleSession: a console dialogue moves the turn, send,
// latency and commit families; the store's and the process's gauges are
// there; the exposition parses; no label carries a chat or any text.
func TestMetricsDuringConsoleSession(t *testing.T) {
	addr := freeAddr(t)
	in, feed := io.Pipe()
	var out syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(context.Background(), []string{"--db", filepath.Join(t.TempDir(), "m.db"), "--http-addr", addr}, german, in, &out, io.Discard)
	}()
	waitHealthy(t, addr)
	before := scrape(t, addr)
	if v := value(before, "ampel_turns_total"); v > 0 {
		t.Fatalf("turns before any input: %v", v)
	}
	io.WriteString(feed, "/check zo-kmu\n1\n2\n")
	waitFor(t, &out, "3/7", hangGuard)
	fams := scrape(t, addr)
	if v := value(fams, "ampel_turns_total", "platform", "console", "outcome", "ok"); v < 3 {
		t.Errorf("ampel_turns_total{console,ok} = %v, want ≥ 3", v)
	}
	if v := value(fams, "ampel_turn_duration_seconds", "platform", "console"); v < 3 {
		t.Errorf("turn latency observations = %v, want ≥ 3", v)
	}
	if v := value(fams, "ampel_commit_duration_seconds"); v < 1 {
		t.Errorf("commit latency observations = %v, want ≥ 1", v)
	}
	if v := value(fams, "ampel_sends_total", "platform", "console", "result", "ok"); v < 3 {
		t.Errorf("ampel_sends_total{console,ok} = %v, want ≥ 3", v)
	}
	for _, name := range []string{"ampel_outbox_messages", "ampel_outbox_oldest_age_seconds", "ampel_db_free_pages",
		"ampel_reminders_sent_total", "ampel_reminders_late_total", "ampel_reminders_missed_total", "ampel_possible_duplicate_sends_total"} {
		if value(fams, name) < 0 {
			t.Errorf("%s missing", name)
		}
	}
	if v := value(fams, "ampel_db_size_bytes"); v <= 0 {
		t.Errorf("ampel_db_size_bytes = %v", v)
	}
	if value(fams, "go_goroutines") <= 0 || value(fams, "process_resident_memory_bytes") <= 0 {
		t.Error("the Go and process collectors are missing")
	}
	for name, f := range fams {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				switch l.GetName() {
				case "platform", "outcome", "result", "reason":
				default:
					if strings.HasPrefix(name, "ampel_") && l.GetName() != "le" {
						t.Errorf("%s has label %s", name, l.GetName())
					}
				}
			}
		}
	}
	if code, body := readyz(t, addr); code != http.StatusOK || body["ready"] != true {
		t.Errorf("/readyz = %d %v, want 200 ready", code, body)
	}
	feed.Close()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
}

// TestReadyzFollowsTelegram: /readyz says not ready, naming Telegram, once
// the Telegram API stays away past the adapter's first back-off, and ready
// again when it answers again; /metrics counts a webhook-less platform's
// refused button too (stale button on Telegram is counted by the engine).
func TestReadyzFollowsTelegram(t *testing.T) {
	const token = "123456789:AAE-fake-token-0123456789abcdefghijklmnopq"
	var away atomic.Bool
	var mu sync.Mutex
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		method := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
		mu.Lock()
		defer mu.Unlock()
		if away.Load() && method == "getUpdates" {
			http.Error(w, "bad gateway", http.StatusBadGateway)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		switch method {
		case "getMe":
			io.WriteString(w, `{"ok":true,"result":{"id":42,"is_bot":true,"first_name":"Ampel","username":"ampel_test_bot"}}`)
		case "getUpdates":
			time.Sleep(20 * time.Millisecond)
			io.WriteString(w, `{"ok":true,"result":[]}`)
		default:
			io.WriteString(w, `{"ok":true,"result":true}`)
		}
	}))
	defer fake.Close()
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	getenv := env("AMPEL_TELEGRAM_TOKEN", token, "AMPEL_TELEGRAM_API_URL", fake.URL)
	go func() {
		done <- run(ctx, []string{"--db", filepath.Join(t.TempDir(), "tg.db"), "--http-addr", addr}, getenv, strings.NewReader(""), io.Discard, io.Discard)
	}()
	waitHealthy(t, addr)
	waitReady := func(want bool) map[string]any {
		t.Helper()
		var body map[string]any
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			var code int
			code, body = readyz(t, addr)
			if (code == http.StatusOK) == want && body["ready"] == want {
				return body
			}
		}
		t.Fatalf("/readyz never became ready=%v; last %v", want, body)
		return nil
	}
	waitReady(true)
	away.Store(true)
	body := waitReady(false)
	if why := fmt.Sprint(body["not_ready"]); !strings.Contains(why, "telegram: disconnected") {
		t.Errorf("not_ready = %s, want it to name telegram", why)
	}
	away.Store(false)
	waitReady(true)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
}
