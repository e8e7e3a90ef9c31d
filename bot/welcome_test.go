package bot_test

import (
	"strings"
	"testing"
)

// TestFirstContactWelcome: someone new who says "Hallo" learns what the bot
// is before the menu, once; a first command is answered as itself.
func TestFirstContactWelcome(t *testing.T) {
	h := newHarness(t, 0)
	got := h.Say("Hallo")
	if !strings.HasPrefix(got, "Willkommen bei Ampel!") || !strings.Contains(got, "Was möchten Sie tun?") || !strings.Contains(got, "Check starten") {
		t.Errorf("first hello: got %q, want the welcome, then the menu", got)
	}
	if got := h.Say("Hallo"); strings.Contains(got, "Willkommen") {
		t.Errorf("second hello: got %q, want no second welcome", got)
	}
	h = newHarness(t, 0)
	h.Lang = "en"
	if got := h.Say("/check zo-kmu"); strings.Contains(got, "Welcome") || !strings.Contains(got, "1/7") {
		t.Errorf("/check first: got %q, want the check without the welcome", got)
	}
	if got := h.Say("hello"); strings.Contains(got, "Welcome") {
		t.Errorf("hello during the check: got %q, want no welcome", got)
	}
}
