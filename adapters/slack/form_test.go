package slack

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"
)

// modalReq is a views.open request as the fake recorded it.
type modalReq struct {
	TriggerID string `json:"trigger_id"`
	View      struct {
		Type            string   `json:"type"`
		Title           textObj  `json:"title"`
		Submit          *textObj `json:"submit"`
		CallbackID      string   `json:"callback_id"`
		PrivateMetadata string   `json:"private_metadata"`
		Blocks          []struct {
			Type     string    `json:"type"`
			BlockID  string    `json:"block_id"`
			Label    textObj   `json:"label"`
			Optional bool      `json:"optional"`
			Element  modalEl   `json:"element"`
			Hint     *textObj  `json:"hint"`
			Elements []textObj `json:"elements"`
		} `json:"blocks"`
	} `json:"view"`
}

type modalEl struct {
	Type          string      `json:"type"`
	ActionID      string      `json:"action_id"`
	Options       []modalOpt  `json:"options"`
	InitialOption *modalOpt   `json:"initial_option"`
	InitialDate   string      `json:"initial_date"`
	MaxLength     int         `json:"max_length"`
	Placeholder   interface{} `json:"placeholder"`
}

type modalOpt struct {
	Text  textObj `json:"text"`
	Value string  `json:"value"`
}

func (f *fakeSlack) modals() []modalReq {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []modalReq
	for _, body := range f.opened {
		var m modalReq
		if err := json.Unmarshal([]byte(body), &m); err != nil {
			f.t.Fatalf("views.open body %s: %v", body, err)
		}
		out = append(out, m)
	}
	return out
}

func (f *fakeSlack) homeViews() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.views...)
}

// openerOf returns the form opener under a message, if any.
func openerOf(m sentMsg) (element, bool) {
	for _, b := range m.buttons() {
		if b.ActionID == openerActionID {
			return b, true
		}
	}
	return element{}, false
}

// toMeasureForm runs the check in the DM up to the first measure question
// (the red checkpoint's) and returns that question.
func toMeasureForm(t *testing.T, c *chatter) sentMsg {
	t.Helper()
	for _, in := range []string{"/check zo-kmu", "1", "3", "3", "3", "3", "3", "3"} {
		c.say(in)
	}
	out := c.say("1") // build the plan
	for i := len(out) - 1; i >= 0; i-- {
		if _, ok := openerOf(out[i]); ok {
			return out[i]
		}
	}
	t.Fatalf("no form opener under the measure question\ntranscript:\n%s", strings.Join(c.log, "\n"))
	return sentMsg{}
}

// pressOpener presses the opener under m and returns the modal opened.
func pressOpener(t *testing.T, c *chatter, m sentMsg) modalReq {
	t.Helper()
	b, _ := openerOf(m)
	before := len(c.e.fake.modals())
	if out := c.send("interactive", pressPayload(m, c.user, b), "~ tap "+b.Text.Text); len(out) != 0 {
		t.Errorf("pressing the opener is no engine event, but the bot said %q", out[0].Shown())
	}
	waitFor(t, "views.open", func() bool { return len(c.e.fake.modals()) > before })
	return c.e.fake.modals()[before]
}

// submission is a view_submission of the modal as Slack sends it: the
// view with its state, the values by block and action ID.
func submission(m modalReq, viewID, hash, user string, values map[string]map[string]any) map[string]any {
	state := map[string]any{}
	for block, v := range values {
		state[block] = map[string]any{"v": v}
	}
	return map[string]any{
		"type": "view_submission", "token": "verification-token-unused", "api_app_id": "A0APP0001",
		"team":       map[string]any{"id": teamID, "domain": "ampel-test"},
		"user":       map[string]any{"id": user, "username": "eva", "team_id": teamID},
		"trigger_id": fmt.Sprintf("13345224609.738474920.s%d", seq.Add(1)),
		"view": map[string]any{
			"id": viewID, "team_id": teamID, "type": "modal", "callback_id": m.View.CallbackID,
			"private_metadata": m.View.PrivateMetadata, "hash": hash,
			"title": m.View.Title, "blocks": []any{}, "state": map[string]any{"values": state},
		},
	}
}

