package mattermost

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/mattermost/mattermost/server/public/model"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
)

// asShown is text as the client shows it when it is written literally: tabs
// are four spaces, no-break spaces spaces, zero width spaces invisible
// (clientView's normalisation).
func asShown(s string) string {
	return strings.NewReplacer("\r\n", "\n", "\r", "\n", "\t", "    ", "\u00a0", " ", "\u200b", "").Replace(s)
}

// FuzzEscape: whatever a user types shows in Mattermost's client exactly
// as typed (the render model, clientView), and nothing in it takes effect:
// no formatting, link, @mention (@all, @channel, @here or a person), emoji.
func FuzzEscape(f *testing.F) {
	for _, s := range append(bottest.FuzzSeeds, hostile...) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			t.Skip("the engine sends valid UTF-8 only")
		}
		v := clientView(escape(s))
		if want := asShown(s); v.text != want {
			t.Fatalf("%q shown as %q (sent %q)", s, v.text, escape(s))
		}
		if len(v.active) > 0 {
			t.Fatalf("%q takes effect as %q (sent %q)", s, v.active, escape(s))
		}
	})
}

// FuzzRender: a message of any text and button labels, on a server without
// buttons (the choices are numbered lines), becomes posts within the
// server's limit that show the text and the labels as written, cut only at
// white space or between characters, with nothing taking effect.
func FuzzRender(f *testing.F) {
	for _, s := range bottest.FuzzSeeds {
		f.Add(s, "@all *Weiter*", uint8(2))
	}
	e := newEnv(f, func(c *Config) { c.CallbackURL = "" })
	f.Fuzz(func(t *testing.T, text, label string, buttons uint8) {
		if !utf8.ValidString(text) || !utf8.ValidString(label) {
			t.Skip("the engine sends valid UTF-8 only")
		}
		m := bot.Message{Text: text}
		for range int(buttons % 4) {
			m.Buttons = append(m.Buttons, []bot.Button{{Label: label, Action: "1:b"}})
		}
		want := text
		if len(m.Buttons) > 0 {
			want = strings.TrimRight(text, "\n") + "\n\n" + numbered(m.Buttons)
		}
		var shown []string
		for i, p := range e.a.render("chan", "", "nonce", m) {
			if p.text == "\u200b" && strings.TrimSpace(want) == "" {
				continue // a blank message: an invisible post
			}
			if n := utf8.RuneCountInString(p.text); n > maxPost {
				t.Fatalf("part %d: %d runes", i, n)
			}
			v := clientView(p.text)
			if len(v.active) > 0 {
				t.Fatalf("part %d of %q: %q takes effect (sent %q)", i, want, v.active, p.text)
			}
			shown = append(shown, v.text)
		}
		if !bottest.SameText(asShown(want), shown) {
			t.Fatalf("%q shown as %q", want, shown)
		}
	})
}

// callbackFuzz is the adapter with its callbacks for a fuzz target: a
// user in a direct channel with the bot, and a check of the bot's posts
// since the last input (the client shows nothing as markup in them).
type callbackFuzz struct {
	e    *env
	seen int
}

const (
	fuzzUser = "fuzzuser000000000000000000"
	fuzzDM   = "fuzzdm00000000000000000000"
)

func newCallbackFuzz(f *testing.F) *callbackFuzz {
	e := newEnv(f, nil)
	e.fake.addUser(fuzzUser, "de", "Europe/Berlin")
	e.fake.addDM(fuzzDM, fuzzUser)
	return &callbackFuzz{e: e}
}

func (cf *callbackFuzz) post(t *testing.T, path string, body []byte, hdr http.Header, ok ...int) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	for k, v := range hdr {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	cf.e.mux.ServeHTTP(rec, req)
	good := false
	for _, c := range ok {
		good = good || rec.Code == c
	}
	if !good {
		t.Fatalf("%s: status %d (%s) for %q", path, rec.Code, rec.Body, body)
	}
	posts := cf.e.fake.botPosts(fuzzDM)
	for _, p := range posts[min(cf.seen, len(posts)):] {
		if v := clientView(p.Message); len(v.active) > 0 {
			t.Fatalf("after %q the bot posted %q, where %q takes effect", body, p.Message, v.active)
		}
	}
	cf.seen = len(posts)
}

// FuzzCommandBody: any form body of "/ampel" with the command's token is
// answered 200 or 400, never 500 nor a panic.
func FuzzCommandBody(f *testing.F) {
	f.Add("channel_id=" + fuzzDM + "&user_id=" + fuzzUser + "&text=check+zo-kmu&trigger_id=t1")
	f.Add("channel_id=" + fuzzDM + "&user_id=" + fuzzUser + "&text=%40all+%3C%21channel%3E")
	f.Add("channel_id=&user_id=")
	f.Add("%zz")
	cf := newCallbackFuzz(f)
	hdr := http.Header{"Authorization": {"Token cmd-token-1234567890"}, "Content-Type": {"application/x-www-form-urlencoded"}}
	f.Fuzz(func(t *testing.T, body string) {
		form, err := url.ParseQuery(body)
		if err == nil && form.Get("channel_id") != "" && form.Get("channel_id") != fuzzDM {
			t.Skip("a channel the fake server does not know: the server would not send it")
		}
		cf.post(t, CommandPath, []byte(body), hdr, http.StatusOK, http.StatusBadRequest)
	})
}

