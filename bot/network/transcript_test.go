package network_test

import (
	"flag"
	"testing"

	"github.com/ampel-bot/ampel/bot/dialogtest"
	"github.com/ampel-bot/ampel/bot/network"
)

var update = flag.Bool("update", false, "rewrite the golden transcripts in testdata/")

// TestTranscripts plays every network dialogue in testdata/ and compares
// what each person would see with the golden file; -update rewrites them.
func TestTranscripts(t *testing.T) {
	dialogtest.Goldens(t, *update, "go test ./bot/network -update", func(t *testing.T, file, script string) string {
		network.CountCodes(t)
		return dialogtest.PlayGolden(t, file, script)
	})
}
