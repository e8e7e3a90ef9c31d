package mattermost

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mattermost/mattermost/server/public/model"
)

// toMeasureQuestion runs the check in c's channel up to the first
// measure question of the plan.
func toMeasureQuestion(c *chatter) {
	c.t.Helper()
	c.say("/start")
	c.tap("Check starten")
	c.tap("Zusammenarbeit mit KMU")
	c.tap("🔴 Dringender")
	c.say("2")
	c.tap("🟢")
	c.say("3")
	c.tap("🟢")
	c.say("3")
	c.tap("🟢")
	c.tap("Maßnahmenplan erstellen")
}

// openerOf returns the newest post with buttons in c's channel and its
// form opener (nil if it has none).
func openerOf(c *chatter) (*model.Post, *model.PostAction) {
	posts := c.e.fake.botPosts(c.channel)
	for i := len(posts) - 1; i >= 0; i-- {
		if acts := actionsOf(posts[i]); len(acts) > 0 {
			for _, a := range acts {
				if a.Integration != nil && a.Integration.Context["f"] != nil {
					return posts[i], a
				}
			}
			return posts[i], nil
		}
	}
	return nil, nil
}

// submitDialog POSTs a dialog submission as the server does.
func (e *env) submitDialog(req model.SubmitDialogRequest) (int, string) {
	body, _ := json.Marshal(req)
	rec := httptest.NewRecorder()
	e.mux.ServeHTTP(rec, httptest.NewRequest("POST", DialogPath, bytes.NewReader(body)))
	return rec.Code, rec.Body.String()
}

func elementNamed(d model.Dialog, name string) *model.DialogElement {
	for i := range d.Elements {
		if d.Elements[i].Name == name {
			return &d.Elements[i]
		}
	}
	return nil
}

