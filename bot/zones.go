package bot

import (
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Reading a time zone as people type it, and naming it for them.

// knownZones are searched by city name ("Hanoi" finds no zone of that
// name, but "Ho Chi Minh", "Kolkata" and "Berlin" do).
var knownZones = []string{
	"Europe/Berlin", "Europe/Vienna", "Europe/Zurich", "Europe/London", "Europe/Paris", "Europe/Madrid",
	"Europe/Rome", "Europe/Amsterdam", "Europe/Brussels", "Europe/Warsaw", "Europe/Prague", "Europe/Budapest",
	"Europe/Bucharest", "Europe/Sofia", "Europe/Athens", "Europe/Istanbul", "Europe/Kyiv", "Europe/Moscow",
	"Europe/Lisbon", "Europe/Dublin", "Europe/Stockholm", "Europe/Oslo", "Europe/Copenhagen", "Europe/Helsinki",
	"Asia/Almaty", "Asia/Tashkent", "Asia/Bishkek", "Asia/Kolkata", "Asia/Dhaka", "Asia/Ho_Chi_Minh",
	"Asia/Bangkok", "Asia/Jakarta", "Asia/Shanghai", "Asia/Tokyo", "Asia/Dubai", "Asia/Tbilisi", "Asia/Yerevan",
	"Asia/Baku", "Asia/Karachi", "Asia/Manila", "Africa/Cairo", "Africa/Lagos", "Africa/Nairobi",
	"Africa/Johannesburg", "Africa/Casablanca", "Africa/Tunis", "Africa/Accra", "Africa/Dakar", "Africa/Abidjan",
	"America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles", "America/Mexico_City",
	"America/Bogota", "America/Lima", "America/Santiago", "America/Sao_Paulo", "America/Argentina/Buenos_Aires",
	"UTC",
}

// ianaName is how the names of the IANA time zone database are spelt.
var ianaName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9][A-Za-z0-9_+-]*)+$`)

// zoneAbbreviations are the abbreviations people type for a zone, read as
// the zone whose clocks they name: "EST" in July means New York's time.
var zoneAbbreviations = map[string]string{
	"cet": "Europe/Berlin", "cest": "Europe/Berlin", "met": "Europe/Berlin", "mest": "Europe/Berlin",
	"eet": "Europe/Athens", "eest": "Europe/Athens", "wet": "Europe/Lisbon", "west": "Europe/Lisbon",
	"gmt": "UTC", "utc": "UTC", "z": "UTC", "bst": "Europe/London",
	"est": "America/New_York", "edt": "America/New_York", "cst": "America/Chicago", "cdt": "America/Chicago",
	"mst": "America/Denver", "mdt": "America/Denver", "pst": "America/Los_Angeles", "pdt": "America/Los_Angeles",
	"msk": "Europe/Moscow", "ist": "Asia/Kolkata", "ict": "Asia/Ho_Chi_Minh", "almt": "Asia/Almaty",
	"jst": "Asia/Tokyo", "gst": "Asia/Dubai", "sast": "Africa/Johannesburg", "eat": "Africa/Nairobi", "wat": "Africa/Lagos",
}

// reOffset is an offset from UTC as people type it: "+3", "-4", "UTC+3",
// "GMT -4", "+5:30", "+05:30", "+0530", "UTC−4" (a typographic minus).
var reOffset = regexp.MustCompile(`^(?:utc|gmt)?\s*([+\-−])\s*(\d{1,2})(?:(?::|\.|h)?(\d{2}))?\s*h?$`)

// findZone reads a time zone as people type it: an IANA name, a city or
// country in any shipped language (from the locales' parse.zones) or of a
// known zone, an abbreviation (CET, EST), or an offset from UTC ("+3",
// "UTC-4", "+5:30"). A whole-hour offset is an IANA Etc zone, any other a
// fixed zone named "UTC+5:30" (loadZone reads both back).
func (v *dateVocab) findZone(text string) (*time.Location, bool) {
	s := strings.TrimSpace(text)
	if s == "" {
		return nil, false
	}
	// Only a name as IANA spells it: the files also answer to "Europe//Berlin"
	// and "Europe/./Berlin", endless spellings of one zone.
	if loc, err := time.LoadLocation(s); err == nil && ianaName.MatchString(s) || s == "UTC" {
		if loc == nil {
			loc = time.UTC
		}
		return loc, true
	}
	if m := reOffset.FindStringSubmatch(strings.ToLower(s)); m != nil {
		return offsetZone(m[1] != "+", m[2], m[3])
	}
	if strings.ContainsFunc(s, func(r rune) bool { return r == '+' || unicode.IsDigit(r) }) {
		return nil, false // an offset mistyped ("UTC+"), not a name
	}
	load := func(name string) (*time.Location, bool) {
		loc, err := time.LoadLocation(name)
		return loc, err == nil
	}
	key := nameKey(s)
	if z, ok := zoneAbbreviations[strings.ToLower(s)]; ok {
		return load(z)
	}
	if z, ok := v.zones[key]; ok {
		return load(z)
	}
	for _, z := range knownZones {
		if nameKey(z[strings.LastIndexByte(z, '/')+1:]) == key || nameKey(z) == key {
			return load(z)
		}
	}
	return nil, false
}

// offsetZone is the zone of a fixed offset from UTC, from UTC-12 to UTC+14,
// in quarter hours.
func offsetZone(minus bool, hours, minutes string) (*time.Location, bool) {
	h, _ := strconv.Atoi(hours)
	m, _ := strconv.Atoi(minutes) // "" is 0
	if m%15 != 0 || m >= 60 {
		return nil, false
	}
	sign := 1
	if minus {
		sign = -1
	}
	total := sign * (h*60 + m)
	if total < -12*60 || total > 14*60 {
		return nil, false
	}
	switch {
	case total == 0:
		return time.UTC, true
	case m == 0:
		// IANA's Etc zones count the other way: UTC+3 is Etc/GMT-3.
		name := "Etc/GMT-" + strconv.Itoa(h)
		if minus {
			name = "Etc/GMT+" + strconv.Itoa(h)
		}
		loc, err := time.LoadLocation(name)
		return loc, err == nil
	}
	return loadZone(fixedZoneName(total))
}

// fixedZoneName names an offset that no IANA zone is named after:
// "UTC+5:30", "UTC-3:30".
func fixedZoneName(minutes int) string {
	sign := "+"
	if minutes < 0 {
		sign, minutes = "-", -minutes
	}
	return "UTC" + sign + strconv.Itoa(minutes/60) + ":" + two(minutes%60)
}

var reFixedZone = regexp.MustCompile(`^UTC([+-])(\d{1,2}):(\d{2})$`)

// loadZone loads a zone stored in a conversation: an IANA name, or a fixed
// offset as fixedZoneName writes it.
func loadZone(name string) (*time.Location, bool) {
	if m := reFixedZone.FindStringSubmatch(name); m != nil {
		h, _ := strconv.Atoi(m[2])
		mins, _ := strconv.Atoi(m[3])
		total := h*60 + mins
		if m[1] == "-" {
			total = -total
		}
		if mins >= 60 || total < -12*60 || total > 14*60 || fixedZoneName(total) != name {
			return nil, false
		}
		return time.FixedZone(name, total*60), true
	}
	loc, err := time.LoadLocation(name)
	return loc, err == nil
}

// zoneLabel names a zone for people: IANA's fixed-offset zones count the
// other way round ("Etc/GMT-3" is three hours ahead), so they are shown as
// "UTC+3".
func zoneLabel(loc *time.Location) string {
	name := loc.String()
	if rest, ok := strings.CutPrefix(name, "Etc/GMT"); ok && rest != "" {
		switch rest[0] {
		case '-':
			return "UTC+" + rest[1:]
		case '+':
			return "UTC-" + rest[1:]
		}
	}
	return name
}
