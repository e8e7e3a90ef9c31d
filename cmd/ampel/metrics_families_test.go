package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/ampel-bot/ampel/adapters/console"
	"github.com/ampel-bot/ampel/adapters/mattermost"
	"github.com/ampel-bot/ampel/adapters/slack"
	"github.com/ampel-bot/ampel/adapters/telegram"
	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
	"github.com/ampel-bot/ampel/bot/features"
	"github.com/ampel-bot/ampel/store"
)

// metricsRig is ampel's metrics as main wires them (newMetrics, the store's
// commit hook, the engine's Observer, watch, the /metrics handler served
// over HTTP), around a real store, a simulated clock and a recording
// console adapter whose sends a test can make fail.
type metricsRig struct {
	t     *testing.T
	path  string
	db    *store.DB
	e     *bot.Engine
	clock *bottest.Clock
	rec   *bottest.Recorder
	m     *promMetrics
	url   string
	n     int
}

var rigStart = time.Date(2027, 3, 10, 9, 0, 0, 0, time.UTC)

func newMetricsRig(t *testing.T, path string, cfg func(*bot.Config)) *metricsRig {
	t.Helper()
	if path == "" {
		path = filepath.Join(t.TempDir(), "metrics.db")
	}
	r := &metricsRig{t: t, path: path, clock: bottest.NewClock(rigStart), rec: &bottest.Recorder{Name: console.Platform}, m: newMetrics()}
	var err error
	r.db, err = store.Open(path, store.Options{Now: r.clock.Now, OnCommit: r.m.commitTook})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.db.Close() })
	catalog, texts := bottest.Content(t)
	zone, _ := time.LoadLocation("Europe/Berlin")
	c := bot.Config{Store: r.db, Flows: catalog, Texts: texts, Clock: r.clock, Zone: zone, Observer: r.m, Features: features.All()}
	if cfg != nil {
		cfg(&c)
	}
	if r.e, err = bot.New(c); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.e.Close() })
	r.e.Register(r.rec)
	r.m.watch(r.e, r.db, r.clock.Now)
	srv := httptest.NewServer(r.m.handler())
	t.Cleanup(srv.Close)
	r.url = srv.URL
	return r
}

// scrape reads the rig's /metrics and parses it with client_golang's parser.
func (r *metricsRig) scrape() map[string]*dto.MetricFamily {
	r.t.Helper()
	return scrapeURL(r.t, r.url+"/metrics")
}

// read is family name's value (with labels); a labelled family with no
// series yet reads 0.
func (r *metricsRig) read(name string, labels ...string) float64 {
	r.t.Helper()
	got := value(r.scrape(), name, labels...)
	if got < 0 && len(labels) > 0 {
		got = 0
	}
	return got
}

// want checks that family name (with labels) reads v.
func (r *metricsRig) want(name string, v float64, labels ...string) {
	r.t.Helper()
	if got := r.read(name, labels...); got != v {
		r.t.Errorf("%s%v = %v, want %v", name, labels, got, v)
	}
}

// eventually waits until family name reads as ok wants: the store notes
// what a transaction queued and removed after the engine moved on (the
// removal of delivered messages is written with the writer's next batch).
func (r *metricsRig) eventually(name string, ok func(float64) bool, labels ...string) {
	r.t.Helper()
	var got float64
	for deadline := time.Now().Add(hangGuard); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if got = r.read(name, labels...); ok(got) {
			return
		}
	}
	r.t.Errorf("%s%v = %v, not as wanted", name, labels, got)
}

// say hands chat a typed line (or a button's action) and waits for the
// replies to leave.
func (r *metricsRig) say(chat, text, action string) []bottest.Sent {
	r.t.Helper()
	r.n++
	addr := bot.Address{Platform: console.Platform, Chat: chat}
	ev := bot.Event{ID: strconv.Itoa(r.n), Addr: addr, Text: text, Action: action, LangHint: "de"}
	if err := r.e.Handle(context.Background(), ev); err != nil {
		r.t.Fatalf("handle %q: %v", text, err)
	}
	bottest.Settle(r.t, r.e)
	return r.rec.Take()
}