func answers(suggestion, priority, start, review, pickedUser string) map[string]map[string]any {
	return map[string]map[string]any{
		"f:suggestion":  {"type": "static_select", "selected_option": map[string]any{"value": suggestion, "text": map[string]any{"type": "plain_text", "text": "x"}}},
		"f:text":        {"type": "plain_text_input", "value": nil},
		"f:priority":    {"type": "static_select", "selected_option": map[string]any{"value": priority, "text": map[string]any{"type": "plain_text", "text": "x"}}},
		"u:responsible": {"type": "users_select", "selected_user": pickedUser},
		"f:responsible": {"type": "plain_text_input", "value": nil},
		"f:start":       {"type": "datepicker", "selected_date": start},
		"f:review":      {"type": "datepicker", "selected_date": review},
	}
}

const suggestion2 = "Stärken finden, die auch Betriebe brauchen, und sie gemeinsam ausbauen"

// TestMeasureModal: in the DM over Socket Mode, the measure question
// carries a form opener; pressing it opens a modal (views.open) with the
// suggestions and priorities as selects, a user picker next to the
// responsible field and date pickers preset by the engine. A submission
// with the review before the start is refused in the chat, with the
// reason and the question again, and stores nothing; a good one stores
// the measure with the picked person's real name. The home tab is kept
// current on the way.
func TestMeasureModal(t *testing.T) {
	e := newEnv(t, nil)
	e.a.cfg.Plan = e.engine.PlanView
	e.a.homes.every = 20 * time.Millisecond
	e.run(nil)
	c := newChatter(t, e, "D0EVA0001", "U0EVA0001", german.locale, german.tz)
	e.fake.mu.Lock()
	e.fake.users["U0ANNA001"] = slackUser{locale: "de-DE", tz: "Europe/Berlin", realName: "Anna Berg"}
	e.fake.ims[c.user] = c.channel
	e.fake.mu.Unlock()

	q := toMeasureForm(t, c)
	b, _ := openerOf(q)
	if unescape(b.Text.Text) != "📝 Maßnahme eintragen…" || b.Value == "" || len(b.Value) > 2000 {
		t.Errorf("opener %q with value %q", b.Text.Text, b.Value)
	}
	modal := pressOpener(t, c, q)
	if n := len([]rune(modal.View.Title.Text)); modal.View.Type != "modal" || n == 0 || n > 24 || modal.View.Submit == nil || modal.View.Submit.Text != "Speichern" {
		t.Errorf("modal title %q (%d runes), submit %+v", modal.View.Title.Text, n, modal.View.Submit)
	}
	var meta formMeta
	if err := json.Unmarshal([]byte(modal.View.PrivateMetadata), &meta); err != nil || meta.Channel != c.channel || meta.User != c.user || meta.Action == "" {
		t.Errorf("private_metadata %q: %+v, %v", modal.View.PrivateMetadata, meta, err)
	}
	byBlock := map[string]modalEl{}
	if bl := modal.View.Blocks[0]; bl.Type != "context" || len(bl.Elements) != 1 || unescape(bl.Elements[0].Text) != "Maßnahme für „Strategischer Nutzen“" {
		t.Errorf("first block %+v, want the checkpoint's whole title", bl)
	}
	for _, bl := range modal.View.Blocks[1:] {
		if bl.Type != "input" {
			t.Errorf("block %s of type %s", bl.BlockID, bl.Type)
		}
		byBlock[bl.BlockID] = bl.Element
	}
	sugg := byBlock["f:suggestion"]
	if sugg.Type != "static_select" || len(sugg.Options) != 9 {
		t.Errorf("suggestions: %+v", sugg)
	}
	for _, o := range sugg.Options {
		if n := len([]rune(o.Text.Text)); n > 75 {
			t.Errorf("option text of %d runes", n)
		}
	}
	if o := sugg.Options[2]; unescape(o.Text.Text) != suggestion2 || o.Value != "2" {
		t.Errorf("suggestion 2: %+v", o)
	}
	if p := byBlock["f:priority"]; p.Type != "static_select" || len(p.Options) != 3 || p.InitialOption == nil || p.InitialOption.Value != "medium" {
		t.Errorf("priority: %+v", p)
	}
	if s := byBlock["f:start"]; s.Type != "datepicker" || s.InitialDate != "2027-03-10" {
		t.Errorf("start: %+v", s)
	}
	if r := byBlock["f:review"]; r.Type != "datepicker" || r.InitialDate != "2027-04-07" {
		t.Errorf("review: %+v", r)
	}
	if u := byBlock["u:responsible"]; u.Type != "users_select" {
		t.Errorf("user picker: %+v", u)
	}
	if r := byBlock["f:responsible"]; r.Type != "plain_text_input" || r.MaxLength == 0 {
		t.Errorf("responsible: %+v", r)
	}
	if tx := byBlock["f:text"]; tx.Type != "plain_text_input" || tx.MaxLength == 0 {
		t.Errorf("own text: %+v", tx)
	}

	// The review before the start: refused in the chat, nothing stored.
	out := c.send("interactive", submission(modal, "VMODAL0001", "h1", c.user, answers("2", "high", "2027-03-15", "2027-03-01", "")), "~ submit (review before start)")
	c.expect(out, "liegt vor dem Start")
	if n := len(e.conv(c.channel).Plan.Measures); n != 0 {
		t.Fatalf("%d measures stored from a refused form", n)
	}
	if _, ok := openerOf(out[len(out)-1]); !ok {
		t.Fatalf("the question asked again has no opener: %q", out[len(out)-1].Shown())
	}

	// Again, from the question asked again, and right this time.
	modal = pressOpener(t, c, out[len(out)-1])
	sub := submission(modal, "VMODAL0002", "h2", c.user, answers("2", "high", "2027-03-15", "2027-04-12", "U0ANNA001"))
	out = c.send("interactive", sub, "~ submit")
	c.expect(out, "Gespeichert: "+suggestion2)
	ms := e.conv(c.channel).Plan.Measures
	if len(ms) != 1 {
		t.Fatalf("stored measures: %+v", ms)
	}
	if m := ms[0]; m.Text != suggestion2 || m.Priority != "high" || m.Responsible != "Anna Berg" || m.Me || m.Start != "2027-03-15" || m.Review != "2027-04-12" {
		t.Errorf("stored measure: %+v", m)
	}

	// A redelivery of the same submission has no second effect.
	id := e.fake.push("interactive", sub)
	e.fake.waitAck(id, 1)
	if n := len(c.replies()); n != 0 {
		t.Errorf("a redelivered submission got %d replies", n)
	}
	if n := len(e.conv(c.channel).Plan.Measures); n != 1 {
		t.Errorf("a redelivered submission stored %d measures", n)
	}

	// The message whose opener was used shows the form as answered.
	waitFor(t, "the opener's message marked", func() bool {
		m := e.fake.message(c.channel, q.TS)
		return m.Edited > 0 && len(m.buttons()) == 0 && strings.Contains(m.Shown(), "✓ 📝")
	})

	// The home tab follows the conversation without being opened.
	waitFor(t, "the home tab with the new measure", func() bool {
		v := e.fake.homeViews()
		return len(v) > 0 && strings.Contains(v[len(v)-1], suggestion2)
	})
	if n := len(e.fake.callsOf("conversations.open")); n != 0 {
		t.Errorf("conversations.open called %d times; the DM was known from its messages", n)
	}
}

