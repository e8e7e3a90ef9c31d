package slack

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	slackapi "github.com/slack-go/slack"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
)

// FuzzEscape: whatever a user types shows in Slack exactly as typed:
// escaped, it holds none of Slack's control characters (so no mention,
// channel or link markup), and decoding Slack's entities gives it back,
// as the adapter decodes what Slack delivers.
func FuzzEscape(f *testing.F) {
	for _, s := range bottest.FuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e := escape(s)
		if strings.ContainsAny(e, "<>") || unescape(e) != s {
			t.Fatalf("escape(%q) = %q, shown as %q", s, e, unescape(e))
		}
	})
}

// mentionsLine is the only mrkdwn the adapter writes: user mentions.
var mentionsLine = regexp.MustCompile(`^<@[UW][A-Z0-9]{2,20}>( <@[UW][A-Z0-9]{2,20}>)*$`)

// FuzzRender: a message of any text, buttons and mentions becomes Block
// Kit that shows the text as written (plain_text objects, entities
// decoded, cut only at white space or between characters), whose texts
// hold no control character, whose button labels show as written (or cut
// with "…" within Slack's 75), and whose only mrkdwn mentions the users
// the message names, checked to be user IDs: nothing a user typed can
// mention anyone.
func FuzzRender(f *testing.F) {
	for _, s := range bottest.FuzzSeeds {
		f.Add(s, "Weiter <!here>", "U0ABC123", uint8(2))
	}
	f.Add("x", strings.Repeat("&", 80), "<!channel>", uint8(1))
	f.Fuzz(func(t *testing.T, text, label, mention string, buttons uint8) {
		m := bot.Message{Text: text, Mentions: []string{mention, "U0OK1234"}}
		for i := range int(buttons % 4) {
			m.Buttons = append(m.Buttons, []bot.Button{{Label: label, Action: fmt.Sprintf("%d:b", i)}})
		}
		var sections []string
		nbuttons := 0
		for i, p := range render(m, nil) {
			if strings.ContainsAny(p.text, "<>") {
				t.Fatalf("part %d: fallback text %q", i, p.text)
			}
			js, err := json.Marshal(p.blocks)
			if err != nil {
				t.Fatal(err)
			}
			var blocks []struct {
				Type     string   `json:"type"`
				BlockID  string   `json:"block_id"`
				Text     *textObj `json:"text"`
				Elements []struct {
					Type string `json:"type"`
					Text any    `json:"text"`
				} `json:"elements"`
			}
			if err := json.Unmarshal(js, &blocks); err != nil {
				t.Fatal(err)
			}
			for _, b := range blocks {
				switch b.Type {
				case "section":
					if b.Text.Type != slackapi.PlainTextType || strings.ContainsAny(b.Text.Text, "<>") || utf8.RuneCountInString(b.Text.Text) > maxSection {
						t.Fatalf("section %q (%s)", b.Text.Text, b.Text.Type)
					}
					sections = append(sections, unescape(b.Text.Text))
				case "context":
					if b.BlockID != "ampel_mentions" || len(b.Elements) != 1 || b.Elements[0].Type != slackapi.MarkdownType ||
						!mentionsLine.MatchString(fmt.Sprint(b.Elements[0].Text)) || !strings.HasSuffix(fmt.Sprint(b.Elements[0].Text), "<@U0OK1234>") {
						t.Fatalf("context block %s", js)
					}
				case "actions":
					for _, el := range b.Elements {
						obj, _ := el.Text.(map[string]any)
						shown, _ := obj["text"].(string)
						if obj["type"] != slackapi.PlainTextType || strings.ContainsAny(shown, "<>") || utf8.RuneCountInString(shown) > maxButtonText {
							t.Fatalf("button text %v", obj)
						}
						var want string // the label as JSON carries it: U+FFFD for each invalid byte
						if b, err := json.Marshal(label); err != nil || json.Unmarshal(b, &want) != nil {
							t.Fatal(err)
						}
						if got := unescape(shown); got != want && !(strings.HasSuffix(got, "…") && strings.HasPrefix(want, strings.TrimSuffix(got, "…"))) {
							t.Fatalf("button %q shown as %q", label, got)
						}
						nbuttons++
					}
				default:
					t.Fatalf("block of type %q", b.Type)
				}
			}
		}
		if !bottest.SameText(text, sections) {
			t.Fatalf("text %q shown as %q", text, sections)
		}
		if nbuttons != len(m.Buttons) {
			t.Fatalf("%d buttons shown of %d", nbuttons, len(m.Buttons))
		}
	})
}

// httpFuzz is the adapter in HTTP mode for a fuzz target: post signs a
// body as Slack does (a new timestamp each time, so that no input counts
// as a replay of another) and checks what came back and what the adapter
// sent since: the fake reports any text object with a control character
// and any Slack limit broken.
type httpFuzz struct {
	e    *env
	h    http.Handler
	sink *bottest.ErrorSink
	// used holds, by body, the timestamps it was signed with: a body and
	// timestamp sent twice is a replay, which the adapter refuses.
	used map[string]map[int64]bool
}

func newHTTPFuzz(f *testing.F) *httpFuzz {
	e := newEnv(f, func(c *Config) { c.AppToken, c.SigningSecret = "", testSecret })
	sink := &bottest.ErrorSink{TB: f}
	e.fake.mu.Lock()
	e.fake.t = sink
	e.fake.users["U0FUZZ001"] = slackUser{locale: "de-DE", tz: "Europe/Berlin", realName: "Eva <!channel> @here"}
	e.fake.ims["U0FUZZ001"] = "D0FUZZ001"
	e.fake.mu.Unlock()
	mux := http.NewServeMux()
	for pattern, h := range e.a.HTTPHandlers(e.engine) {
		mux.Handle(pattern, h)
	}
	return &httpFuzz{e: e, h: mux, sink: sink, used: map[string]map[int64]bool{}}
}

