package mattermost

import (
	"strings"
	"testing"

	"github.com/mattermost/mattermost/server/public/model"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
)

// liveQuestions returns the posts whose buttons include one that is valid
// only while its question is open.
func liveQuestions(posts []*model.Post) []*model.Post {
	var out []*model.Post
	for _, p := range posts {
		for _, a := range actionsOf(p) {
			if action, _ := a.Integration.Context["a"].(string); !bot.Lasting(action) {
				out = append(out, p)
				break
			}
		}
	}
	return out
}

// TestSupersededQuestionLosesButtons: after a typed answer, the question it
// answered loses its buttons when the next one is asked, keeping its text
// (not marked edited) and from_bot; the menu keeps its command buttons. If
// that fails, a press on the old question asks the current one again, and
// the copy before loses its buttons: one question with live buttons
// stands in the chat at every step.
func TestSupersededQuestionLosesButtons(t *testing.T) {
	e := newEnv(t, nil)
	e.run(nil)
	sc := bottest.English
	c := newChatter(t, e, "user"+strings.Repeat("u", 22), "dm"+strings.Repeat("d", 24), sc.Lang)
	one := func(step string) *model.Post {
		t.Helper()
		live := liveQuestions(e.fake.botPosts(c.channel))
		if len(live) != 1 {
			t.Fatalf("%s: %d questions with live buttons, want 1\ntranscript:\n%s", step, len(live), strings.Join(c.log, "\n"))
		}
		return live[0]
	}
	c.say("/start")
	menu := e.fake.botPosts(c.channel)[0]
	c.say("/start") // a second menu, pressed below
	c.tap(sc.StartCheck)
	c.tap(sc.Check)
	first := one("first question")
	text := first.Message
	c.say("2")
	if q := one("typed answer"); q.Id == first.Id {
		t.Fatal("the answered question kept its buttons")
	}
	if len(actionsOf(first)) != 0 || first.Message != text || first.EditAt != 0 {
		t.Errorf("answered question: %d buttons, edited %v, text changed %v; want no buttons, its text, not edited",
			len(actionsOf(first)), first.EditAt != 0, first.Message != text)
	}
	if fromBot, _ := first.GetProps()[model.PostPropsFromBot].(string); fromBot != "true" {
		t.Errorf("answered question lost from_bot: %v", first.GetProps())
	}
	if len(actionsOf(menu)) != 3 {
		t.Errorf("the first menu has %d buttons, want its 3 commands", len(actionsOf(menu)))
	}

	// The server fails to take the buttons off: a press on the old
	// question gets the current one again, and only that copy stays live.
	second := one("second question")
	e.fake.failNext("PUT /api/v4/posts/", failure{status: 500})
	c.say("3")
	if n := len(liveQuestions(e.fake.botPosts(c.channel))); n != 2 {
		t.Fatalf("%d live questions after a failed update, want 2 (the test's premise)", n)
	}
	stale := actionsOf(second)[0]
	if code := e.fake.deliverPress(e.mux, pressRequest(second, stale, c.user)); code != 200 {
		t.Fatalf("press on the old question: HTTP %d", code)
	}
	got := strings.Join(c.replies(), "\n")
	if !strings.Contains(got, "earlier question") || !strings.Contains(got, "3/7") {
		t.Errorf("press on the old question answered %q, want the hint and question 3 again", got)
	}
	if q := one("after the stale press"); !strings.Contains(shown(q.Message), "3/7") {
		t.Errorf("the live question is %q, want question 3", shown(q.Message))
	}
}
