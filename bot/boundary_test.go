package bot_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/ampel-bot/ampel/"

// deps lists what each package depends on, itself included.
func deps(t *testing.T, pkgs ...string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, pkg := range pkgs {
		b, err := exec.Command("go", "list", "-deps", pkg).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", pkg, err)
		}
		out[pkg] = strings.Fields(string(b))
	}
	return out
}

// outside reports whether pkg is neither the standard library nor one of
// allowed (a path, or a prefix ending in "/").
func outside(pkg string, allowed []string) bool {
	if !strings.Contains(strings.SplitN(pkg, "/", 2)[0], ".") {
		return false // standard library
	}
	for _, a := range allowed {
		if pkg == a || strings.HasSuffix(a, "/") && strings.HasPrefix(pkg, a) {
			return false
		}
	}
	return true
}

// The core's own dependencies: flows/ (with the safe file reading it uses)
// and go-i18n.
var coreAllowed = []string{
	module + "bot",
	module + "flows",
	module + "flows/contentfile", // through flows, for reading flow files safely
	"github.com/nicksnyder/go-i18n/",
	"github.com/BurntSushi/toml", // through flows, for flow files
	"github.com/BurntSushi/toml/",
	"golang.org/x/text/", // through go-i18n, for language tags and plurals
}

// TestImportBoundary keeps bot/ the centre: it may use the standard library,
// flows/ and go-i18n, never a feature (bot/check, bot/plan, …), an adapter,
// the store or a platform SDK.
func TestImportBoundary(t *testing.T) {
	for _, pkg := range deps(t, module+"bot")[module+"bot"] {
		if outside(pkg, coreAllowed) {
			t.Errorf("bot depends on %s; bot may import only the standard library, flows and go-i18n", pkg)
		}
	}
}

// renderAllowed are the libraries bot/export draws and writes files with
// (the result picture, the plan as PDF and calendar): no platform's, so
// the features that make files may use them through it.
var renderAllowed = []string{
	"codeberg.org/go-pdf/fpdf",
	"github.com/arran4/golang-ical",
	"golang.org/x/image/",
	"golang.org/x/sys/cpu", // through golang.org/x/image/vector
}

// holidayAllowed is the holiday library bot/holiday reads public holidays
// from (Easter-based days, substitute days, the German states' own): rules
// we would otherwise write and get wrong. The core sees it only through
// bot.Holidays.
var holidayAllowed = []string{
	"github.com/rickar/cal/v2",
	"github.com/rickar/cal/v2/",
}

// TestFeatureBoundary keeps the features above the core and below the
// adapters: a feature package (every package listed by bot/features) may
// use the core, what the core may, other features and the file renderers'
// libraries, never an adapter, the store or a platform SDK.
func TestFeatureBoundary(t *testing.T) {
	list := deps(t, module+"bot/features")[module+"bot/features"]
	var features []string
	for _, pkg := range list {
		if rest, ok := strings.CutPrefix(pkg, module+"bot/"); ok && rest != "features" && !strings.Contains(rest, "/") {
			features = append(features, pkg)
		}
	}
	if len(features) < 4 {
		t.Fatalf("bot/features lists %d feature packages (%v), want check, plan, remind and settings at least", len(features), features)
	}
	allowed := append(append(append(slices.Clone(coreAllowed), module+"bot/features"), features...), append(renderAllowed, holidayAllowed...)...)
	for pkg, ds := range deps(t, append(features, module+"bot/features")...) {
		for _, d := range ds {
			if outside(d, allowed) {
				t.Errorf("%s depends on %s; a feature may import only the core, flows, go-i18n and other features", pkg, d)
			}
		}
	}
}
