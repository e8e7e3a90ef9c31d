package mattermost

import (
	"context"
	"html"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
	"github.com/ampel-bot/ampel/locales"
)

// view is how Mattermost's web and desktop client shows a post: the text
// a reader sees, and the syntax that took effect (formatting, links,
// mentions, emoji), which a bot's literal text must not have.
type view struct {
	text   string
	active []string
}

// clientView models the client's rendering of a post's message, after its
// sources (github.com/mattermost/marked, lib/marked.js; the webapp's
// utils/markdown/index.ts, utils/text_formatting.tsx, utils/emoticons.tsx),
// with the options the webapp passes (GFM, tables, sanitize, inline LaTeX
// where enabled):
//
//   - Before the rules, tabs become four spaces and no-break spaces spaces.
//   - Block rules, line by line: headings ("# "), quotes (">"), lists ("-",
//     "*", "+" or "1." and a space), rules ("---", "***", "___"), heading
//     underlines ("==", "--" under a line), fences ("```", "~~~"), indented
//     code (four spaces after a blank line), tables (a row of "|" over a
//     "---|---" line), link definitions ("[x]: url").
//   - Inline: a backslash is resolved only before one of "`*{}[]()#+-.!_>|~"
//     and before a backslash that no letter, digit or "_" follows;
//     everywhere else it shows. Character references ("&amp;", "&#36;")
//     show as their character. A web address marked links shows as it is
//     written, backslashes and all. Code spans, emphasis, links, strike-
//     through, tags and autolinks, inline LaTeX take effect (this model is
//     stricter than marked here: any unescaped "*", "_", "`", "[", "~~",
//     "$…$" or "<" before a non-space counts).
//   - On the rendered text: @mentions, #hashtags of three letters or more,
//     ~channel links, :emoji: and text smileys (":)", ";)", ":D", "<3" …; a
//     smiley after a backslash shows without the backslash and no emoji).
//
// Zero width spaces are invisible and left out of the text.
func clientView(msg string) view {
	var v view
	msg = strings.NewReplacer("\r\n", "\n", "\r", "\n", "\t", "    ", "\u00a0", " ").Replace(msg)
	v.blocks(strings.Split(msg, "\n"))
	out := v.inline([]rune(msg))
	out = v.formatText(out)
	v.text = strings.ReplaceAll(out, "\u200b", "")
	return v
}

var blockRules = []struct {
	name string
	re   *regexp.Regexp
}{
	{"heading", regexp.MustCompile(`^ *#{1,6} +\S`)},
	{"quote", regexp.MustCompile(`^ *>`)},
	{"list", regexp.MustCompile(`^ *([*+-]|\d+\.) +\S`)},
	{"rule", regexp.MustCompile(`^( *[-*_]){3,} *$`)},
	{"fence", regexp.MustCompile("^ {0,3}(```|~~~)")},
	{"link definition", regexp.MustCompile(`^ *\[[^\]]+\]: *\S`)},
}

var (
	underline = regexp.MustCompile(`^ *(=|-){2,} *$`)
	tableRow  = regexp.MustCompile(`^ *\|.+`)
	tableRule = regexp.MustCompile(`^ *\|( *[-:]+[-| :]*)$`)
	npRow     = regexp.MustCompile(`^ *\S.*\|`)
	npRule    = regexp.MustCompile(`^ *[-:]+ *\|[-| :]*$`)
)

func (v *view) blocks(lines []string) {
	for i, line := range lines {
		prevBlank := i == 0 || strings.TrimSpace(lines[i-1]) == ""
		next := ""
		if i+1 < len(lines) {
			next = lines[i+1]
		}
		if strings.HasPrefix(line, "    ") && strings.TrimSpace(line) != "" && prevBlank {
			v.active = append(v.active, "code block: "+line)
		}
		for _, r := range blockRules {
			if r.re.MatchString(line) {
				v.active = append(v.active, r.name+": "+line)
			}
		}
		if !prevBlank && underline.MatchString(line) {
			v.active = append(v.active, "heading underline: "+line)
		}
		if tableRow.MatchString(line) && tableRule.MatchString(next) || npRow.MatchString(line) && npRule.MatchString(next) {
			v.active = append(v.active, "table: "+line)
		}
	}
}

var entity = regexp.MustCompile(`^&#?\w+;`)

