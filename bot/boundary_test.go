package bot_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportBoundary keeps bot/ the centre: it may use the standard library,
// flows/ (with the safe file reading it uses) and go-i18n, never an
// adapter, the store or a platform SDK.
func TestImportBoundary(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/ampel-bot/ampel/bot").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	allowed := []string{
		"github.com/ampel-bot/ampel/bot",
		"github.com/ampel-bot/ampel/flows",
		"github.com/ampel-bot/ampel/flows/contentfile", // through flows, for reading flow files safely
		"github.com/nicksnyder/go-i18n/",
		"github.com/BurntSushi/toml", // through flows, for flow files
		"golang.org/x/text/",         // through go-i18n, for language tags and plurals
	}
	for _, pkg := range strings.Fields(string(out)) {
		if !strings.Contains(strings.SplitN(pkg, "/", 2)[0], ".") {
			continue // standard library
		}
		ok := false
		for _, a := range allowed {
			if pkg == a || strings.HasPrefix(pkg, a) {
				ok = true
			}
		}
		if !ok {
			t.Errorf("bot depends on %s; bot may import only the standard library, flows and go-i18n", pkg)
		}
	}
}