// FuzzCommandText: "/ampel <anything>" in the direct channel is taken
// (200), and the bot's answers show nothing as markup: the text it echoes
// ("unknown command /x") is literal.
func FuzzCommandText(f *testing.F) {
	for _, s := range bottest.FuzzSeeds {
		f.Add(s)
	}
	cf := newCallbackFuzz(f)
	hdr := http.Header{"Authorization": {"Token cmd-token-1234567890"}, "Content-Type": {"application/x-www-form-urlencoded"}}
	n := 0
	f.Fuzz(func(t *testing.T, text string) {
		n++
		body := url.Values{"channel_id": {fuzzDM}, "user_id": {fuzzUser}, "text": {text}, "trigger_id": {"t" + string(rune('a'+n%26)) + strings.Repeat("x", n%7)}}.Encode()
		cf.post(t, CommandPath, []byte(body), hdr, http.StatusOK)
	})
}

// FuzzActionBody: any body POSTed to the button callback is answered, never
// with a panic: 400 if it is no JSON, 403 unless its context carries the
// adapter's signature, and a signed press (the seeds are genuine contexts,
// which the fuzzer varies) 200 or one of the answers a press may get.
func FuzzActionBody(f *testing.F) {
	cf := newCallbackFuzz(f)
	sign := func(action, label, nonce string) []byte {
		p := press{action: action, label: label, channel: fuzzDM, user: fuzzUser, nonce: nonce}
		req := model.PostActionIntegrationRequest{UserId: fuzzUser, ChannelId: fuzzDM, PostId: model.NewId(), Context: map[string]any{
			"v": ctxVersion, "a": p.action, "l": p.label, "c": p.channel, "u": p.user, "n": p.nonce, "s": cf.e.a.sign(p)}}
		b, _ := json.Marshal(req)
		return b
	}
	f.Add(sign("/check", "Check <b>starten</b> @all", "n1"))
	f.Add(sign("3:r:red", "🔴", "n2"))
	f.Add(sign("rv:1:done", "Erledigt", "n3"))
	f.Add([]byte(`{"user_id":"x","context":{"v":"1","a":"/plan","s":"forged"}}`))
	f.Add([]byte(`{`))
	f.Fuzz(func(t *testing.T, body []byte) {
		cf.post(t, ActionsPath, body, nil, http.StatusOK, http.StatusBadRequest, http.StatusForbidden, http.StatusGone)
	})
}

// FuzzPress: a genuine press (signed context) of a button with any action
// and label is taken (200), and nothing the bot answers takes effect as
// markup, the pressed post's "✓ label" included.
func FuzzPress(f *testing.F) {
	for _, s := range bottest.FuzzSeeds {
		f.Add("/"+s, s)
	}
	f.Add("1:r:red", "🔴 @here")
	cf := newCallbackFuzz(f)
	f.Fuzz(func(t *testing.T, action, label string) {
		if action == "" || !utf8.ValidString(action) || !utf8.ValidString(label) {
			t.Skip("the engine makes no button without an action, nor of invalid UTF-8 (JSON could not carry it)")
		}
		nonce := model.NewId()
		p := press{action: action, label: label, channel: fuzzDM, user: fuzzUser, nonce: nonce}
		req := model.PostActionIntegrationRequest{UserId: fuzzUser, ChannelId: fuzzDM, PostId: model.NewId(), Context: map[string]any{
			"v": ctxVersion, "a": p.action, "l": p.label, "c": p.channel, "u": p.user, "n": p.nonce, "s": cf.e.a.sign(p)}}
		body, _ := json.Marshal(req)
		cf.post(t, ActionsPath, body, nil, http.StatusOK)
	})
}

// FuzzDialogBody: any body POSTed to the dialog callback is answered 400
// (no JSON), 403 (no state signed by the adapter) or, for a genuine state
// with any submission (the seeds; the fuzzer varies them), 200: never 500
// nor a panic.
func FuzzDialogBody(f *testing.F) {
	cf := newCallbackFuzz(f)
	signed := func(action string, sub map[string]any) []byte {
		st := dialogState{V: ctxVersion, Form: "form1", Chat: fuzzDM, User: fuzzUser, Action: action}
		st.Sig = cf.e.a.signState(st)
		state, _ := json.Marshal(st)
		b, _ := json.Marshal(model.SubmitDialogRequest{CallbackId: "form1", State: string(state), UserId: fuzzUser, ChannelId: fuzzDM, Submission: sub})
		return b
	}
	f.Add(signed("5:form", map[string]any{"text": "@all <b>", "priority": "high", "start": "morgen"}))
	f.Add(signed("5:form", map[string]any{"x": 1.5, "y": true, "z": nil}))
	f.Add([]byte(`{"cancelled":true}`))
	f.Add([]byte(`{"state":"{\"v\":\"1\"}"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		cf.post(t, DialogPath, body, nil, http.StatusOK, http.StatusBadRequest, http.StatusForbidden)
	})
}
