package mattermost

import (
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// TestCommandsWithoutSlash: without the /ampel slash command (no
// CommandToken) no slash command reaches the bot, so the texts name the
// commands as words („plan“, never "/ampel plan" or "/plan") and the
// words are commands, in a direct channel and mentioning the bot in a
// channel ("@ampel check" starts the check). With /ampel registered, the
// texts say "/ampel plan" and "hilfe" is no command.
func TestCommandsWithoutSlash(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.CommandToken = "" })
	e.run(nil)
	if _, ok := e.a.HTTPHandlers(e.rec)["POST "+CommandPath]; ok || e.a.CommandPrefix() != "" || !e.a.BareCommands() {
		t.Fatalf("without a command token: prefix %q, bare %v, command handler %v", e.a.CommandPrefix(), e.a.BareCommands(), ok)
	}
	user := "eva" + strings.Repeat("e", 23)
	c := newChatter(t, e, user, "dmeva"+strings.Repeat("d", 21), "de")
	got := strings.Join(c.say("hilfe"), "\n")
	if !strings.Contains(got, "„plan“ – Maßnahmenplan ansehen") || strings.Contains(got, "/") {
		t.Errorf("help without /ampel: %q, want the commands as words", got)
	}
	if got := strings.Join(c.say("Plan"), "\n"); !strings.Contains(got, "Maßnahmenplan ist noch leer") {
		t.Errorf("\"Plan\": %q, want the plan", got)
	}
	town := "town" + strings.Repeat("t", 22)
	e.fake.addChannel(town)
	id := e.fake.userPost(town, user, "@"+botName+" check zo-kmu")
	waitFor(t, "the mention handled", func() bool { return e.rec.count(id) == 1 })
	if posts := e.fake.botPosts(town); len(posts) == 0 || !strings.Contains(shown(posts[len(posts)-1].Message), "1/7") {
		t.Errorf("\"@ampel check\" in a channel: %d posts, want the first question", len(posts))
	}

	e = newEnv(t, nil) // with /ampel
	e.run(nil)
	c = newChatter(t, e, user, "dmeva"+strings.Repeat("d", 21), "de")
	if got := strings.Join(c.say("hilfe"), "\n"); strings.Contains(got, "So geht") {
		t.Errorf("\"hilfe\" with /ampel registered: %q, want no help", got)
	}
	form := url.Values{"channel_id": {c.channel}, "user_id": {c.user}, "command": {"/ampel"}, "text": {"help"}, "trigger_id": {"trig1"}}
	req := httptest.NewRequest("POST", CommandPath, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Token cmd-token-1234567890")
	e.mux.ServeHTTP(httptest.NewRecorder(), req)
	if got := strings.Join(c.replies(), "\n"); !strings.Contains(got, "/ampel plan – Maßnahmenplan ansehen") {
		t.Errorf("/ampel help: %q, want /ampel plan", got)
	}
}
