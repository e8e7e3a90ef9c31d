// Package flows holds Ampel's checks as data: which checkpoints a check has, in
// which order, on which rating scale, and which suggestions each checkpoint offers
// for the action plan. It knows nothing about chat, storage or wording: every
// text a user reads is looked up in locales/ under IDs derived from the flow.
//
// A flow file is TOML, decoded strictly (unknown keys are refused) and validated
// as a whole, so that a network that writes its own check learns about every
// problem at once, each with its file and place. Only regular files of
// bounded size and nesting are read (internal/contentfile).
package flows

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/ampel-bot/ampel/flows/contentfile"
)

// Builtin holds the checks that ship with Ampel.
//
//go:embed *.toml
var Builtin embed.FS

// Level is one value of a rating scale. Need orders values by how urgently they
// call for action: 0 means no action, the plan is built from Need > 0, highest first.
type Level struct {
	ID   string
	Need int
}

// Scales are the rating scales a flow may use. They are domain rules (which
// value needs action), not texts: labels live in locales as "scale.<scale>.<level>".
var scales = map[string][]Level{
	"traffic-light": {{"red", 2}, {"yellow", 1}, {"green", 0}},
	"fulfilled":     {{"no", 1}, {"yes", 0}},
}

// Flow is one check.
type Flow struct {
	ID          string       `toml:"id"`
	Version     int          `toml:"version"`
	Scale       string       `toml:"scale"`
	Checkpoints []Checkpoint `toml:"checkpoints"`

	// File is where the flow was loaded from, for messages about it.
	File string `toml:"-"`
}

// Checkpoint is one point of a check that the user rates.
type Checkpoint struct {
	ID          string   `toml:"id"`
	Suggestions []string `toml:"suggestions"`
}

// Levels returns the values of the flow's scale, most urgent first.
func (f *Flow) Levels() []Level { return scales[f.Scale] }

// Level returns the scale value with the given ID.
func (f *Flow) Level(id string) (Level, bool) {
	for _, l := range scales[f.Scale] {
		if l.ID == id {
			return l, true
		}
	}
	return Level{}, false
}

// Index returns the position of the checkpoint with the given ID, or -1.
func (f *Flow) Index(checkpoint string) int {
	for i, c := range f.Checkpoints {
		if c.ID == checkpoint {
			return i
		}
	}
	return -1
}

// Text IDs. Every text of a flow lives in locales under these IDs.

// TitleID is the message ID of the check's title.
func (f *Flow) TitleID() string { return f.ID + ".title" }

// GoalID is the message ID of the check's goal statement.
func (f *Flow) GoalID() string { return f.ID + ".goal" }

// IntroID is the message ID of the check's introduction.
func (f *Flow) IntroID() string { return f.ID + ".intro" }

// SummaryID is the message ID of the check's one line in the list of checks:
// whom it is for, what it helps with and how long it takes. Every check needs
// it, so that the list never shows a check unexplained.
func (f *Flow) SummaryID() string { return f.ID + ".summary" }

// CheckpointTitleID is the message ID of the checkpoint's title.
func (f *Flow) CheckpointTitleID(c Checkpoint) string { return f.ID + "." + c.ID + ".title" }

// StatementID is the message ID of the checkpoint's good-practice statement.
func (f *Flow) StatementID(c Checkpoint) string { return f.ID + "." + c.ID + ".statement" }

// SuggestionID is the message ID of one of the checkpoint's suggestions.
func (f *Flow) SuggestionID(c Checkpoint, s string) string { return f.ID + "." + c.ID + "." + s }

// LevelID is the message ID of a scale value's label.
func LevelID(scale, level string) string { return "scale." + scale + "." + level }

// SymbolID is the message ID of a scale value's short symbol (a coloured dot).
func SymbolID(scale, level string) string { return "scale." + scale + "." + level + ".symbol" }

// TextRef is a message ID a flow needs, with the place in the flow file that needs it.
type TextRef struct {
	ID    string
	Place string
}