// TestMeasureDialog shows the measure form as an interactive dialog: the
// question gets an opener button with a short label ("Maßnahme
// eintragen…", not the checkpoint's title cut at 24 characters); pressing
// it (as the server POSTs it, with a trigger ID) opens the dialog with the
// checkpoint's whole title above the suggestions, the priorities and date
// pickers with their defaults, and leaves the post's buttons; the
// submission stores the measure through the real engine.
// Forged submissions (a bad HMAC, another user, a changed action or form)
// are refused and change nothing; a resent submission has no second
// effect; a cancellation has none at all.
func TestMeasureDialog(t *testing.T) {
	e := newEnv(t, nil)
	e.run(nil)
	if !e.a.Forms() {
		t.Fatal("Forms() is false with a callback URL")
	}
	c := newChatter(t, e, "eva"+strings.Repeat("e", 23), "dmeva"+strings.Repeat("d", 21), "de")
	toMeasureQuestion(c)
	post, opener := openerOf(c)
	if opener == nil {
		t.Fatalf("the measure question has no form opener\ntranscript:\n%s", strings.Join(c.log, "\n"))
	}
	if opener.Name != "Maßnahme eintragen…" {
		t.Errorf("opener label %q, want the short label", opener.Name)
	}
	buttons := len(actionsOf(post))

	press := pressRequest(post, opener, c.user)
	press.TriggerId = "trigger-1"
	before := len(e.fake.botPosts(c.channel))
	if code := e.fake.deliverPress(e.mux, press); code != 200 {
		t.Fatalf("opener press: HTTP %d", code)
	}
	dialogs := e.fake.openedDialogs()
	if len(dialogs) != 1 {
		t.Fatalf("%d dialogs opened, want 1", len(dialogs))
	}
	d := dialogs[0]
	if d.TriggerId != "trigger-1" || d.URL != "https://ampel.example"+DialogPath || d.Dialog.CallbackId == "" || d.Dialog.State == "" {
		t.Errorf("open request: trigger %q, URL %q, callback %q", d.TriggerId, d.URL, d.Dialog.CallbackId)
	}
	if d.Dialog.SubmitLabel != "Speichern" || d.Dialog.Title != "Neue Maßnahme" {
		t.Errorf("dialog title %q, submit %q", d.Dialog.Title, d.Dialog.SubmitLabel)
	}
	if v := clientView(d.Dialog.IntroductionText); v.text != "Maßnahme für „Strategischer Nutzen“" || len(v.active) > 0 {
		t.Errorf("dialog introduction shows %q (%q), want the checkpoint's whole title", v.text, v.active)
	}
	sugg, prio := elementNamed(d.Dialog, "suggestion"), elementNamed(d.Dialog, "priority")
	startEl, reviewEl, text := elementNamed(d.Dialog, "start"), elementNamed(d.Dialog, "review"), elementNamed(d.Dialog, "text")
	switch {
	case sugg == nil || sugg.Type != "select" || len(sugg.Options) != 9 || !sugg.Optional:
		t.Fatalf("suggestion element: %+v", sugg)
	case prio == nil || prio.Type != "select" || prio.Default != "medium" || len(prio.Options) != 3:
		t.Errorf("priority element: %+v", prio)
	case startEl == nil || startEl.Type != "date" || startEl.Default != "2027-03-10":
		t.Errorf("start element: %+v", startEl)
	case reviewEl == nil || reviewEl.Type != "date" || reviewEl.Default != "2027-04-07":
		t.Errorf("review element: %+v", reviewEl)
	case text == nil || text.MaxLength != 300 || !text.Optional || text.HelpText == "":
		t.Errorf("text element: %+v", text)
	}
	if n := len(e.fake.botPosts(c.channel)); n != before {
		t.Errorf("the opener posted %d messages", n-before)
	}
	if got := e.fake.botPosts(c.channel); len(actionsOf(got[len(got)-1])) != buttons {
		t.Error("the opener press changed the question's buttons")
	}
	if len(e.conv(c.channel).Plan.Measures) != 0 {
		t.Fatal("a measure before the submission")
	}
	var want string
	for _, o := range sugg.Options {
		if o.Value == "2" {
			want = o.Text
		}
	}

	valid := model.SubmitDialogRequest{
		Type: "dialog_submission", CallbackId: d.Dialog.CallbackId, State: d.Dialog.State,
		UserId: c.user, ChannelId: c.channel, TeamId: "",
		Submission: map[string]any{"suggestion": "2", "priority": "high", "responsible": "Anna", "start": "2027-03-15", "review": "2027-04-12"},
	}
	snapshot := func() string {
		b, _ := json.Marshal(e.conv(c.channel))
		return string(b)
	}
	unchanged := snapshot()
	refuse := func(name string, req model.SubmitDialogRequest) {
		t.Helper()
		if code, _ := e.submitDialog(req); code != http.StatusForbidden {
			t.Errorf("%s: HTTP %d, want 403", name, code)
		}
		if snapshot() != unchanged {
			t.Errorf("%s changed the state", name)
		}
	}
	withState := func(k, v string) model.SubmitDialogRequest {
		var st map[string]string
		_ = json.Unmarshal([]byte(d.Dialog.State), &st)
		st[k] = v
		b, _ := json.Marshal(st)
		r := valid
		r.State = string(b)
		return r
	}
	refuse("bad HMAC", withState("s", strings.Repeat("A", 43)))
	refuse("changed action", withState("a", "/plan"))
	refuse("changed channel", withState("c", "elsewhere"+strings.Repeat("x", 17)))
	refuse("changed user", withState("u", "mallory"+strings.Repeat("m", 19)))
	other := valid
	other.UserId = "mallory" + strings.Repeat("m", 19)
	refuse("another user", other)
	wrongForm := valid
	wrongForm.CallbackId = "other"
	refuse("another form", wrongForm)
	noState := valid
	noState.State = ""
	refuse("no state", noState)
	cancelled := valid
	cancelled.Cancelled, cancelled.Submission = true, nil
	if code, _ := e.submitDialog(cancelled); code != 200 || snapshot() != unchanged {
		t.Errorf("cancellation: HTTP %d or a change", code)
	}

	code, body := e.submitDialog(valid)
	if code != 200 || strings.TrimSpace(body) != "{}" {
		t.Fatalf("submission: HTTP %d %s", code, body)
	}
	conv := e.conv(c.channel)
	if len(conv.Plan.Measures) != 1 {
		t.Fatalf("measures after the submission: %+v\ntranscript:\n%s", conv.Plan.Measures, strings.Join(append(c.log, c.replies()...), "\n"))
	}
	m := conv.Plan.Measures[0]
	if m.Text == "" || m.Text != strings.TrimSuffix(want, "…") && !strings.HasPrefix(m.Text, strings.TrimSuffix(want, "…")) {
		t.Errorf("measure text %q, want the suggestion %q", m.Text, want)
	}
	if m.Priority != "high" || m.Responsible != "Anna" || m.Start != "2027-03-15" || m.Review != "2027-04-12" {
		t.Errorf("saved measure: %+v", m)
	}
	saved := false
	for _, r := range c.replies() {
		saved = saved || strings.Contains(r, "Gespeichert: "+m.Text)
	}
	if !saved {
		t.Errorf("no \"Gespeichert\" posted\ntranscript:\n%s", strings.Join(c.log, "\n"))
	}

	after, posts := snapshot(), len(e.fake.botPosts(c.channel))
	if code, _ := e.submitDialog(valid); code != 200 {
		t.Errorf("resent submission: HTTP %d, want 200 without effect", code)
	}
	e.a.forms.forget() // a restart: the state alone suffices
	if code, _ := e.submitDialog(valid); code != 200 {
		t.Errorf("resent submission after a restart: HTTP %d, want 200 without effect", code)
	}
	if snapshot() != after || len(e.fake.botPosts(c.channel)) != posts {
		t.Error("the resent submission had an effect")
	}
	if n := len(e.conv(c.channel).Plan.Measures); n != 1 {
		t.Errorf("%d measures after the resent submission", n)
	}

	// After a restart the opener's form is gone: 410, nothing opened.
	if code := e.fake.deliverPress(e.mux, press); code != http.StatusGone {
		t.Errorf("opener of a forgotten form: HTTP %d, want 410", code)
	}
	// A forged opener is refused like any forged press.
	forged := press
	forged.Context = map[string]any{}
	for k, v := range press.Context {
		forged.Context[k] = v
	}
	forged.Context["f"] = "otherform"
	if code := e.fake.deliverPress(e.mux, forged); code != http.StatusForbidden {
		t.Errorf("opener with a changed form: HTTP %d, want 403", code)
	}
	if n := len(e.fake.openedDialogs()); n != 1 {
		t.Errorf("%d dialogs opened in all, want 1", n)
	}
}

