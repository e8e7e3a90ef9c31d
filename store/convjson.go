package store

import (
	"sort"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/ampel-bot/ampel/bot"
)

// appendConversationJSON appends exactly what json.Marshal writes for a
// conversation (TestEncodeConversationMatchesJSON holds it to that, byte for
// byte), without reflection: a conversation is encoded after every answer,
// and reflection made that a fifth of a turn's work. Reading stays with
// encoding/json, which is rare (the engine caches decoded conversations).
func appendConversationJSON(b []byte, c *bot.Conversation) []byte {
	b = append(b, '{')
	first := true
	field := func(name string) {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, '"')
		b = append(b, name...)
		b = append(b, '"', ':')
	}
	if c.Lang != "" {
		field("lang")
		b = appendStr(b, c.Lang)
	}
	if c.Hint != "" {
		field("hint")
		b = appendStr(b, c.Hint)
	}
	if c.TZ != "" {
		field("tz")
		b = appendStr(b, c.TZ)
	}
	if c.ZoneHint != "" {
		field("tzhint")
		b = appendStr(b, c.ZoneHint)
	}
	field("addr")
	b = appendAddress(b, c.Addr)
	if c.Run != nil {
		field("run")
		b = appendRun(b, c.Run)
	}
	if len(c.History) > 0 {
		field("history")
		b = append(b, '[')
		for i := range c.History {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendRun(b, &c.History[i])
		}
		b = append(b, ']')
	}
	field("plan")
	b = append(b, '{')
	pf := true
	if len(c.Plan.Measures) > 0 {
		b = append(b, `"measures":[`...)
		for i := range c.Plan.Measures {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendMeasure(b, &c.Plan.Measures[i])
		}
		b = append(b, ']')
		pf = false
	}
	if c.Plan.NextID != 0 {
		if !pf {
			b = append(b, ',')
		}
		b = append(b, `"next":`...)
		b = strconv.AppendInt(b, int64(c.Plan.NextID), 10)
		pf = false
	}
	if len(c.Plan.People) > 0 {
		if !pf {
			b = append(b, ',')
		}
		b = append(b, `"people":[`...)
		for i, p := range c.Plan.People {
			if i > 0 {
				b = append(b, ',')
			}
			o := newObj(b)
			o.str("id", p.ID, false)
			o.str("name", p.Name, false)
			b = o.end()
		}
		b = append(b, ']')
	}
	b = append(b, '}')
	field("dialog")
	b = appendDialog(b, &c.Dialog)
	if len(c.Records) > 0 {
		field("recs")
		b = appendStrMap(b, c.Records)
	}
	if len(c.Reminders) > 0 {
		field("rem")
		b = append(b, '[')
		for i := range c.Reminders {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendReminder(b, &c.Reminders[i])
		}
		b = append(b, ']')
	}
	if c.RemindersOff {
		field("remoff")
		b = append(b, "true"...)
	}
	if c.Weekends {
		field("weekends")
		b = append(b, "true"...)
	}
	if c.Quiet != "" {
		field("quiet")
		b = appendStr(b, c.Quiet)
	}
	if c.Pause != "" {
		field("pause")
		b = appendStr(b, c.Pause)
	}
	if c.Region != "" {
		field("region")
		b = appendStr(b, c.Region)
	}
	if len(c.Snoozed) > 0 {
		field("snz")
		b = appendStrMap(b, c.Snoozed)
	}
	if c.Snoozing != "" {
		field("snzq")
		b = appendStr(b, c.Snoozing)
	}
	if !c.LastEventAt.IsZero() {
		field("evat")
		b = appendTime(b, c.LastEventAt)
	}
	if c.ArchiveSeq != 0 {
		field("aseq")
		b = strconv.AppendInt(b, int64(c.ArchiveSeq), 10)
	}
	if len(c.Linked) > 0 {
		field("linked")
		b = append(b, '[')
		for i, a := range c.Linked {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendAddress(b, a)
		}
		b = append(b, ']')
	}
	if c.RemindTo != (bot.Address{}) {
		field("remto")
		b = appendAddress(b, c.RemindTo)
	}
	return append(b, '}')
}

func appendTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

// obj writes an object's fields, leaving out empty ones as omitempty does.
type obj struct {
	b     []byte
	first bool
}

func newObj(b []byte) *obj { return &obj{b: append(b, '{'), first: true} }

func (o *obj) key(name string) {
	if !o.first {
		o.b = append(o.b, ',')
	}
	o.first = false
	o.b = append(o.b, '"')
	o.b = append(o.b, name...)
	o.b = append(o.b, '"', ':')
}

func (o *obj) str(name, v string, omitEmpty bool) {
	if omitEmpty && v == "" {
		return
	}
	o.key(name)
	o.b = appendStr(o.b, v)
}

func (o *obj) int(name string, v int, omitEmpty bool) {
	if omitEmpty && v == 0 {
		return
	}
	o.key(name)
	o.b = strconv.AppendInt(o.b, int64(v), 10)
}

func (o *obj) bool(name string, v bool) {
	if !v {
		return
	}
	o.key(name)
	o.b = append(o.b, "true"...)
}

func (o *obj) time(name string, t time.Time, omitZero bool) {
	if omitZero && t.IsZero() {
		return
	}
	o.key(name)
	o.b = appendTime(o.b, t)
}

