package slack

import (
	"regexp"
	"strings"
	"testing"
)

// TestNetworkSlashCommands: through the engine, "/ampel network new" in
// the DM creates a network (its join code named as "/ampel join CODE"),
// "/ampel join CODE" in another member's DM joins it, and "/ampel link"
// in a channel, by the coordinator, links the channel.
func TestNetworkSlashCommands(t *testing.T) {
	e := newEnv(t, nil)
	e.run(nil)
	anna := newChatter(t, e, "D0ANNA01", "U0ANNA01", "en-US", "Europe/Berlin")
	anna.slash("network new")
	anna.say("Ruhr SME Network")
	anna.tap("Skip")
	anna.tap("English")
	var shown []string
	for _, m := range anna.tap("Keep") {
		shown = append(shown, m.Shown())
	}
	code := regexp.MustCompile(`members send me /ampel join ([a-z2-7]{10})\.`).FindStringSubmatch(strings.Join(shown, "\n"))
	if code == nil {
		t.Fatalf("no join code named as /ampel join:\n%s", strings.Join(anna.log, "\n"))
	}
	bert := newChatter(t, e, "D0BERT01", "U0BERT01", "en-US", "Europe/Berlin")
	bert.expect(bert.slash("join "+code[1]), "Welcome to “Ruhr SME Network”!")
	bert.expect(bert.slash("join nosuchcode"), "I do not know this code.")
	channel := newChatter(t, e, "C0NETW01", "U0ANNA01", "en-US", "Europe/Berlin")
	channel.expect(channel.slash("link"), "This group is now linked to “Ruhr SME Network”")
	bertThere := newChatter(t, e, "C0NETW01", "U0BERT01", "en-US", "Europe/Berlin")
	bertThere.expect(bertThere.slash("link"), "Only the network's coordinators and moderators")
}
