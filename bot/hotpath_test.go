package bot

import (
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode"
)

// normalizeBefore is Normalize as it was written first: the reference the
// one-pass version must equal.
func normalizeBefore(s string) string {
	return strings.Join(strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}), " ")
}

// TestNormalizeAsBefore: typed answers match buttons and words exactly as
// before the one-pass Normalize (case, emoji, punctuation, other scripts,
// broken UTF-8).
func TestNormalizeAsBefore(t *testing.T) {
	for _, s := range []string{
		"", " ", "3", "weiter", "Weiter", "  Weiter  ", "in 2 Wochen", "in  2 Wochen", " a", "a ",
		"🔴 Rot", "✅ Ja!", "Ändern…", "İstanbul", "ΣΊΣΥΦΟΣ", "КОНЕЦ", "Tiếp tục", "straße", "Kelvin K",
		"a\xffb", "\xff", "1️⃣", "x-y_z", "ﬁn", "Ⅻ", "١٢٣", "zwei  wörter ", "a\tb\nc",
	} {
		if got, want := Normalize(s), normalizeBefore(s); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", s, got, want)
		}
	}
}

func FuzzNormalizeAsBefore(f *testing.F) {
	f.Add("Weiter ✅")
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := Normalize(s), normalizeBefore(s); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", s, got, want)
		}
	})
}

// TestTypedAnswerAllocations: reading what a user typed on every turn
// (Normalize, the stored quiet hours) costs at most the answer's own copy,
// and nothing when it needs no change: a thousand users typing at once
// would otherwise make work for the garbage collector on every turn.
func TestTypedAnswerAllocations(t *testing.T) {
	var sink string
	if n := testing.AllocsPerRun(100, func() { sink = Normalize("weiter") }); n != 0 {
		t.Errorf("Normalize of a normalized answer: %v allocations, want 0", n)
	}
	if n := testing.AllocsPerRun(100, func() { sink = Normalize("Workshop mit zwei Betrieben!") }); n > 1 {
		t.Errorf("Normalize of a typed measure: %v allocations, want at most 1", n)
	}
	_ = sink
	c := &Conversation{Quiet: "20:00–08:00"}
	var q QuietHours
	if n := testing.AllocsPerRun(100, func() { q = c.QuietHours() }); n > 0 {
		t.Errorf("reading stored quiet hours: %v allocations, want 0", n)
	}
	if q != (QuietHours{20 * 60, 8 * 60}) {
		t.Errorf("quiet hours 20:00–08:00 read as %+v", q)
	}
}

// TestPlanSameSeesEveryField: a shared plan's followers hear of a change
// of any field of any measure, of the people, of the next ID: each one
// changed alone is a change; an untouched copy is none.
func TestPlanSameSeesEveryField(t *testing.T) {
	base := func() Plan {
		return Plan{NextID: 2, People: []Person{{ID: "u1", Name: "Anna"}}, Measures: []Measure{
			{ID: 1, Flow: "zo-kmu", Checkpoint: "cp", Text: "T", Priority: "high", Responsible: "Bert",
				ResponsibleUser: "u2", Start: "2027-03-15", Review: "2027-04-15", Status: StatusOpen},
			{ID: 2, Flow: "zo-kmu", Checkpoint: "cp2", Text: "U", Me: true, Status: StatusDone,
				Settled: time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)},
		}}
	}
	p := base()
	snap := p.snapshot()
	if !snap.same(&p) {
		t.Fatal("an unchanged plan counts as changed")
	}
	p.Measures[1].Settled = p.Measures[1].Settled.In(time.FixedZone("CET", 3600))
	if !snap.same(&p) {
		t.Error("the same settling instant in another zone counts as a change")
	}
	mt := reflect.TypeFor[Measure]()
	for i := range mt.NumField() {
		p := base()
		snap := p.snapshot()
		f := reflect.ValueOf(&p.Measures[1]).Elem().Field(i)
		switch f.Kind() {
		case reflect.String:
			f.SetString(f.String() + "x")
		case reflect.Int:
			f.SetInt(f.Int() + 1)
		case reflect.Bool:
			f.SetBool(!f.Bool())
		default:
			f.Set(reflect.ValueOf(p.Measures[1].Settled.Add(time.Second)))
		}
		if snap.same(&p) {
			t.Errorf("a change of Measure.%s is not seen", mt.Field(i).Name)
		}
	}
	for name, change := range map[string]func(p *Plan){
		"NextID":          func(p *Plan) { p.NextID++ },
		"a person's name": func(p *Plan) { p.People[0].Name = "Anne" },
		"a new person":    func(p *Plan) { p.People = append(p.People, Person{ID: "u3"}) },
		"a new measure":   func(p *Plan) { p.Measures = append(p.Measures, Measure{ID: 3}) },
		"a measure gone":  func(p *Plan) { p.Measures = p.Measures[:1] },
	} {
		p := base()
		snap := p.snapshot()
		change(&p)
		if snap.same(&p) {
			t.Errorf("%s: not seen as a change", name)
		}
	}
}

// TestPlainTextAllocations: a text without data, asked for again (a
// button's label, a question's last line), comes from the cache without
// allocating; the first time it is rendered as ever.
func TestPlainTextAllocations(t *testing.T) {
	tx := datesTexts(t)
	first := tx.T("de", "button.examples")
	if first == "" || first == "button.examples" {
		t.Fatalf(`T("de", "button.examples") = %q, want the German label`, first)
	}
	var again string
	if n := testing.AllocsPerRun(100, func() { again = tx.T("de", "button.examples") }); n != 0 {
		t.Errorf("a cached plain text: %v allocations, want 0", n)
	}
	if again != first {
		t.Errorf("from the cache: %q, want %q", again, first)
	}
	if en := tx.T("en", "button.examples"); en == first || en == "" {
		t.Errorf(`T("en", "button.examples") = %q: the cache must keep languages apart (de: %q)`, en, first)
	}
}
