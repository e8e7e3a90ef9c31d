package team_test

import (
	"strings"
	"testing"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
	"github.com/ampel-bot/ampel/bot/dialogtest"
)

// TestTeamInEveryLanguage: a team check started in a group whose members'
// apps speak French, Spanish, Russian or Vietnamese is run in that
// language — the channel's progress, the Join button and the private
// invitation — not in English.
func TestTeamInEveryLanguage(t *testing.T) {
	_, texts := bottest.Content(t)
	for _, lang := range texts.Langs() {
		g := dialogtest.NewGroup(t, &bottest.Recorder{Name: "slack"})
		g.Lang = lang
		started := g.Event("anna", false, bot.Event{Text: "/team bmo-advocacy"})
		var all strings.Builder
		for _, s := range started {
			all.WriteString(s.Msg.Text + "\n")
			for _, row := range s.Msg.Buttons {
				for _, b := range row {
					all.WriteString(b.Label + "\n")
				}
			}
		}
		got := all.String()
		for _, id := range []string{"team.progress.nobody", "button.team.join", "team.invite"} {
			if lang != "en" && texts.T(lang, id) == texts.T("en", id) {
				t.Errorf("%s: %s is the English text", lang, id)
			}
		}
		for _, id := range []string{"team.progress.nobody", "button.team.join"} {
			if want := texts.T(lang, id); !strings.Contains(got, want) {
				t.Errorf("%s: /team in the group: got\n%s\nwant %s %q", lang, got, id, want)
			}
		}
		var inv strings.Builder
		for _, sent := range g.Event("bert", false, bot.Event{Action: g.Button("#", 1)}) {
			inv.WriteString(sent.Msg.Text + "\n")
		}
		// The invitation's words before its first placeholder.
		lead := strings.SplitN(texts.T(lang, "team.invite", "Title", "\x00", "Lead", "\x00"), "\x00", 2)[0]
		if !strings.Contains(inv.String(), lead) {
			t.Errorf("%s: joining: got\n%s\nwant the invitation %q", lang, inv.String(), lead)
		}
	}
}

// TestGroupLanguageIsTheFacilitators: while a team check runs in a group,
// only its facilitator changes the group's language — by command or by the
// language question's button; anyone else is told who can, and the
// group's conversation stays as it was. Once the check is cancelled,
// anyone may again.
func TestGroupLanguageIsTheFacilitators(t *testing.T) {
	_, texts := bottest.Content(t)
	g := dialogtest.NewGroup(t, &bottest.Recorder{Name: "slack"})
	g.Event("anna", false, bot.Event{Text: "/team zo-kmu"})
	g.Event("bert", false, bot.Event{Action: g.Button("#", 1)})
	before := g.Conv(g.Channel)

	got := sentText(g.Event("bert", false, bot.Event{Text: "/language en"}))
	if want := texts.T("de", "team.lead.only", "Lead", dialogtest.Name("anna")); !strings.Contains(got, want) {
		t.Errorf("/language en by a member: got\n%s\nwant %q", got, want)
	}
	if after := g.Conv(g.Channel); after.Lang != before.Lang {
		t.Errorf("a member changed the group's language to %q", after.Lang)
	}
	got = sentText(g.Event("anna", false, bot.Event{Text: "/language en"}))
	if want := texts.T("en", "language.set"); !strings.Contains(got, want) {
		t.Errorf("/language en by the facilitator: got\n%s\nwant %q", got, want)
	}
	if after := g.Conv(g.Channel); after.Lang != "en" {
		t.Errorf("after the facilitator's /language en the group speaks %q", after.Lang)
	}
	g.Event("anna", false, bot.Event{Text: "/team cancel"})
	got = sentText(g.Event("bert", false, bot.Event{Text: "/language de"}))
	if want := texts.T("de", "language.set"); !strings.Contains(got, want) {
		t.Errorf("/language de by a member after the team check ended: got\n%s\nwant %q", got, want)
	}
}

func sentText(sent []bottest.Sent) string {
	var b strings.Builder
	for _, s := range sent {
		b.WriteString(s.Msg.Text + "\n")
	}
	return b.String()
}