// post sends body to path and fails t unless the answer is one of ok.
func (hf *httpFuzz) post(t *testing.T, path, body, contentType string, ok ...int) {
	t.Helper()
	// A timestamp within Slack's five minutes not used for this body yet.
	now := time.Now().Unix()
	if len(hf.used) > 100_000 { // a long run: forget what the adapter has forgotten
	bodies:
		for b, stamps := range hf.used {
			for ts := range stamps {
				if ts > now-310 {
					continue bodies
				}
			}
			delete(hf.used, b)
		}
	}
	if hf.used[body] == nil {
		hf.used[body] = map[int64]bool{}
	}
	ts := now
	for ; hf.used[body][ts]; ts-- {
		if ts < now-290 {
			t.Skip("this body was sent as often as five minutes of timestamps allow")
		}
	}
	hf.used[body][ts] = true
	rec := do(hf.h, path, body, sign(testSecret, ts, body), contentType)
	good := false
	for _, c := range ok {
		good = good || rec.Code == c
	}
	if !good {
		t.Fatalf("%s: status %d (%s) for %q", path, rec.Code, rec.Body, body)
	}
	if errs := hf.sink.Take(); len(errs) > 0 {
		t.Fatalf("%s %q: the adapter sent what Slack would refuse or show as markup: %q", path, body, errs)
	}
}

// FuzzHTTPEvents: any signed Events API body is answered 200 (taken, or
// dropped as not understood: a retry would not read better) or 400 (not
// JSON), never 500 nor a panic, and every answer the bot posts is plain.
func FuzzHTTPEvents(f *testing.F) {
	for _, p := range []map[string]any{
		dmEvent("D0FUZZ001", "U0FUZZ001", "/check"),
		dmEvent("D0FUZZ001", "U0FUZZ001", "<!channel> *fett* @here &amp;"),
		mentionEvent("C0FUZZ001", "U0FUZZ001", "hilfe <@U0OTHER1>"),
		{"type": "url_verification", "challenge": "abc<script>"},
		eventPayload("EvFUZZ1", map[string]any{"type": "app_home_opened", "user": "U0FUZZ001", "tab": "home"}),
		eventPayload("EvFUZZ2", map[string]any{"type": "member_left_channel", "user": botUser, "channel": "C0FUZZ001"}),
		eventPayload("EvFUZZ3", map[string]any{"type": "message", "subtype": "bot_message", "channel": "D0FUZZ001", "text": "x"}),
	} {
		b, _ := json.Marshal(p)
		f.Add(string(b))
	}
	f.Add(`{"type":"event_callback","event":null}`)
	f.Add(`[`)
	hf := newHTTPFuzz(f)
	f.Fuzz(func(t *testing.T, body string) {
		hf.post(t, "/slack/events", body, "application/json", http.StatusOK, http.StatusBadRequest)
	})
}

// FuzzHTTPInteractivity: any signed interactivity payload (a button
// press, a form submitted, anything else) is answered 200 or 400, never
// 500 nor a panic.
func FuzzHTTPInteractivity(f *testing.F) {
	press := map[string]any{
		"type": "block_actions", "team": map[string]any{"id": teamID}, "user": map[string]any{"id": "U0FUZZ001", "team_id": teamID},
		"container":  map[string]any{"type": "message", "message_ts": "1804150800.000001", "channel_id": "D0FUZZ001"},
		"channel":    map[string]any{"id": "D0FUZZ001"},
		"trigger_id": "1.2.3", "message": map[string]any{"ts": "1804150800.000001", "text": "x"},
		"actions": []any{map[string]any{"action_id": "ampel_b1", "block_id": "ampel_r1", "value": "/check", "type": "button", "text": map[string]any{"type": "plain_text", "text": "<b>"}}},
	}
	submit := map[string]any{
		"type": "view_submission", "team": map[string]any{"id": teamID}, "user": map[string]any{"id": "U0FUZZ001", "team_id": teamID},
		"trigger_id": "1.2.4", "view": map[string]any{"id": "V1", "callback_id": "ampel_form", "private_metadata": "x",
			"state": map[string]any{"values": map[string]any{"b": map[string]any{"a": map[string]any{"type": "plain_text_input", "value": "<!channel>"}}}}},
	}
	for _, p := range []map[string]any{press, submit} {
		b, _ := json.Marshal(p)
		f.Add(string(b))
	}
	f.Add(`{"type":"shortcut"}`)
	hf := newHTTPFuzz(f)
	f.Fuzz(func(t *testing.T, payload string) {
		hf.post(t, "/slack/interactivity", url.Values{"payload": {payload}}.Encode(), "application/x-www-form-urlencoded", http.StatusOK, http.StatusBadRequest)
	})
}

// FuzzHTTPCommand: "/ampel <anything>" typed in the DM with the bot is
// taken (200), and whatever the bot answers is plain: nothing in the
// command's text becomes markup or a mention.
func FuzzHTTPCommand(f *testing.F) {
	for _, s := range bottest.FuzzSeeds {
		f.Add(s)
	}
	hf := newHTTPFuzz(f)
	f.Fuzz(func(t *testing.T, text string) {
		form := url.Values{}
		for k, v := range slashPayload("D0FUZZ001", "U0FUZZ001", text) {
			form.Set(k, fmt.Sprint(v))
		}
		hf.post(t, "/slack/commands", form.Encode(), "application/x-www-form-urlencoded", http.StatusOK)
	})
}
