package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ampel-bot/ampel/adapters/console"
	"github.com/ampel-bot/ampel/adapters/slack"
	"github.com/ampel-bot/ampel/adapters/telegram"
	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
	"github.com/ampel-bot/ampel/bot/features"
	"github.com/ampel-bot/ampel/store"
)

// One person across messengers, through the real adapters against fakes
// of Telegram's Bot API and Slack's Web and Events APIs, and the console,
// on one engine and one bbolt file, under a simulated clock.

// xpTelegram is a Bot API that gives updates one by one and keeps what
// is sent, per chat.
type xpTelegram struct {
	mu      sync.Mutex
	next    int
	pending []string
	ids     []int
	shown   map[string][]string // chat → texts
}

func (f *xpTelegram) push(chat int64, text string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u := map[string]any{"update_id": f.next, "message": map[string]any{
		"message_id": f.next, "date": 1, "text": text,
		"from": map[string]any{"id": chat, "is_bot": false, "first_name": "Anna", "language_code": "en"},
		"chat": map[string]any{"id": chat, "type": "private", "first_name": "Anna"},
	}}
	b, _ := json.Marshal(u)
	f.pending = append(f.pending, string(b))
	f.ids = append(f.ids, f.next)
	f.next++
}

func (f *xpTelegram) serve(w http.ResponseWriter, r *http.Request) {
	method := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
	_ = r.ParseMultipartForm(1 << 20)
	w.Header().Set("Content-Type", "application/json")
	switch method {
	case "getMe":
		io.WriteString(w, `{"ok":true,"result":{"id":42,"is_bot":true,"first_name":"Ampel","username":"ampel_test_bot"}}`)
	case "getUpdates":
		offset, _ := strconv.Atoi(r.FormValue("offset"))
		f.mu.Lock()
		for len(f.ids) > 0 && offset > 0 && f.ids[0] < offset {
			f.ids, f.pending = f.ids[1:], f.pending[1:]
		}
		out := "[]"
		if len(f.pending) > 0 {
			out = "[" + f.pending[0] + "]"
		}
		f.mu.Unlock()
		if out == "[]" {
			time.Sleep(10 * time.Millisecond)
		}
		io.WriteString(w, `{"ok":true,"result":`+out+`}`)
	case "sendMessage", "sendPhoto", "sendDocument", "editMessageText":
		f.mu.Lock()
		f.shown[r.FormValue("chat_id")] = append(f.shown[r.FormValue("chat_id")], r.FormValue("text")+r.FormValue("caption"))
		n := len(f.shown[r.FormValue("chat_id")])
		f.mu.Unlock()
		fmt.Fprintf(w, `{"ok":true,"result":{"message_id":%d,"date":1,"chat":{"id":1,"type":"private"},"text":"x"}}`, 1000+n)
	default:
		io.WriteString(w, `{"ok":true,"result":true}`)
	}
}

func (f *xpTelegram) texts(chat string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.shown[chat]...)
}

// xpSlack is Slack's Web API: who the bot is, messages and files kept per
// channel.
type xpSlack struct {
	srv   *httptest.Server
	mu    sync.Mutex
	shown map[string][]string // channel → text and blocks
	files int
}

func (f *xpSlack) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if strings.HasPrefix(r.URL.Path, "/upload/") {
		io.WriteString(w, "OK")
		return
	}
	_ = r.ParseForm()
	switch strings.TrimPrefix(r.URL.Path, "/api/") {
	case "auth.test":
		io.WriteString(w, `{"ok":true,"user_id":"UBOT","team_id":"T1","user":"ampel","team":"Team","bot_id":"B1"}`)
	case "users.info":
		io.WriteString(w, `{"ok":true,"user":{"id":"UANNA","team_id":"T1","name":"anna","real_name":"Anna","locale":"en-US","tz":"Europe/Berlin","tz_offset":3600}}`)
	case "chat.postMessage", "chat.update":
		f.mu.Lock()
		ch := r.FormValue("channel")
		f.shown[ch] = append(f.shown[ch], r.FormValue("text")+"\n"+r.FormValue("blocks"))
		n := len(f.shown[ch])
		f.mu.Unlock()
		fmt.Fprintf(w, `{"ok":true,"channel":%q,"ts":"%d.000100"}`, ch, 1700000000+n)
	case "conversations.open":
		io.WriteString(w, `{"ok":true,"channel":{"id":"DANNA"}}`)
	case "files.getUploadURLExternal":
		f.mu.Lock()
		f.files++
		id := fmt.Sprintf("F%d", f.files)
		f.mu.Unlock()
		fmt.Fprintf(w, `{"ok":true,"upload_url":%q,"file_id":%q}`, f.srv.URL+"/upload/"+id, id)
	case "files.completeUploadExternal":
		io.WriteString(w, `{"ok":true,"files":[{"id":"F1","title":"x"}]}`)
	default:
		io.WriteString(w, `{"ok":true}`)
	}
}