// inline applies marked's inline rules and returns the text they leave.
func (v *view) inline(rs []rune) string {
	var b strings.Builder
	for i := 0; i < len(rs); i++ {
		r, next := rs[i], at(rs, i+1)
		if end := urlEnd(rs, i); end > i {
			b.WriteString(string(rs[i:end])) // backslashes and all
			i = end - 1
			continue
		}
		switch {
		case r == '\\' && next >= 0 && next != '\\' && strings.ContainsRune(markedEscapable, next):
			b.WriteRune(next)
			i++
			continue
		case r == '\\' && next == '\\' && !isWordChar(at(rs, i+2)):
			b.WriteRune(r)
			i++
			continue
		case r == '&':
			if m := entity.FindString(string(rs[i:min(i+12, len(rs))])); m != "" {
				b.WriteString(html.UnescapeString(m))
				i += len([]rune(m)) - 1
				continue
			}
		case r == '`':
			v.active = append(v.active, "code span")
		case r == '*' || r == '_':
			v.active = append(v.active, "emphasis "+string(r))
		case r == '[':
			v.active = append(v.active, "link")
		case r == '~' && next == '~':
			v.active = append(v.active, "strike-through")
		case r == '<' && next >= 0 && !unicode.IsSpace(next):
			v.active = append(v.active, "tag or autolink")
		case r == '$' && strings.ContainsRune(strings.SplitN(string(rs[i+1:]), "\n", 2)[0], '$'):
			v.active = append(v.active, "LaTeX")
		}
		b.WriteRune(r)
	}
	return b.String()
}

var (
	hashtag = regexp.MustCompile(`(?:^|[^A-Za-z0-9_])(#\p{L}[\p{L}\d\-_.]*[\p{L}\d])`)
	emoji   = regexp.MustCompile(`:[A-Za-z0-9_+-]+:`)
	// The client's emoticonPatterns; a look-ahead of theirs (no second
	// ")" after ":)") is left out, which makes the model stricter.
	smileys = regexp.MustCompile(`(?:^|\B)(\\?:-?\)|\\?;-?\)|\\?:-?]|\\?:-?[\[@]|\\?:-?\(|\\?:[` + "`'’" + `]-?\(|\\?:&#x27;\(|\\?:&#39;\(|\\?:-?/|\\?:-?\||\\?:-?\$)(?:$|\B)` +
		`|(?i)(?:^|\B)(\\?:o|\\?:-o|\\?:-?d|\\?:-?p|\\?:-?s|\\?:-x|\\?</?3)(?:$|\b)`)
	xd = regexp.MustCompile(`(?i)(?:^|\b)\\?x-d(?:$|\b)`)
)