// TestAppHomeShowsPlan: app_home_opened after a plan exists publishes the
// plan of the user's DM, found through the event's channel or, without
// one, conversations.open; the commands follow.
func TestAppHomeShowsPlan(t *testing.T) {
	for _, withChannel := range []bool{true, false} {
		t.Run(fmt.Sprintf("channel=%v", withChannel), func(t *testing.T) {
			e := newEnv(t, nil)
			e.a.cfg.Plan = e.engine.PlanView
			e.run(nil)
			c := newChatter(t, e, "D0EVA0001", "U0EVA0001", german.locale, german.tz)
			e.fake.mu.Lock()
			e.fake.ims[c.user] = c.channel
			e.fake.mu.Unlock()
			q := toMeasureForm(t, c)
			modal := pressOpener(t, c, q)
			c.expect(c.send("interactive", submission(modal, "VMODAL0001", "h1", c.user, answers("2", "high", "2027-03-15", "2027-04-12", "")), "~ submit"), "Gespeichert")

			// A fresh adapter knows no DM: it has to find it.
			e.a.dms.mu.Lock()
			e.a.dms.m = nil
			e.a.dms.mu.Unlock()
			before := len(e.fake.homeViews())
			opensBefore := len(e.fake.callsOf("conversations.open"))
			ev := map[string]any{"type": "app_home_opened", "user": c.user, "tab": "home", "event_ts": "1.1"}
			if withChannel {
				ev["channel"] = c.channel
			}
			e.fake.waitAck(e.fake.push("events_api", eventPayload("EvHOME1", ev)), 1)
			waitFor(t, "views.publish with the plan and the commands", func() bool {
				for _, v := range e.fake.homeViews()[before:] {
					if strings.Contains(v, suggestion2) && strings.Contains(v, "Maßnahmenplan · 1 offene Maßnahme") && strings.Contains(v, "/ampel check") {
						return true
					}
				}
				return false
			})
			opens := len(e.fake.callsOf("conversations.open")) - opensBefore
			if withChannel && opens != 0 || !withChannel && opens != 1 {
				t.Errorf("conversations.open called %d times", opens)
			}
		})
	}
}