func (f *xpSlack) texts(ch string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.shown[ch]...)
}

// TestOnePersonAcrossMessengers: a check begun through Telegram, linked
// and finished through Slack, then /plan on the console: one plan; its
// first reminder, with reminders sent to the platform chosen in
// /reminders, is sent once, there only.
func TestOnePersonAcrossMessengers(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clock := bottest.NewClock(time.Date(2027, 3, 10, 9, 0, 0, 0, bottest.Zone("Europe/Berlin")))
	db, err := store.Open(filepath.Join(t.TempDir(), "x.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	catalog, texts := bottest.Content(t)
	engine, err := bot.New(bot.Config{Store: db, Flows: catalog, Texts: texts, Clock: clock,
		Zone: bottest.Zone("Europe/Berlin"), Features: features.All()})
	if err != nil {
		t.Fatal(err)
	}
	defer engine.Close()

	tgFake := &xpTelegram{next: 100, shown: map[string][]string{}}
	tgSrv := httptest.NewServer(http.HandlerFunc(tgFake.serve))
	defer tgSrv.Close()
	tg, err := telegram.New(ctx, telegram.Config{Token: "1:fake", APIURL: tgSrv.URL, PollTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	slFake := &xpSlack{shown: map[string][]string{}}
	slFake.srv = httptest.NewServer(http.HandlerFunc(slFake.serve))
	defer slFake.srv.Close()
	const secret = "8f742231b10e8888abcd99yyyzzz85a5"
	sl, err := slack.New(ctx, slack.Config{BotToken: "xoxb-fake", SigningSecret: secret, APIURL: slFake.srv.URL + "/api/"})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	for path, h := range sl.HTTPHandlers(engine) {
		mux.Handle(path, h)
	}
	events := httptest.NewServer(mux)
	defer events.Close()
	in, typed := io.Pipe()
	var out syncBuffer
	con := console.New(console.Config{In: in, Out: &out, Lang: "en", RunID: "r1", Dir: t.TempDir()})
	for _, a := range []bot.Adapter{tg, sl, con} {
		engine.Register(a)
	}
	go engine.RunOutbox(ctx)
	go tg.Run(ctx, engine)
	go sl.Run(ctx, engine)
	conDone := make(chan struct{})
	go func() { con.Run(ctx, engine); close(conDone) }()

	const anna = 4711
	annaTG := bot.Address{Platform: telegram.Platform, Chat: strconv.Itoa(anna), User: strconv.Itoa(anna)}
	annaSL := bot.Address{Platform: slack.Platform, Workspace: "T1", Chat: "DANNA", User: "UANNA"}
	n := 0
	// waitConv waits until addr's conversation has answered the event
	// that made ok true: the platforms deliver on their own goroutines.
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(hangGuard); !ok(); time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("waiting for %s", what)
			}
		}
		if err := engine.Settle(ctx); err != nil {
			t.Fatal(err)
		}
	}
	onTG := func(text string) string {
		t.Helper()
		before := len(tgFake.texts(annaTG.Chat))
		tgFake.push(anna, text)
		waitFor("Telegram's answer to "+text, func() bool { return len(tgFake.texts(annaTG.Chat)) > before })
		return strings.Join(tgFake.texts(annaTG.Chat)[before:], "\n")
	}
	onSlack := func(text string) string {
		t.Helper()
		n++
		before := len(slFake.texts("DANNA"))
		// A slash command comes as one, anything else as a message.
		path, typ := "/slack/events", "application/json"
		body, _ := json.Marshal(map[string]any{"type": "event_callback", "team_id": "T1", "event_id": "Ev" + strconv.Itoa(n), "event_time": 1804150800,
			"event": map[string]any{"type": "message", "channel_type": "im", "channel": "DANNA", "user": "UANNA", "text": text, "ts": strconv.Itoa(1800000000+n) + ".000200"}})
		if cmd, ok := strings.CutPrefix(text, "/ampel "); ok {
			path, typ = "/slack/commands", "application/x-www-form-urlencoded"
			body = []byte(url.Values{"command": {"/ampel"}, "text": {cmd}, "user_id": {"UANNA"}, "channel_id": {"DANNA"},
				"team_id": {"T1"}, "trigger_id": {"trig" + strconv.Itoa(n)}}.Encode())
		}
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		req, _ := http.NewRequest("POST", events.URL+path, strings.NewReader(string(body)))
		req.Header.Set("Content-Type", typ)
		req.Header.Set("X-Slack-Request-Timestamp", ts)
		mac := hmac.New(sha256.New, []byte(secret))
		io.WriteString(mac, "v0:"+ts+":"+string(body))
		req.Header.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("Slack event %q: %v %v", text, resp, err)
		}
		resp.Body.Close()
		waitFor("Slack's answer to "+text, func() bool { return len(slFake.texts("DANNA")) > before })
		return strings.Join(slFake.texts("DANNA")[before:], "\n")
	}
	onConsole := func(text string) string {
		t.Helper()
		before := out.String()
		io.WriteString(typed, text+"\n")
		waitFor("the console's answer to "+text, func() bool {
			s := out.String()
			return len(s) > len(before) && strings.Count(s[len(before):], "\n") > 1
		})
		return out.String()[len(before):]
	}

	// Telegram: the check begins, three checkpoints rated.
	if got := onTG("/check zo-kmu"); !strings.Contains(got, "1/7") {
		t.Fatalf("/check on Telegram: %q", got)
	}
	for range 3 {
		onTG("3")
	}
	got := onTG("/link")
	i := strings.Index(got, "link ")
	if i < 0 {
		t.Fatalf("/link on Telegram: %q, want a code", got)
	}
	code := strings.Fields(got[i+len("link "):])[0]
	if got := onSlack("/ampel link " + code); !strings.Contains(got, "Linked") {
		t.Fatalf("/ampel link CODE on Slack: %q", got)
	}
	// Slack: the check goes on at the fourth checkpoint and ends there.
	if got := onSlack("/ampel check"); !strings.Contains(got, "4/7") {
		t.Fatalf("/check on Slack: %q, want it to go on at 4/7", got)
	}
	for _, s := range []string{"3", "3", "3", "1", "1", "Meet two local companies", "1", "Me", "2027-03-15", "2027-04-15", "1"} {
		got = onSlack(s)
	}
	if !strings.Contains(got, "Meet two local companies") {
		t.Fatalf("the plan on Slack: %q", got)
	}
	// The console, linked too, shows the one plan and sends reminders to
	// Telegram.
	code = ""
	got = onTG("/link")
	if i := strings.Index(got, "link "); i >= 0 {
		code = strings.Fields(got[i+len("link "):])[0]
	}
	if got := onConsole("/link " + code); !strings.Contains(got, "Linked") {
		t.Fatalf("/link CODE on the console: %q", got)
	}
	if got := onConsole("/plan"); strings.Count(got, "Meet two local companies") != 1 || !strings.Contains(got, "1 open measure") {
		t.Fatalf("/plan on the console: %q, want the one plan of one measure", got)
	}
	onConsole("/reminders")
	if got := onConsole("To Telegram"); !strings.Contains(got, "Reminders go to: Telegram") {
		t.Fatalf("choosing Telegram in /reminders: %q", got)
	}
	onConsole("/cancel")

	tgBefore, slBefore, conBefore := len(tgFake.texts(annaTG.Chat)), len(slFake.texts("DANNA")), out.String()
	for range 2 { // the start's reminder, then nothing more
		clock.Set(time.Date(2027, 3, 15, 10, 0, 0, 0, bottest.Zone("Europe/Berlin")))
		if _, err := engine.RunDue(ctx, clock.Now()); err != nil {
			t.Fatal(err)
		}
		if err := engine.Settle(ctx); err != nil {
			t.Fatal(err)
		}
	}
	sent := tgFake.texts(annaTG.Chat)[tgBefore:]
	if len(sent) != 1 || !strings.Contains(sent[0], "Meet two local companies") {
		t.Errorf("the start's reminder on Telegram: %q, want it once", sent)
	}
	if got := slFake.texts("DANNA")[slBefore:]; len(got) != 0 {
		t.Errorf("Slack got %q at the reminder's time, want nothing", got)
	}
	if got := out.String()[len(conBefore):]; got != "" {
		t.Errorf("the console got %q at the reminder's time, want nothing", got)
	}
	for _, a := range []bot.Address{annaTG, annaSL, console.Address()} {
		c, err := engine.Load(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		if a == annaTG && (len(c.Plan.Measures) != 1 || len(c.Linked) != 3) {
			t.Errorf("Telegram's conversation: %d measures, linked %v; want the one plan of three chats", len(c.Plan.Measures), c.Linked)
		}
		if a != annaTG && (len(c.Plan.Measures) != 0 || len(c.Reminders) != 0) {
			t.Errorf("%s's conversation holds a plan of its own: %+v", a.Platform, c.Plan)
		}
	}
	typed.Close()
	cancel()
	<-conDone
}