func (o *obj) strs(name string, v []string) {
	if len(v) == 0 {
		return
	}
	o.key(name)
	o.b = append(o.b, '[')
	for i, s := range v {
		if i > 0 {
			o.b = append(o.b, ',')
		}
		o.b = appendStr(o.b, s)
	}
	o.b = append(o.b, ']')
}

func (o *obj) end() []byte { return append(o.b, '}') }

func appendAddress(b []byte, a bot.Address) []byte {
	o := newObj(b)
	o.str("p", a.Platform, false)
	o.str("w", a.Workspace, true)
	o.str("c", a.Chat, false)
	o.str("u", a.User, true)
	return o.end()
}

func appendRun(b []byte, r *bot.Run) []byte {
	o := newObj(b)
	o.str("flow", r.Flow, false)
	o.int("version", r.Version, false)
	o.time("started", r.Started, false)
	o.time("done", r.Done, true)
	if len(r.Ratings) > 0 {
		o.key("ratings")
		o.b = appendStrMap(o.b, r.Ratings)
	}
	o.strs("later", r.Later)
	o.strs("nomeasure", r.NoMeasure)
	if len(r.Spread) > 0 {
		o.key("spread")
		o.b = appendSpread(o.b, r.Spread)
	}
	return o.end()
}

// appendSpread writes a team's spread as encoding/json does.
func appendSpread(b []byte, m map[string][]int) []byte {
	return appendMap(b, m, func(b []byte, ns []int) []byte {
		if ns == nil {
			return append(b, "null"...)
		}
		b = append(b, '[')
		for j, n := range ns {
			if j > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(b, int64(n), 10)
		}
		return append(b, ']')
	})
}

// appendStrMap writes m as encoding/json does: its keys sorted.
func appendStrMap(b []byte, m map[string]string) []byte { return appendMap(b, m, appendStr) }

// appendMap writes m as encoding/json does, its keys sorted, each value
// by value.
func appendMap[V any](b []byte, m map[string]V, value func([]byte, V) []byte) []byte {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendStr(b, k)
		b = append(b, ':')
		b = value(b, m[k])
	}
	return append(b, '}')
}

func appendMeasure(b []byte, m *bot.Measure) []byte {
	o := newObj(b)
	o.int("id", m.ID, false)
	o.str("flow", m.Flow, false)
	o.str("cp", m.Checkpoint, false)
	o.str("text", m.Text, false)
	o.str("prio", m.Priority, true)
	o.str("resp", m.Responsible, true)
	o.bool("me", m.Me)
	o.str("ruser", m.ResponsibleUser, true)
	o.str("start", m.Start, true)
	o.str("review", m.Review, true)
	o.str("status", m.Status, false)
	o.time("settled", m.Settled, true)
	return o.end()
}

func appendButtons(o *obj, name string, bs []bot.Button) {
	if len(bs) == 0 {
		return
	}
	o.key(name)
	o.b = append(o.b, '[')
	for i, btn := range bs {
		if i > 0 {
			o.b = append(o.b, ',')
		}
		o.b = append(o.b, `{"l":`...)
		o.b = appendStr(o.b, btn.Label)
		o.b = append(o.b, `,"a":`...)
		o.b = appendStr(o.b, btn.Action)
		o.b = append(o.b, '}')
	}
	o.b = append(o.b, ']')
}

// appendDialog mirrors Dialog.MarshalJSON: buttons in full in the idle
// menu, by action only ("acts", last) otherwise.
func appendDialog(b []byte, d *bot.Dialog) []byte {
	o := newObj(b)
	o.str("mode", d.Mode, true)
	o.int("seq", d.Seq, true)
	o.int("cursor", d.Cursor, true)
	if d.Mode == "" {
		appendButtons(o, "opts", d.Options)
	}
	if d.Draft != nil {
		o.key("draft")
		o.b = appendMeasure(o.b, d.Draft)
	}
	o.strs("queue", d.Queue)
	o.str("prev", d.Prev, true)
	o.str("ret", d.Return, true)
	o.str("op", d.Op, true)
	o.int("target", d.Target, true)
	o.str("resume", d.Resume, true)
	o.str("ref", d.Ref, true)
	if d.Mode != "" && len(d.Options) > 0 {
		o.key("acts")
		o.b = append(o.b, '[')
		for i, btn := range d.Options {
			if i > 0 {
				o.b = append(o.b, ',')
			}
			o.b = appendStr(o.b, btn.Action)
		}
		o.b = append(o.b, ']')
	}
	return o.end()
}

func appendReminder(b []byte, r *bot.Reminder) []byte {
	o := newObj(b)
	o.str("id", r.ID, false)
	o.int("m", r.Measure, true)
	o.str("k", r.Kind, false)
	o.str("for", r.For, false)
	o.str("day", r.Day, false)
	o.int("h", r.Hour, false)
	o.str("tz", r.Zone, false)
	o.time("due", r.Due, false)
	o.str("st", r.Status, true)
	o.time("at", r.At, true)
	o.str("ref", r.Ref, true)
	o.bool("pp", r.Postponed)
	o.bool("chore", r.Chore)
	return o.end()
}

const hexDigits = "0123456789abcdef"

// appendStr quotes s as encoding/json does, HTML-safe escaping included.
func appendStr(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '\\', '"':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
