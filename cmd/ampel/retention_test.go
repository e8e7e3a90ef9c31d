package main

import (
	"strings"
	"testing"
)

// TestRetentionSetting: --retention is whole months, 24 by default, 0
// switching the sweep off; anything else is refused with what to write.
func TestRetentionSetting(t *testing.T) {
	def := ""
	for _, s := range settings {
		if s.flag == "retention" {
			def = s.def
		}
	}
	if def != "24" {
		t.Errorf("--retention default: got %q, want 24 (months)", def)
	}
	for in, want := range map[string]int{"24": 24, "0": 0, "6": 6} {
		o, err := parseOps(Config{Shutdown: "10s", ReadyAge: "15m", Retention: in})
		if err != nil || o.retention != want {
			t.Errorf("--retention %s: got %d, %v, want %d", in, o.retention, err, want)
		}
	}
	for _, in := range []string{"-1", "2y", "", "1201"} {
		if _, err := parseOps(Config{Shutdown: "10s", ReadyAge: "15m", Retention: in}); err == nil || !strings.Contains(err.Error(), "months") {
			t.Errorf("--retention %q: got %v, want it refused, saying months", in, err)
		}
	}
}