// formatText applies what the client does to rendered text, and returns
// it with escaped smileys resolved.
func (v *view) formatText(s string) string {
	rs := []rune(s)
	for i, r := range rs {
		prev, next := at(rs, i-1), at(rs, i+1)
		switch {
		case r == '@' && (!isWordChar(prev) || prev == '_') && (isWordChar(next) || next == '.' || next == '-'):
			v.active = append(v.active, "mention")
		case r == '~' && !isWordChar(prev) && (isWordChar(next) || next == '.' || next == '-'):
			v.active = append(v.active, "channel link")
		}
	}
	for _, m := range hashtag.FindAllStringSubmatch(s, -1) {
		if len([]rune(m[1])) >= 4 {
			v.active = append(v.active, "hashtag "+m[1])
		}
	}
	for _, loc := range emoji.FindAllStringIndex(s, -1) {
		before, _ := lastRune(s[:loc[0]])
		after, _ := firstRune(s[loc[1]:])
		if !isWordChar(before) && !isWordChar(after) {
			v.active = append(v.active, "emoji "+s[loc[0]:loc[1]])
		}
	}
	resolve := func(m string) string {
		if strings.HasPrefix(m, `\`) {
			return m[1:] // escaped: shown without the backslash, no emoji
		}
		v.active = append(v.active, "smiley "+m)
		return m
	}
	s = smileys.ReplaceAllStringFunc(s, resolve)
	return xd.ReplaceAllStringFunc(s, resolve)
}

func lastRune(s string) (rune, bool) {
	rs := []rune(s)
	if len(rs) == 0 {
		return -1, false
	}
	return rs[len(rs)-1], true
}

func firstRune(s string) (rune, bool) {
	for _, r := range s {
		return r, true
	}
	return -1, false
}

// shown is a post's message as the client shows it.
func shown(msg string) string { return clientView(msg).text }

// hostile is text a user might type that means something to the client.
var hostile = []string{
	"Leitbild *fett* _kursiv_ `code` @channel @all @here @someone #hashtag #1 <b>x</b> <3 </3 & &amp; &lt; &#36; $x$ :smile: :) ;-) :D x-d ~town ~~weg~~ [x](http://e.vil) ![i](http://e.vil/i.png) \\* \\: C:\\Users\\me \\\\ a\\_b",
	"Preis: 5 $ bis 10 $, 50 % · {a} (b) c! d. e+f g-h i|j k>l m=n",
	"mail max@example.org, see https://example.org/a_b*c~d?x=1&y=2#frag (and www.example.org/x_y) or http://e.vil/@all",
	"# Titel\n> Zitat\n- Punkt\n+ Punkt\n* Punkt\n1. Eins\n2) Zwei\n    Code\n\tTab\n\u00a0\u00a0\u00a0\u00a0nbsp\nText\n===\nText\n---\n***\n___\n| a | b |\n|---|---|\nc | d\n--- | ---\n:--|--:\n```go\n~~~\n[ref]: http://e.vil\n<div>html</div>\n#tag\n@all\n:smile:",
	"\\", "\\\\", "a\\", "\\n\\t\\\\n", "`", "``", "<", "< x", "a <= b >= c", "&", "&x", "&x;", "$", "@", "@ all", "#", "# ", ":", "::", ";", "~", "_", "*", "x-d", "X-D x-days",
}

// textsWith renders every text of every language, with fields set to
// user text that means something to the client.
func textsWith(t *testing.T, set *locales.Set, field string) []string {
	t.Helper()
	_, texts := bottest.Content(t)
	var kv []any
	for _, name := range []string{"Title", "Text", "Goal", "Intro", "Level", "Symbol", "Responsible", "Checkpoint", "Priority", "Status", "Start", "Review", "Date", "Zone", "Time", "Command", "ID", "Lang", "Known", "A", "B", "N", "Total", "Rated", "Max", "Len", "Hour", "Years", "Weekday", "Day", "Month", "Year"} {
		kv = append(kv, name, field)
	}
	var out []string
	for _, lang := range set.Langs {
		for id := range set.IDs[lang] {
			out = append(out, texts.N(lang, id, 2, kv...))
		}
	}
	return out
}

// TestEscapeShowsEveryTextAsTyped renders every text of every language,
// its fields filled with hostile user text, and hostile text alone, as
// the web client does (clientView): each shows exactly as written, with
// no backslash that was not in it, and no formatting, link, mention or
// emoji takes effect.
func TestEscapeShowsEveryTextAsTyped(t *testing.T) {
	set, err := locales.Load(locales.Builtin)
	if err != nil {
		t.Fatal(err)
	}
	all := hostile
	for _, h := range append(hostile[:3], "1") {
		all = append(all, textsWith(t, set, h)...)
	}
	for _, s := range all {
		v := clientView(escape(s))
		want := strings.ReplaceAll(s, "\t", "    ")
		want = strings.ReplaceAll(want, "\u00a0", " ")
		if v.text != want {
			t.Errorf("shown as\n%q\nwant\n%q\n(sent %q)", v.text, want, escape(s))
		}
		if len(v.active) > 0 {
			t.Errorf("%q takes effect as %q (sent %q)", s, v.active, escape(s))
		}
	}
}

// recording is the adapter as the engine sees it, recording each
// message's text before sending it.
type recording struct {
	*Adapter
	mu    sync.Mutex
	texts []string
}

func (r *recording) Send(ctx context.Context, to bot.Address, m bot.Message) error {
	r.mu.Lock()
	r.texts = append(r.texts, m.Text)
	r.mu.Unlock()
	return r.Adapter.Send(ctx, to, m)
}

// markdownText is a measure typed by a user: everything in it means
// something to the client.
const markdownText = "Leitbild *fett* _kursiv_ `code` @all @here #Leitbild <b>& :smile: $x$ ~~weg~~ [x](http://e.vil)"

// TestWholeCheckShowsAsWritten walks the whole check and a plan with a
// measure full of Markdown, in German and English, with buttons and with
// typed numbers, and renders every post as the web client does
// (clientView): each shows exactly the text the engine sent (the numbered
// choices or the pressed choice after it), without a backslash, and
// nothing in it takes effect: no formatting, link, mention or emoji.
func TestWholeCheckShowsAsWritten(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode string, sc bottest.Script, e *env) {
		rec := &recording{Adapter: e.a}
		e.engine.Register(rec)
		e.run(nil)
		c := newChatter(t, e, "user"+sc.Lang+strings.Repeat("u", 20), "dm"+sc.Lang+strings.Repeat("d", 22), sc.Lang)
		c.say("/start")
		c.tap(sc.StartCheck)
		c.tap(sc.Check)
		c.tap(sc.Red)
		for range 6 {
			c.tap(sc.Green)
		}
		c.tap(sc.BuildPlan)
		c.say(markdownText)
		c.tap(sc.High)
		c.say("Maria_Schulz @channel")
		c.say(sc.InTwoWeeks)
		c.tap(sc.FourWeeks)
		c.say("/plan")

		posts := e.fake.botPosts(c.channel)
		rec.mu.Lock()
		texts := slices.Clone(rec.texts)
		rec.mu.Unlock()
		if len(posts) != len(texts) || len(posts) < 15 {
			t.Fatalf("%d posts for %d messages", len(posts), len(texts))
		}
		withText := 0
		for i, p := range posts {
			v := clientView(p.Message)
			if !strings.HasPrefix(v.text, texts[i]) {
				t.Errorf("post %d shows\n%q\nwant it to start with\n%q", i, v.text, texts[i])
			}
			if rest := strings.TrimPrefix(v.text, texts[i]); rest != "" && !strings.HasPrefix(rest, "\n\n") {
				t.Errorf("post %d: %q after the text", i, rest)
			}
			if strings.Contains(v.text, `\`) {
				t.Errorf("post %d shows a backslash: %q", i, v.text)
			}
			if len(v.active) > 0 {
				t.Errorf("post %d: %q takes effect in %q", i, v.active, p.Message)
			}
			if strings.Contains(v.text, markdownText) {
				withText++
			}
		}
		if withText < 3 {
			t.Errorf("the measure's text shows literally in %d posts, want its confirmation, question and plan", withText)
		}
	})
}
