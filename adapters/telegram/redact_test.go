package telegram

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/ampel-bot/ampel/bot"
)

// leaks lists the forms in which the test token could show up.
func leaks() []string {
	_, secret, _ := strings.Cut(testToken, ":")
	return []string{testToken, secret, url.PathEscape(testToken), url.QueryEscape(testToken), secret[:20]}
}

func assertNoToken(t *testing.T, where, s string) {
	t.Helper()
	for _, l := range leaks() {
		if strings.Contains(s, l) {
			t.Errorf("%s contains the token (%q):\n%s", where, l, s)
		}
	}
}

// TestTokenNeverInLogsOrErrors drives New, Run and Send against a server
// that drops connections, one that answers 500, and an address nobody
// listens on, and lets the library's own update loop log its errors: the
// token appears in no log line and no error, although every one of those
// errors quotes a URL that contains it.
func TestTokenNeverInLogsOrErrors(t *testing.T) {
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var errs []error
	ctx := context.Background()

	// New against each broken server.
	for _, mode := range []string{"close", "500"} {
		f := newFakeTG(t)
		f.setMode(mode)
		_, err := New(ctx, Config{Token: testToken, APIURL: f.srv.URL, Log: log, HTTPClient: f.srv.Client()})
		if err == nil {
			t.Fatalf("New against a server in mode %s succeeded", mode)
		}
		errs = append(errs, err)
	}
	_, err := New(ctx, Config{Token: testToken, APIURL: "http://127.0.0.1:1", Log: log})
	if err == nil {
		t.Fatal("New against an unreachable address succeeded")
	}
	errs = append(errs, err)

	// Run and Send against a server that breaks after New.
	f := newFakeTG(t)
	a, err := New(ctx, Config{Token: testToken, APIURL: f.srv.URL, Log: log, HTTPClient: f.srv.Client(), PollTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	fastAdapter(a)
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- a.Run(runCtx, handlerFunc(func(context.Context, bot.Event) error { return nil })) }()
	waitFor(t, "polling", func() bool { return len(f.callsOf("getUpdates")) > 0 })
	for _, mode := range []string{"close", "500"} {
		f.setMode(mode)
		before := strings.Count(logs.String(), "getUpdates failed")
		waitFor(t, "failed polls logged", func() bool { return strings.Count(logs.String(), "getUpdates failed") >= before+2 })
		err := a.Send(ctx, addr(6001), bot.Message{Text: "Hallo"})
		if !errors.Is(err, bot.ErrUnknownOutcome) {
			t.Errorf("Send against a server in mode %s = %v, want an unknown outcome: the request was written", mode, err)
		}
		errs = append(errs, err)
	}
	stop()
	if err := <-done; err != nil {
		t.Errorf("Run = %v, want nil after its context ended", err)
	}

	// Run and Send against an address nobody listens on.
	f.setMode("")
	b, err := New(ctx, Config{Token: testToken, APIURL: f.srv.URL, Log: log, HTTPClient: f.srv.Client(), PollTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	fastAdapter(b)
	b.api.SetAPIEndpoint("http://127.0.0.1:1/bot%s/%s")
	err = b.Send(ctx, addr(6001), bot.Message{Text: "Hallo"})
	if err == nil || errors.Is(err, bot.ErrUnknownOutcome) {
		t.Errorf("Send to a refused connection = %v, want an error that says nothing was sent", err)
	}
	errs = append(errs, err)
	runCtx, stop = context.WithCancel(ctx)
	go func() { done <- b.Run(runCtx, handlerFunc(func(context.Context, bot.Event) error { return nil })) }()
	before := strings.Count(logs.String(), "deleteWebhook failed")
	waitFor(t, "failed deleteWebhook logged", func() bool { return strings.Count(logs.String(), "deleteWebhook failed") >= before+2 })
	stop()
	<-done

	// The library's own loop prints the transport error, URL and all,
	// through the logger New installed.
	updates := b.api.GetUpdatesChan(tgbotapi.UpdateConfig{})
	waitFor(t, "the library's log line", func() bool { return strings.Contains(logs.String(), "Failed to get updates") })
	b.api.StopReceivingUpdates()
	_ = updates

	out := logs.String()
	assertNoToken(t, "the logs", out)
	for _, err := range errs {
		assertNoToken(t, "error", err.Error())
	}
	// The lines are there, redacted, not missing.
	if !strings.Contains(out, "bot<redacted>/getUpdates") || !strings.Contains(out, "telegram library") {
		t.Errorf("expected redacted URLs from the adapter and the library in the logs:\n%s", out)
	}
	if t.Failed() {
		t.Logf("logs:\n%s", out)
	}
}

// TestRedact covers the forms a token takes in text.
func TestRedact(t *testing.T) {
	r := newRedactor(testToken, "webhook-secret-0123456789")
	for _, in := range []string{
		`Post "https://api.telegram.org/bot` + testToken + `/getMe": dial tcp: connection refused`,
		"token " + testToken,
		"escaped " + url.QueryEscape(testToken),
		"path " + url.PathEscape(testToken),
		"secret part " + strings.SplitN(testToken, ":", 2)[1],
		"another bot's bot987654321:ZZZ_zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz/getMe",
	} {
		out := r.redact(in)
		assertNoToken(t, "redacted", out)
		if strings.Contains(out, "ZZZ_zzzz") {
			t.Errorf("another token survived: %s", out)
		}
		if !strings.Contains(out, "<redacted>") {
			t.Errorf("nothing redacted in %q", out)
		}
	}
	if out := r.redact("webhook-secret-0123456789"); strings.Contains(out, "webhook-secret") {
		t.Errorf("webhook secret survived: %s", out)
	}
	if out := r.redact("update_id=12 chat 4711"); out != "update_id=12 chat 4711" {
		t.Errorf("innocent text changed: %s", out)
	}
}