// TextRefs lists every message ID the flow needs, so that a missing text can be
// reported with the place that asked for it.
func (f *Flow) TextRefs() []TextRef {
	refs := []TextRef{{f.TitleID(), "id"}, {f.GoalID(), "id"}, {f.IntroID(), "id"}, {f.SummaryID(), "id"}}
	for _, l := range f.Levels() {
		refs = append(refs, TextRef{LevelID(f.Scale, l.ID), "scale"}, TextRef{SymbolID(f.Scale, l.ID), "scale"})
	}
	for i, c := range f.Checkpoints {
		place := fmt.Sprintf("checkpoints[%d] (%s)", i, c.ID)
		refs = append(refs, TextRef{f.CheckpointTitleID(c), place}, TextRef{f.StatementID(c), place})
		for j, s := range c.Suggestions {
			refs = append(refs, TextRef{f.SuggestionID(c, s), fmt.Sprintf("%s.suggestions[%d] (%s)", place, j, s)})
		}
	}
	return refs
}

// Problem is one thing wrong with a flow file.
type Problem struct {
	File   string
	Place  string
	Reason string
}

func (p Problem) String() string {
	if p.Place == "" {
		return p.File + ": " + p.Reason
	}
	return p.File + ": " + p.Place + ": " + p.Reason
}

// Problems is every problem found while loading flows. It is an error.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Catalog is a validated set of flows.
type Catalog struct {
	byID  map[string]*Flow
	order []*Flow
}

// Get returns the flow with the given ID.
func (c *Catalog) Get(id string) (*Flow, bool) {
	f, ok := c.byID[id]
	return f, ok
}

// All returns the flows in the order they were added.
func (c *Catalog) All() []*Flow { return c.order }

const (
	maxIDLen          = 24
	maxCheckpoints    = 30
	maxSuggestions    = 20
	defaultFileSuffix = ".toml"
)

var idPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// Load reads every *.toml file at the top of each fsys, in order, and returns
// the catalog, or Problems listing everything wrong with them. A later flow may
// not reuse the ID of an earlier one: a network's check cannot silently replace
// a built-in one. A later file identical to the earlier one of that ID is the
// same check read twice (a directory holding a copy of the shipped flows) and
// is passed over.
func Load(fsyss ...fs.FS) (*Catalog, error) {
	c := &Catalog{byID: map[string]*Flow{}}
	raw := map[string][]byte{}
	var problems Problems
	for _, fsys := range fsyss {
		names, err := fs.Glob(fsys, "*"+defaultFileSuffix)
		if err != nil {
			return nil, fmt.Errorf("list flow files: %w", err)
		}
		sort.Strings(names)
		for _, name := range names {
			data, err := contentfile.Read(fsys, name)
			if err != nil {
				problems = append(problems, Problem{File: name, Reason: err.Error()})
				continue
			}
			f, ps := Parse(name, data)
			problems = append(problems, ps...)
			if f == nil || len(ps) > 0 {
				continue
			}
			if prev, dup := c.byID[f.ID]; dup {
				if bytes.Equal(raw[f.ID], data) {
					continue
				}
				problems = append(problems, Problem{File: name, Place: "id", Reason: fmt.Sprintf("%q is already defined in %s", f.ID, prev.File)})
				continue
			}
			c.byID[f.ID] = f
			raw[f.ID] = data
			c.order = append(c.order, f)
		}
	}
	if len(problems) > 0 {
		return nil, problems
	}
	if len(c.order) == 0 {
		return nil, errors.New("no flow files found")
	}
	return c, nil
}