func firstAction(t *testing.T, sent []bottest.Sent) string {
	t.Helper()
	for _, s := range sent {
		for _, row := range s.Msg.Buttons {
			for _, b := range row {
				return b.Action
			}
		}
	}
	t.Fatalf("no button in %+v", sent)
	return ""
}

// TestMetricsStaleButton: pressing a button of an earlier question counts
// one refused event, reason stale_button; a current button counts none.
func TestMetricsStaleButton(t *testing.T) {
	r := newMetricsRig(t, "", nil)
	first := firstAction(t, r.say("u1", "/check zo-kmu", ""))
	r.say("u1", "", first)
	r.want("ampel_events_refused_total", 0, "reason", "stale_button")
	r.say("u1", "", first)
	r.want("ampel_events_refused_total", 1, "platform", "console", "reason", "stale_button")
}

// TestMetricsReminders: a reminder sent on time counts as sent; one found
// after downtime, as sent and late; one more than 7 days overdue, as missed.
func TestMetricsReminders(t *testing.T) {
	r := newMetricsRig(t, "", nil)
	ctx := context.Background()
	day := func(d int) string { return time.Date(2027, 3, 10+d, 12, 0, 0, 0, time.UTC).Format("2006-01-02") }
	due := map[string]time.Time{}
	for i, chat := range []string{"ontime", "late", "missed"} {
		addr := bot.Address{Platform: console.Platform, Chat: chat}
		c := &bot.Conversation{Lang: "de", Addr: addr, Plan: bot.Plan{Measures: []bot.Measure{{
			ID: 1, Flow: "zo-kmu", Checkpoint: "nutzen", Text: "Maßnahme", Priority: "high", Me: true,
			Start: day(2 + 2*i), Review: day(300), Status: bot.StatusOpen,
		}}, NextID: 2}}
		if _, err := r.db.Commit(ctx, "seed", addr.Key(), c, nil); err != nil {
			t.Fatal(err)
		}
		r.say(chat, "/plan", "")
		got, err := r.e.Load(ctx, addr)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range got.Pending() {
			if p.Kind == bot.KindStart {
				due[chat] = p.Due
			}
		}
		if due[chat].IsZero() {
			t.Fatalf("%s: no start reminder pending: %+v", chat, got.Reminders)
		}
	}
	run := func(at time.Time) {
		t.Helper()
		r.clock.Set(at)
		if _, err := r.e.RunDue(ctx, at); err != nil {
			t.Fatal(err)
		}
		bottest.Settle(t, r.e)
		r.rec.Take()
	}
	run(due["ontime"])
	r.want("ampel_reminders_sent_total", 1)
	r.want("ampel_reminders_late_total", 0)
	run(due["late"].Add(3 * time.Hour)) // the bot was down for 3 h
	r.want("ampel_reminders_sent_total", 2)
	r.want("ampel_reminders_late_total", 1)
	r.want("ampel_reminders_missed_total", 0)
	run(due["missed"].Add(8 * 24 * time.Hour))
	r.want("ampel_reminders_sent_total", 2)
	r.want("ampel_reminders_missed_total", 1)
}

