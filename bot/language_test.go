package bot_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/ampel-bot/ampel/adapters/console"
	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
)

// chatEvents numbers the events chatSay sends.
var chatEvents int

// chatSay sends typed text from user (whose platform reports lang) in a
// chat, and returns the text of the replies.
func chatSay(t *testing.T, h *harness, chat, user, lang string, group bool, text string) string {
	t.Helper()
	chatEvents++
	ev := bot.Event{ID: "chat-" + strconv.Itoa(chatEvents), Addr: bot.Address{Platform: h.Addr.Platform, Chat: chat, User: user}, Text: text, LangHint: lang, Group: group}
	if err := h.Engine.Handle(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, s := range h.Take() {
		b.WriteString(console.Render(s.Msg))
	}
	return b.String()
}

// TestLanguagePerChat: /language in a group sets the group's language,
// whoever writes there next and whatever their own app's language; a
// member's private chat keeps their own, and their choice there leaves the
// group's alone. (Who may set a group's language – facilitators and
// coordinators – waits for teams and networks.)
func TestLanguagePerChat(t *testing.T) {
	_, texts := bottest.Content(t)
	h := newHarness(t, 0)
	const group = "-100"
	if got := chatSay(t, h, group, "anna", "de", true, "/language fr"); !strings.Contains(got, texts.T("fr", "language.set")) {
		t.Fatalf("/language fr in the group: got %q, want %q", got, texts.T("fr", "language.set"))
	}
	if got := chatSay(t, h, group, "ben", "en-GB", true, "/help"); !strings.Contains(got, texts.T("fr", "help")) {
		t.Errorf("/help from an English-speaking member in the French group: got %q, want the French help", got)
	}
	if got := chatSay(t, h, "anna", "anna", "de", false, "/start"); !strings.Contains(got, texts.T("de", "welcome")) {
		t.Errorf("/start in Anna's private chat after she set the group to French: got %q, want German, her app's language", got)
	}
	if got := chatSay(t, h, "anna", "anna", "de", false, "/language Español"); !strings.Contains(got, texts.T("es", "language.set")) {
		t.Fatalf("/language Español in Anna's private chat: got %q", got)
	}
	if got := chatSay(t, h, "ben", "ben", "en-GB", false, "/start"); !strings.Contains(got, texts.T("en", "welcome")) {
		t.Errorf("/start in Ben's private chat: got %q, want English", got)
	}
	if got := chatSay(t, h, group, "anna", "de", true, "/help"); !strings.Contains(got, texts.T("fr", "help")) {
		t.Errorf("/help in the group after Anna chose Spanish for herself: got %q, want the group's French", got)
	}
	if got := chatSay(t, h, "anna", "anna", "de", false, "/help"); !strings.Contains(got, texts.T("es", "help")) {
		t.Errorf("/help in Anna's private chat: got %q, want her Spanish", got)
	}
}

// TestCheckInAnotherLanguage: a check the user's language lacks is offered
// in English, with the interface around it in the user's language, and the
// user is told so once, as it starts – not at the next checkpoint.
func TestCheckInAnotherLanguage(t *testing.T) {
	catalog, texts := bottest.Content(t)
	f, _ := catalog.Get("zo-kmu")
	for _, lang := range []string{"fr", "es", "ru", "vi"} {
		h := newHarness(t, 0)
		h.Lang = lang
		got := h.Say("/check zo-kmu")
		note := texts.T(lang, "check.otherlang", "Title", texts.T("en", f.TitleID()), "Lang", "en")
		if strings.Count(got, note) != 1 || !strings.Contains(got, texts.T("en", f.StatementID(f.Checkpoints[0]))) || !strings.HasSuffix(got, texts.T(lang, "rate.ask")+"\n"+"  1) "+texts.T(lang, "scale.traffic-light.red")+"\n"+"  2) "+texts.T(lang, "scale.traffic-light.yellow")+"\n"+"  3) "+texts.T(lang, "scale.traffic-light.green")+"\n"+"  4) "+texts.T(lang, "button.examples")+"   5) "+texts.T(lang, "button.later")+"\n") {
			t.Errorf("%s: /check zo-kmu: got\n%s\nwant the note %q once, the English statement and the question in %s", lang, got, note, lang)
		}
		if got := h.Say("3"); strings.Contains(got, note) || !strings.Contains(got, texts.T("en", f.StatementID(f.Checkpoints[1]))) {
			t.Errorf("%s: the second checkpoint: got\n%s\nwant it in English without the note again", lang, got)
		}
		// bmo-advocacy is written in the language: no note.
		h = newHarness(t, 0)
		h.Lang = lang
		b, _ := catalog.Get("bmo-advocacy")
		if got := h.Say("/check bmo-advocacy"); strings.Contains(got, texts.T(lang, "check.otherlang", "Title", texts.T(lang, b.TitleID()), "Lang", "en")) || !strings.Contains(got, texts.T(lang, b.GoalID())) {
			t.Errorf("%s: /check bmo-advocacy: got\n%s\nwant it in %s, without a note", lang, got, lang)
		}
	}
}

// TestHelpInEveryLanguage: /help is the language's own, names every
// command, and is different from every other language's.
func TestHelpInEveryLanguage(t *testing.T) {
	_, texts := bottest.Content(t)
	seen := map[string]string{}
	for _, lang := range texts.Langs() {
		h := newHarness(t, 0)
		h.Lang = lang
		got := h.Say("/help")
		if !strings.Contains(got, texts.T(lang, "help")) {
			t.Errorf("%s: /help: got %q, want the %s help", lang, got, lang)
		}
		for _, c := range h.Engine.Commands(lang) {
			if !strings.Contains(got, "/"+c.Name+" ") || c.Description == "" {
				t.Errorf("%s: /help lacks /%s, or it has no description (%q)", lang, c.Name, c.Description)
			}
		}
		if other, dup := seen[got]; dup {
			t.Errorf("%s: /help is the same as %s's", lang, other)
		}
		seen[got] = lang
	}
	if len(seen) != 6 {
		t.Errorf("languages: got %d, want six", len(seen))
	}
}

// TestCommandsInPlatformLanguages: the command menus (Telegram's per
// language, Slack's App Home) are in the language the platform names, the
// way the chat is: "fr-CA" French, "pt" English.
func TestCommandsInPlatformLanguages(t *testing.T) {
	_, texts := bottest.Content(t)
	h := newHarness(t, 0)
	for hint, want := range map[string]string{"fr": "fr", "fr-ca": "fr", "es": "es", "ru": "ru", "vi": "vi", "pt": "en", "": "de"} {
		got := h.Engine.Commands(hint)
		if len(got) == 0 || got[0].Description != texts.T(want, "command.desc."+got[0].Name) {
			t.Errorf("Commands(%q): got %+v, want the %s descriptions", hint, got, want)
		}
	}
}

// TestLanguagePickerTakesTypedName: at the language question, a language
// typed by a name the buttons do not show ("russisch", "English") is
// taken, as /language NAME takes it; a name of none is refused with the
// same question again.
func TestLanguagePickerTakesTypedName(t *testing.T) {
	h := newHarness(t, 0)
	h.Say("/language")
	if out := h.Say("russisch"); !strings.Contains(out, "по-русски") {
		t.Errorf("typed \"russisch\" at the language question: %q; want Russian", out)
	}
	h.Say("/language")
	if out := h.Say("English"); !strings.Contains(out, "in English") {
		t.Errorf("typed \"English\": %q; want English", out)
	}
	h.Say("/language")
	if out := h.Say("klingonisch"); !strings.Contains(out, "Which language would you like?") || h.Conv().Lang != "en" {
		t.Errorf("typed a language we do not speak: %q (language %q); want the question again, English kept", out, h.Conv().Lang)
	}
}
