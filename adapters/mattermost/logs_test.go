package mattermost

import (
	"strings"
	"testing"

	"github.com/mattermost/mattermost/server/public/model"
)

// TestRequestValuesStayOutOfLogs: the IDs in a press or dialog request are
// whatever the sender wrote. A 60 KB post_id, channel_id or user_id, on a
// forged press, on a genuine button's context after a restart and on a
// dialog submission, is refused and never copied into the log; the log
// says how long it was and a short hash.
func TestRequestValuesStayOutOfLogs(t *testing.T) {
	e := newEnv(t, nil)
	e.run(nil)
	eva := newChatter(t, e, "eva"+strings.Repeat("e", 23), "dmeva"+strings.Repeat("d", 21), "en")
	eva.say("/start")
	post := e.fake.botPosts(eva.channel)[0]
	act := actionsOf(post)[0]
	huge := func(c string) string { return strings.Repeat(c, 60<<10) }

	forged := pressRequest(post, act, eva.user)
	forged.Context = nil
	forged.PostId = huge("P")
	e.fake.deliverPress(e.mux, forged)
	forged = pressRequest(post, act, huge("U"))
	e.fake.deliverPress(e.mux, forged)

	e.a.presses.forget() // a restart: the first press binds the post
	genuine := pressRequest(post, act, eva.user)
	genuine.PostId = huge("Q")
	if code := e.fake.deliverPress(e.mux, genuine); code == 200 {
		t.Errorf("a press naming a 60 KB post ID was taken")
	}
	e.submitDialog(model.SubmitDialogRequest{ChannelId: huge("C"), UserId: eva.user, CallbackId: "x", State: "{}"})

	log := e.logs.String()
	for _, c := range []string{"P", "U", "Q", "C"} {
		if strings.Contains(log, strings.Repeat(c, 64)) {
			t.Errorf("a request's %s… value is in the log", c)
		}
	}
	if !strings.Contains(log, "len=61440") {
		t.Errorf("the refusals do not say how long the values were:\n%s", log)
	}
}
