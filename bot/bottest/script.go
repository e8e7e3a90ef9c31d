package bottest

// Script is what a user presses and types to go through the zo-kmu check
// and build a plan of one measure in one language, and texts they must
// then see. Every adapter's end-to-end test walks it over its platform, so
// the three tests agree on what a user does and reads.
type Script struct {
	Lang                           string
	StartCheck, Red, Green         string // button labels (or their start)
	Check                          string // zo-kmu's title, chosen from the list of checks
	BuildPlan, High, NoMeasure     string
	InTwoWeeks, FourWeeks          string // typed start, chosen review
	Next                           string // on to the next checkpoint after a save
	Welcome, PlanHeader, StartLine string // shown by /start and /plan
}

// German and English are the Script in the two shipped languages. The plan
// starts two weeks after 2027-03-10, the clock the adapter tests use.
var (
	German = Script{
		Lang: "de", StartCheck: "Check starten", Check: "Zusammenarbeit mit KMU", Red: "🔴 Dringender", Green: "🟢",
		BuildPlan: "Maßnahmenplan erstellen", High: "hoch", NoMeasure: "Keine Maßnahme nötig",
		InTwoWeeks: "in 2 Wochen", FourWeeks: "4 Wochen nach Start", Next: "Weiter",
		Welcome: "Willkommen bei Ampel!", PlanHeader: "Maßnahmenplan · 1 offene Maßnahme", StartLine: "Start: Mi, 24.03.2027",
	}
	English = Script{
		Lang: "en", StartCheck: "Start the check", Check: "Working with SMEs", Red: "🔴 Urgent", Green: "🟢",
		BuildPlan: "Build the action plan", High: "high", NoMeasure: "No measure needed",
		InTwoWeeks: "in 2 weeks", FourWeeks: "4 weeks after start", Next: "Go on",
		Welcome: "Welcome to Ampel!", PlanHeader: "Action plan · 1 open measure", StartLine: "Start: Wed 24 Mar 2027",
	}
)
