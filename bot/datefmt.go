package bot

import "time"

// FormatDate writes a calendar day (midnight UTC, as the plan keeps them)
// unambiguously the way lang writes it ("Mo, 15.03.2027"), for the packages
// that render outside a dialogue turn (bot/export).
func (t *Texts) FormatDate(lang string, d time.Time) string { return t.formatDate(lang, d) }