// Parse decodes and validates one flow file. It returns every problem found.
func Parse(file string, data []byte) (*Flow, Problems) {
	var de *contentfile.DepthError
	if err := contentfile.CheckDepth(data); errors.As(err, &de) {
		return nil, Problems{{File: file, Place: fmt.Sprintf("line %d, column %d", de.Line, de.Col), Reason: de.Error()}}
	}
	var f Flow
	if _, err := toml.Decode(string(data), &f); err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			// The library's line can be off by one for an unclosed table
			// header; the byte offset is right, so count lines ourselves.
			line, col := pe.Position.Line, pe.Position.Col
			if start := pe.Position.Start; start > 0 && start <= len(data) {
				before := string(data[:start])
				line = 1 + strings.Count(before, "\n")
				col = start - strings.LastIndexByte(before, '\n')
			}
			place := fmt.Sprintf("line %d", line)
			if col > 0 {
				place += fmt.Sprintf(", column %d", col)
			}
			return nil, Problems{{File: file, Place: place, Reason: pe.Message}}
		}
		return nil, Problems{{File: file, Reason: err.Error()}}
	}
	f.File = file
	var ps Problems
	add := func(place, format string, args ...any) {
		ps = append(ps, Problem{File: file, Place: place, Reason: fmt.Sprintf(format, args...)})
	}
	// Unknown keys, with the index of the checkpoint that holds them: the
	// library's list of undecoded keys carries no array index.
	var raw map[string]any
	if _, err := toml.Decode(string(data), &raw); err == nil {
		for _, k := range sortedKeys(raw) {
			if !topKeys[k] {
				add(k, "unknown key")
			}
		}
		if cps, ok := raw["checkpoints"].([]map[string]any); ok {
			for i, cp := range cps {
				for _, k := range sortedKeys(cp) {
					if !checkpointKeys[k] {
						add(fmt.Sprintf("checkpoints[%d].%s", i, k), "unknown key")
					}
				}
			}
		}
	}
	checkID := func(place, id string) {
		switch {
		case id == "":
			add(place, "missing")
		case len(id) > maxIDLen:
			add(place, "%q is longer than %d characters", id, maxIDLen)
		case !idPattern.MatchString(id):
			add(place, "%q: use lowercase letters, digits and single hyphens", id)
		}
	}
	checkID("id", f.ID)
	if base := strings.TrimSuffix(path.Base(file), defaultFileSuffix); f.ID != "" && base != f.ID {
		add("id", "%q does not match the file name %q", f.ID, path.Base(file))
	}
	if f.Version < 1 {
		add("version", "must be a whole number of at least 1")
	}
	if f.Scale == "" {
		add("scale", "missing")
	} else if _, ok := scales[f.Scale]; !ok {
		add("scale", "unknown scale %q (known: %s)", f.Scale, strings.Join(scaleNames(), ", "))
	}
	switch {
	case len(f.Checkpoints) == 0:
		add("checkpoints", "a check needs at least one checkpoint")
	case len(f.Checkpoints) > maxCheckpoints:
		add("checkpoints", "%d checkpoints; at most %d fit a chat", len(f.Checkpoints), maxCheckpoints)
	}
	seen := map[string]int{}
	for i, c := range f.Checkpoints {
		place := fmt.Sprintf("checkpoints[%d]", i)
		checkID(place+".id", c.ID)
		if j, dup := seen[c.ID]; dup && c.ID != "" {
			add(place+".id", "%q is also the id of checkpoints[%d]", c.ID, j)
		}
		seen[c.ID] = i
		if len(c.Suggestions) > maxSuggestions {
			add(place+".suggestions", "%d suggestions; at most %d fit a chat", len(c.Suggestions), maxSuggestions)
		}
		sseen := map[string]int{}
		for j, s := range c.Suggestions {
			sp := fmt.Sprintf("%s.suggestions[%d]", place, j)
			checkID(sp, s)
			if s == "title" || s == "statement" {
				add(sp, "%q is reserved for the checkpoint's own texts", s)
			}
			if k, dup := sseen[s]; dup && s != "" {
				add(sp, "%q is also suggestions[%d]", s, k)
			}
			sseen[s] = j
		}
	}
	return &f, ps
}

var (
	topKeys        = map[string]bool{"id": true, "version": true, "scale": true, "checkpoints": true}
	checkpointKeys = map[string]bool{"id": true, "suggestions": true}
)

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func scaleNames() []string {
	names := make([]string, 0, len(scales))
	for n := range scales {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