// TestMetricsOutboxAndDuplicates: while the platform fails, the reply waits
// in the outbox (depth and age move); a send with an unknown outcome and its
// resend count one possible duplicate; once sent, the outbox is empty.
func TestMetricsOutboxAndDuplicates(t *testing.T) {
	var mode atomic.Int32 // 0 ok, 1 down, 2 unknown outcome
	r := newMetricsRig(t, "", nil)
	r.rec.SendFn = func(bot.Address, bot.Message) error {
		switch mode.Load() {
		case 1:
			return errors.New("platform down")
		case 2:
			return fmt.Errorf("timeout: %w", bot.ErrUnknownOutcome)
		}
		return nil
	}
	r.want("ampel_outbox_messages", 0)
	mode.Store(1)
	r.n++
	if err := r.e.Handle(context.Background(), bot.Event{ID: "1", Addr: bot.Address{Platform: console.Platform, Chat: "u1"}, Text: "/check zo-kmu", LangHint: "de"}); err != nil {
		t.Fatal(err)
	}
	if err := r.e.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.clock.Add(5 * time.Minute)
	r.eventually("ampel_outbox_messages", func(v float64) bool { return v >= 1 })
	r.eventually("ampel_outbox_oldest_age_seconds", func(v float64) bool { return v >= 300 }) // 5 simulated minutes
	r.want("ampel_possible_duplicate_sends_total", 0)
	mode.Store(2)
	bottest.Retry(t, r.e, r.clock, 1)
	r.want("ampel_possible_duplicate_sends_total", 0)
	mode.Store(0)
	bottest.Retry(t, r.e, r.clock, 2)
	r.want("ampel_possible_duplicate_sends_total", 1)
	r.eventually("ampel_outbox_messages", func(v float64) bool { return v == 0 })
	r.eventually("ampel_outbox_oldest_age_seconds", func(v float64) bool { return v == 0 })
	if len(r.rec.Take()) == 0 {
		t.Error("the reply never arrived")
	}
}

// TestMetricsDamagedAndFile: an event meeting a conversation whose record
// cannot be read counts as damaged; the file's size and free pages are read
// from the database.
func TestMetricsDamagedAndFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "damaged.db")
	r := newMetricsRig(t, path, nil)
	r.say("u2", "/check zo-kmu", "")
	r.say("u1", "/check zo-kmu", "")
	fams := r.scrape()
	if v := value(fams, "ampel_db_size_bytes"); v < 16<<10 {
		t.Errorf("ampel_db_size_bytes = %v, want the file's size", v)
	}
	// bbolt reuses freed pages at once in steady writing, so the free
	// pages are what the store says, and the bytes follow from them.
	if h := r.db.Health(); value(fams, "ampel_db_free_pages") != float64(h.FreePages) ||
		value(fams, "ampel_db_free_bytes") != float64(h.FreePages*h.PageSize) {
		t.Errorf("ampel_db_free_pages/bytes = %v/%v, the store says %d pages of %d bytes",
			value(fams, "ampel_db_free_pages"), value(fams, "ampel_db_free_bytes"), h.FreePages, h.PageSize)
	}
	r.e.Close()
	r.db.Close()
	damageRecord(t, path, bot.Address{Platform: console.Platform, Chat: "u1"}.Key())
	r = newMetricsRig(t, path, nil)
	r.want("ampel_damaged_events_total", 0)
	r.say("u1", "hallo", "")
	r.want("ampel_damaged_events_total", 1)
	r.say("u2", "hallo", "")
	r.want("ampel_damaged_events_total", 1)
}

