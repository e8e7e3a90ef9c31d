package main

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
)

// TestMattermostNeedsURLAndToken: half a Mattermost configuration is an
// error at start, not a silently missing platform.
func TestMattermostNeedsURLAndToken(t *testing.T) {
	for _, getenv := range []func(string) string{
		env("AMPEL_MATTERMOST_TOKEN", "tok"),
		env("AMPEL_MATTERMOST_URL", "https://chat.example.org"),
	} {
		err := run(context.Background(), []string{"--db", filepath.Join(t.TempDir(), "m.db")}, getenv, strings.NewReader(""), io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "both AMPEL_MATTERMOST_URL and AMPEL_MATTERMOST_TOKEN") {
			t.Errorf("got %v", err)
		}
	}
	err := run(context.Background(), []string{"--db", filepath.Join(t.TempDir(), "m.db")}, env("AMPEL_SLACK_APP_TOKEN", "xapp-1"), strings.NewReader(""), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "AMPEL_SLACK_BOT_TOKEN") {
		t.Errorf("Slack without a bot token: got %v", err)
	}
}
