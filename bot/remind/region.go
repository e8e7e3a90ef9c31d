package remind

import (
	"slices"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/holiday"
)

// ModeRegion asks for the region whose public holidays reminders avoid,
// among the countries; ModeRegionStates among the states of Germany, the
// one country offered by state.
const (
	ModeRegion       = "region"
	ModeRegionStates = "region-states"
	statesOf         = "DE"
)

// regionName is how a region is shown: a state by its name, a country with
// states, as a whole, by its name and "nationwide".
func regionName(t *bot.Turn, region string) string {
	if _, ok := holiday.States[region]; ok {
		return t.T("region.nationwide", "Country", t.T("region."+region))
	}
	return t.T("region." + region)
}

// suggested is the country the person's zone or language suggests.
func suggested(t *bot.Turn) string {
	c := t.Conv()
	return holiday.Suggest(t.Lang(), t.Zone().String(), c.TZ != "" || c.ZoneHint != "")
}

// openRegion shows the states of the country of the region set, or of the
// one suggested when none is; else the countries.
func openRegion(t *bot.Turn) {
	country := holiday.Country(t.Conv().Region)
	if country == "" {
		country = suggested(t)
	}
	if country == statesOf {
		t.To(ModeRegionStates)
	} else {
		t.To(ModeRegion)
	}
	t.Ask()
}

func regionText(t *bot.Turn) string {
	text := t.T("region.ask")
	if r := t.Conv().Region; r != "" {
		text = t.T("region.current", "Region", regionName(t, r)) + "\n\n" + text
	}
	return text
}

// askRegion offers the countries, the one suggested first.
func askRegion(t *bot.Turn) (bot.Message, bool) {
	countries := slices.Clone(holiday.Countries)
	if s := suggested(t); s != "" {
		i := slices.Index(countries, s)
		countries = append(append([]string{s}, countries[:i]...), countries[i+1:]...)
	}
	var rows [][]bot.Button
	for _, c := range countries {
		verb := "r"
		if c == statesOf {
			verb = "states"
		}
		rows = append(rows, []bot.Button{{Label: t.T("region." + c), Action: t.Action(verb, c)}})
	}
	rows = append(rows, []bot.Button{{Label: t.T("button.region.none"), Action: t.Action("r", "none")}}, t.BackRow())
	return bot.Message{Text: regionText(t), Buttons: rows}, true
}

// askRegionStates offers the states, two to a row, the country as a
// whole, the other countries and none.
func askRegionStates(t *bot.Turn) (bot.Message, bool) {
	country, states := statesOf, holiday.States[statesOf]
	var rows [][]bot.Button
	for i, s := range states {
		b := bot.Button{Label: t.T("region." + s), Action: t.Action("r", s)}
		if i%2 == 0 {
			rows = append(rows, []bot.Button{b})
		} else {
			rows[len(rows)-1] = append(rows[len(rows)-1], b)
		}
	}
	rows = append(rows, []bot.Button{{Label: regionName(t, country), Action: t.Action("r", country)}},
		[]bot.Button{{Label: t.T("button.region.other"), Action: t.Action("other")}},
		[]bot.Button{{Label: t.T("button.region.none"), Action: t.Action("r", "none")}}, t.BackRow())
	return bot.Message{Text: regionText(t), Buttons: rows}, true
}

func pressRegion(t *bot.Turn, verb, arg string) {
	switch {
	case verb == "other":
		t.To(ModeRegion)
		t.Ask()
	case verb == "states":
		t.To(ModeRegionStates)
		t.Ask()
	case verb == "r" && arg == "none":
		saveRegion(t, "")
	case verb == "r" && holiday.Valid(arg):
		saveRegion(t, arg)
	default:
		t.Reask()
	}
}

// saveRegion sets the region, moves the reminders that fall on its
// holidays, and shows the reminders again.
func saveRegion(t *bot.Turn, region string) {
	t.Conv().Region = region
	t.SyncReminders()
	if region == "" {
		t.Note(t.T("region.off"))
	} else {
		t.Note(t.T("region.set", "Region", regionName(t, region)))
	}
	t.To(ModeReminders)
	t.Ask()
}