// TestMetricsRefusedByAdapters: a Slack request with a wrong signature and
// a Telegram webhook call with a wrong secret count as bad_signature, a
// Mattermost slash command with a wrong token as unauthorised; the right
// credentials count nothing.
func TestMetricsRefusedByAdapters(t *testing.T) {
	r := newMetricsRig(t, "", nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(req.URL.Path, "/getMe") {
			io.WriteString(w, `{"ok":true,"result":{"id":42,"is_bot":true,"first_name":"Ampel","username":"ampel_test_bot"}}`)
			return
		}
		io.WriteString(w, `{"ok":true,"user_id":"UBOT","team_id":"T1","user":"ampel","team":"Team","bot_id":"B1","result":true}`)
	}))
	defer fake.Close()
	const secret = "8f742231b10e8888abcd99yyyzzz85a5"
	sl, err := slack.New(ctx, slack.Config{BotToken: "xoxb-1-2-fake", SigningSecret: secret, APIURL: fake.URL + "/", Observer: r.e.Observer()})
	if err != nil {
		t.Fatal(err)
	}
	tg, err := telegram.New(ctx, telegram.Config{Token: "123456789:AAE-fake-token-0123456789abcdefghijklmnopq", APIURL: fake.URL,
		WebhookURL: "https://ampel.example/telegram/webhook", Secret: "right-secret", Observer: r.e.Observer()})
	if err != nil {
		t.Fatal(err)
	}
	mm, err := mattermost.New(ctx, mattermost.Config{URL: fake.URL, Token: "mm-token", CommandToken: "cmd-token", Observer: r.e.Observer()})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	for p, h := range sl.HTTPHandlers(r.e) {
		mux.Handle(p, h)
	}
	for p, h := range mm.HTTPHandlers(r.e) {
		mux.Handle(p, h)
	}
	mux.Handle("POST /telegram/webhook", tg.WebhookHandler(r.e))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	post := func(path, body string, header ...string) int {
		t.Helper()
		req, _ := http.NewRequest("POST", srv.URL+path, strings.NewReader(body))
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	if code := post("/slack/events", `{"type":"url_verification","challenge":"c"}`, "Content-Type", "application/json",
		"X-Slack-Request-Timestamp", ts, "X-Slack-Signature", "v0=deadbeef"); code != http.StatusUnauthorized {
		t.Errorf("Slack, wrong signature: %d, want 401", code)
	}
	r.want("ampel_events_refused_total", 1, "platform", slack.Platform, "reason", bot.RefusedSignature)
	if code := post("/telegram/webhook", `{"update_id":1}`, telegram.SecretHeader, "wrong-secret"); code != http.StatusForbidden {
		t.Errorf("Telegram, wrong secret: %d, want 403", code)
	}
	r.want("ampel_events_refused_total", 1, "platform", telegram.Platform, "reason", bot.RefusedSignature)
	if code := post(mattermost.CommandPath, "command=%2Fampel&text=check", "Content-Type", "application/x-www-form-urlencoded",
		"Authorization", "Token wrong"); code != http.StatusUnauthorized {
		t.Errorf("Mattermost, wrong command token: %d, want 401", code)
	}
	r.want("ampel_events_refused_total", 1, "platform", mattermost.Platform, "reason", bot.RefusedUnauthorised)
	if code := post("/telegram/webhook", `{"update_id":2}`, telegram.SecretHeader, "right-secret"); code != http.StatusOK {
		t.Errorf("Telegram, right secret: %d, want 200", code)
	}
	r.want("ampel_events_refused_total", 3)
}

// TestMetricsLimiterWaits: a Telegram chat sent to faster than once a second
// (past its burst of 3)
// makes the adapter's limiter wait, which is counted with its time.
func TestMetricsLimiterWaits(t *testing.T) {
	r := newMetricsRig(t, "", nil)
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(req.URL.Path, "/getMe") {
			io.WriteString(w, `{"ok":true,"result":{"id":42,"is_bot":true,"first_name":"Ampel","username":"ampel_test_bot"}}`)
			return
		}
		io.WriteString(w, `{"ok":true,"result":{"message_id":7,"date":1,"chat":{"id":5,"type":"private"}}}`)
	}))
	defer fake.Close()
	tg, err := telegram.New(context.Background(), telegram.Config{Token: "123456789:AAE-fake-token-0123456789abcdefghijklmnopq",
		APIURL: fake.URL, Observer: r.e.Observer()})
	if err != nil {
		t.Fatal(err)
	}
	to := bot.Address{Platform: telegram.Platform, Chat: "5"}
	for i := range 5 { // a burst of 3 passes, the 4th and 5th wait
		if err := tg.Send(context.Background(), to, bot.Message{Text: fmt.Sprint("Nachricht ", i)}); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	if v := r.read("ampel_limiter_waits_total", "platform", telegram.Platform); v < 1 {
		t.Errorf("ampel_limiter_waits_total{telegram} = %v after 5 sends to one chat at once, want ≥ 1", v)
	}
	if v := r.read("ampel_limiter_wait_seconds_total", "platform", telegram.Platform); v <= 0 {
		t.Errorf("ampel_limiter_wait_seconds_total{telegram} = %v, want > 0", v)
	}
}