// TestDialogWithoutDatePicker shows that a server refusing the date
// elements gets the dialog again with text fields for the dates.
func TestDialogWithoutDatePicker(t *testing.T) {
	e := newEnv(t, nil)
	e.run(nil)
	c := newChatter(t, e, "eva"+strings.Repeat("e", 23), "dmeva"+strings.Repeat("d", 21), "de")
	toMeasureQuestion(c)
	post, opener := openerOf(c)
	if opener == nil {
		t.Fatal("no form opener")
	}
	e.fake.failNext("POST /api/v4/actions/dialogs/open", failure{status: 400})
	press := pressRequest(post, opener, c.user)
	press.TriggerId = "trigger-2"
	if code := e.fake.deliverPress(e.mux, press); code != 200 {
		t.Fatalf("opener press: HTTP %d", code)
	}
	dialogs := e.fake.openedDialogs()
	if len(dialogs) != 1 {
		t.Fatalf("%d dialogs opened, want 1", len(dialogs))
	}
	if el := elementNamed(dialogs[0].Dialog, "start"); el == nil || el.Type != "text" || el.Default != "2027-03-10" {
		t.Errorf("start element without picker: %+v", el)
	}
	if n := len(e.fake.callsOfPrefix("POST /api/v4/actions/dialogs/open")); n != 2 {
		t.Errorf("%d open requests, want 2", n)
	}
}

// TestNoDialogWithoutCallback shows that without a callback URL the
// adapter shows no forms: the engine offers none, no post has an opener
// and no dialog endpoint is served.
func TestNoDialogWithoutCallback(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.CallbackURL = "" })
	e.run(nil)
	if e.a.Forms() {
		t.Fatal("Forms() is true without a callback URL")
	}
	c := newChatter(t, e, "eva"+strings.Repeat("e", 23), "dmeva"+strings.Repeat("d", 21), "de")
	toMeasureQuestion(c)
	for _, p := range e.fake.botPosts(c.channel) {
		if len(actionsOf(p)) > 0 {
			t.Errorf("post %s has buttons without a callback URL", p.Id)
		}
	}
	if _, ok := e.a.HTTPHandlers(e.rec)["POST "+DialogPath]; ok {
		t.Error("a dialog endpoint without a callback URL")
	}
	if last := c.log[len(c.log)-1]; !strings.Contains(last, "1)") {
		t.Errorf("the measure question without numbered choices: %q", last)
	}
}
