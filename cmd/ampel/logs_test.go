package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/ampel-bot/ampel/adapters/console"
	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
)

// TestLogsJSONWithComponentsAndNoUserText: with --log-format json every
// log line is a JSON object naming its component; a conversation appears
// only by its hash (bot.KeyHash, as ampel db quarantine shows it). A whole
// check and plan on the console with canary answers, at debug level, and
// a second start that meets the conversation's record damaged, leave no
// canary in the log.
func TestLogsJSONWithComponentsAndNoUserText(t *testing.T) {
	db := tempDB(t)
	c := bottest.Canaries
	args := []string{"--db", db, "--log-format", "json", "--log-level", "debug"}
	r := runAmpel(t, german, lines(
		"/check zo-kmu", c.Answer, "1", "3", "3", "3", "3", "3", "3",
		"1", // Maßnahmenplan erstellen
		c.Measure, "1", c.Name, "in 2 Wochen", "in 3 Monaten",
		"/plan",
	), args...)
	if r.err != nil || !strings.Contains(r.out, "Gespeichert: "+c.Measure) || !strings.Contains(r.out, c.Name) {
		t.Fatalf("run: %v; the dialogue did not go through:\n%s", r.err, tail(r.out, 2000))
	}
	logs := r.errOut
	damageRecord(t, db, console.Address().Key())
	r = runAmpel(t, german, lines("/plan"), args...)
	if r.err != nil {
		t.Fatal(r.err)
	}
	logs += r.errOut

	components := map[string]int{}
	refs := 0
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("not a JSON object: %q", line)
			continue
		}
		comp, _ := rec["component"].(string)
		if comp == "" {
			t.Errorf("no component: %s", line)
		}
		components[comp]++
		if ref, ok := rec["ref"]; ok {
			refs++
			if ref != bot.KeyHash(console.Address().Key()) {
				t.Errorf("ref %v is not the conversation's hash: %s", ref, line)
			}
		}
	}
	for _, want := range []string{"main", "store", "engine"} {
		if components[want] == 0 {
			t.Errorf("no line from the %s; components: %v\n%s", want, components, logs)
		}
	}
	if refs < 2 {
		t.Errorf("the damaged conversation is named by its hash in %d lines, want the store's and the engine's:\n%s", refs, logs)
	}
	if strings.Contains(logs, console.Address().Key()) {
		t.Errorf("the log carries the conversation's key:\n%s", logs)
	}
	bottest.NoCanaries(t, logs)
}