// TestModalOverHTTP: the opener and the submission through
// /slack/interactivity, signed, as in HTTP mode.
func TestModalOverHTTP(t *testing.T) {
	e, h := httpEnv(t)
	const dm, user = "D0HTTP001", "U0HTTP001"
	e.fake.users[user] = slackUser{locale: "de-DE", tz: "Europe/Berlin"}
	post := func(payload any) int {
		t.Helper()
		js, _ := json.Marshal(payload)
		body := "payload=" + url.QueryEscape(string(js))
		rec := do(h, "/slack/interactivity", body, sign(testSecret, time.Now().Unix(), body), "application/x-www-form-urlencoded")
		if rec.Code != 200 || rec.Body.Len() != 0 {
			t.Fatalf("interactivity: %d %q", rec.Code, rec.Body.String())
		}
		return rec.Code
	}
	event := func(text string) {
		t.Helper()
		js, _ := json.Marshal(dmEvent(dm, user, text))
		if rec := do(h, "/slack/events", string(js), sign(testSecret, time.Now().Unix(), string(js)), "application/json"); rec.Code != 200 {
			t.Fatalf("event %q: %d", text, rec.Code)
		}
	}
	for _, in := range []string{"/check zo-kmu", "1", "3", "3", "3", "3", "3", "3", "1"} {
		event(in)
	}
	msgs := e.fake.messages(dm)
	q := msgs[len(msgs)-1]
	if _, ok := openerOf(q); !ok {
		t.Fatalf("no opener under %q", q.Shown())
	}
	b, _ := openerOf(q)
	post(pressPayload(q, user, b))
	ms := e.fake.modals()
	if len(ms) != 1 {
		t.Fatalf("views.open called %d times", len(ms))
	}
	post(submission(ms[0], "VMODAL0001", "h1", user, answers("2", "low", "2027-03-11", "2027-03-11", "")))
	if m := e.conv(dm).Plan.Measures; len(m) != 1 || m[0].Text != suggestion2 || m[0].Priority != "low" || !m[0].Me {
		t.Errorf("stored plan: %+v", m)
	}
}

// TestMeasureModalInChannel: the same modal works for a team in a channel:
// the check runs by mentions, the modal's submission stores the measure in
// the channel's plan, and the person picked is kept as the one to mention
// in the channel's reminders.
func TestMeasureModalInChannel(t *testing.T) {
	e := newEnv(t, nil)
	e.run(nil)
	c := newChatter(t, e, "C0TEAM0001", "U0EVA0001", german.locale, german.tz)
	e.fake.mu.Lock()
	e.fake.users["U0ANNA001"] = slackUser{locale: "de-DE", tz: "Europe/Berlin", realName: "Anna Berg"}
	e.fake.mu.Unlock()
	c.slash("check zo-kmu")
	for _, in := range []string{"1", "3", "3", "3", "3", "3", "3"} {
		c.mention(in)
	}
	var q sentMsg
	for _, m := range c.mention("1") { // build the plan
		if _, ok := openerOf(m); ok {
			q = m
		}
	}
	if q.TS == "" {
		t.Fatalf("no form opener in the channel\ntranscript:\n%s", strings.Join(c.log, "\n"))
	}
	modal := pressOpener(t, c, q)
	out := c.send("interactive", submission(modal, "VMODALC001", "h1", c.user, answers("2", "low", "2027-03-15", "2027-04-12", "U0ANNA001")), "~ submit")
	c.expect(out, "Gespeichert: "+suggestion2)
	ms := e.conv(c.channel).Plan.Measures
	if len(ms) != 1 || ms[0].Responsible != "Anna Berg" || ms[0].ResponsibleUser != "U0ANNA001" || ms[0].Priority != "low" {
		t.Fatalf("the channel's plan: %+v", ms)
	}
}
