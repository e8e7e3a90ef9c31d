package network

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/settings"
)

// The network's questions, stored in Dialog.Mode. Dialog.Ref holds the
// network's ID; Dialog.Op the member whose organisation is being set (see
// ref), Dialog.Target the organisation whose kind is asked.
const (
	ModeIntro   = "net-intro"    // no network yet: create one, or how to join
	ModeName    = "net-name"     // create: the name, typed
	ModeRegion  = "net-region"   // create: the region, typed or skipped
	ModeLang    = "net-lang"     // create: the language of its channels
	ModeZone    = "net-zone"     // create: its time zone
	ModeOrg     = "net-org"      // a member's organisation: pick or add
	ModeOrgName = "net-org-name" // a new organisation's name, typed
	ModeOrgKind = "net-org-kind" // its kind
)

// CodeKind is the kind of the record that finds a network by its join
// code: {"net": id}. A revoked or expired code keeps it, so that its use
// is answered with what happened to the code.
const CodeKind = "netcode"

// codeLife is how long a new join code is valid by default.
const codeLife = 30 * 24 * time.Hour

// warnHour is the hour of the day, in the network's zone, at which
// coordinators are warned about too few meetings, once a month.
const warnHour = 10

// minMeetings and minIntermediaries are the network's rules (seed 003).
const (
	minMeetings       = 2
	minIntermediaries = 3
)

// maxName bounds a typed name (a network's, a region's, an organisation's).
const maxName = 80

// Feature is networks: creating one, joining, linking channels, roles,
// organisations, the rules and the yearly report.
func Feature() bot.Feature {
	return bot.Feature{
		Name: "network",
		Modes: []bot.Mode{
			{Name: ModeIntro, Ask: askIntro, Press: pressIntro, Calm: true, Lull: true},
			{Name: ModeName, Ask: askName, Text: setName, Words: true, Cancel: "network.create.cancelled"},
			{Name: ModeRegion, Ask: askRegion, Press: pressRegion, Text: setRegion, Words: true},
			{Name: ModeLang, Ask: askLang, Press: pressLang},
			{Name: ModeZone, Ask: askZone, Press: pressZone, Text: setZone, Claim: zoneClaim},
			{Name: ModeOrg, Ask: askOrg, Press: pressOrg},
			{Name: ModeOrgName, Ask: askOrgName, Text: setOrgName, Words: true},
			{Name: ModeOrgKind, Ask: askOrgKind, Press: pressOrgKind},
		},
		Commands: []bot.Cmd{
			{Name: "network", Args: true, Main: true, Run: cmdNetwork},
			{Name: "join", Args: true, Main: true, Run: cmdJoin},
			{Name: "link", Args: true, Run: cmdLink},
		},
		Lasting:  map[string]func(*bot.Turn, string){"nw": pressLasting},
		On:       map[string]func(*bot.Turn) bool{bot.StartArg: startLink},
		Personal: Personal(),
		Chores:   map[string]func(*bot.Turn, bot.Reminder) []bot.Outgoing{ChoreRules: rulesDue},
	}
}

// newID makes a network's ID: 8 characters of base32 from 40 random bits.
var newID = func() string { return randomCode(5) }

// newCode makes a join code: 10 characters of base32 from 50 random bits
// (crypto/rand), about 10^15 codes: guessing one of a few live codes at
// the bot's pace is hopeless.
var newCode = func() string { return randomCode(10 * 5 / 8) }

func randomCode(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails
	return strings.ToLower(strings.TrimRight(base32.StdEncoding.EncodeToString(b), "="))
}

// codeRec is the record CodeKind/<code>.
type codeRec struct {
	Net string `json:"net"`
}

// fail ends the step: bot.ErrBusy silently (it runs again), anything else
// as the engine's failure.
func fail(err error) {
	if !errors.Is(err, bot.ErrBusy) {
		panic(err)
	}
}

// load reads the network id; false when there is none or the step runs
// again (whatever it did then is thrown away).
func load(t *bot.Turn, id string) (*Network, bool) {
	if t.Tx() == nil || id == "" {
		return nil, false
	}
	n, err := Get(t.Tx(), id)
	if errors.Is(err, ErrNone) {
		return nil, false
	}
	if err != nil {
		fail(err)
		return nil, false
	}
	return n, true
}

// save stores n with the turn's commit.
func save(t *bot.Turn, n *Network) bool {
	if !checkRules(t, n) {
		return false
	}
	if err := Put(t.Tx(), n); err != nil {
		fail(err)
		return false
	}
	return true
}

// person is the address of the turn's user's private chat as the bot
// writes to it (no Chat): the network's Member.Chat.
func person(t *bot.Turn) bot.Address {
	a := t.Event().Addr
	return bot.Address{Platform: a.Platform, Workspace: a.Workspace, User: a.User}
}

// conv is the conversation of addr in the turn's transaction: the turn's
// own when it is the event's chat.
func conv(t *bot.Turn, addr bot.Address) (*bot.Conversation, bool) {
	if addr.Key() == t.Event().Addr.Key() {
		return t.Conv(), true
	}
	c, err := t.Tx().Conversation(addr)
	if err != nil {
		fail(err)
		return nil, false
	}
	return c, true
}

// ListKey names, in a person's chats' Records, every network they belong
// to (IDs separated by spaces); Records[Kind] is the one they work in
// now, which /network shows and a meeting is announced in.
const ListKey = "networks"

// ids are the networks a chat knows its person in, the current first.
func ids(c *bot.Conversation) []string {
	list := strings.Fields(c.Records[ListKey])
	if id := c.Records[Kind]; id != "" {
		list = append([]string{id}, bot.Remove(list, id)...)
	}
	return list
}

// enter makes the person's chats at addrs know network id, as the one
// they work in now.
func enter(t *bot.Turn, id string, addrs ...bot.Address) bool {
	return eachConv(t, addrs, func(c *bot.Conversation) {
		if c.Records == nil {
			c.Records = map[string]string{}
		}
		c.Records[ListKey] = strings.Join(append(bot.Remove(ids(c), id), id), " ")
		c.Records[Kind] = id
	})
}

// quit makes the person's chats at addrs forget network id; the one they
// work in becomes another of theirs, if any.
func quit(t *bot.Turn, id string, addrs ...bot.Address) bool {
	return eachConv(t, addrs, func(c *bot.Conversation) {
		list := bot.Remove(ids(c), id)
		if len(list) == 0 {
			delete(c.Records, Kind)
			delete(c.Records, ListKey)
			return
		}
		c.Records[ListKey] = strings.Join(list, " ")
		c.Records[Kind] = list[0]
	})
}

// eachConv changes the conversations of addrs (those that name a chat).
func eachConv(t *bot.Turn, addrs []bot.Address, change func(c *bot.Conversation)) bool {
	for _, a := range addrs {
		if a.User == "" && a.Chat == "" {
			continue
		}
		c, ok := conv(t, a)
		if !ok {
			return false
		}
		change(c)
	}
	return true
}

// theirs are the networks the turn's user belongs to, as their chats
// know them, the current first.
func theirs(t *bot.Turn) []string {
	var list []string
	if !t.Event().Group {
		list = ids(t.Conv())
	}
	if t.Event().Addr.User != "" {
		if c, ok := conv(t, person(t)); ok {
			for _, id := range ids(c) {
				if !slices.Contains(list, id) {
					list = append(list, id)
				}
			}
		}
	}
	return list
}

// setRecord makes the chats at addrs know the network id ("" forgets it):
// a linked channel's one network.
func setRecord(t *bot.Turn, id string, addrs ...bot.Address) bool {
	return eachConv(t, addrs, func(c *bot.Conversation) {
		if id == "" {
			delete(c.Records, Kind)
			return
		}
		if c.Records == nil {
			c.Records = map[string]string{}
		}
		c.Records[Kind] = id
	})
}

// Of returns the ID of the network the turn's user belongs to, as their
// chats know it: the private chat of the event, else the chat the bot
// writes to them in. "" when none (or the step runs again).
func Of(t *bot.Turn) string {
	if !t.Event().Group {
		if id := t.Conv().Records[Kind]; id != "" {
			return id
		}
	}
	if t.Event().Addr.User == "" {
		return ""
	}
	c, ok := conv(t, person(t))
	if !ok {
		return ""
	}
	return c.Records[Kind]
}

// mine is the turn's user's network and their place in it.
func mine(t *bot.Turn) (*Network, *Member, bool) {
	n, ok := load(t, Of(t))
	if !ok {
		return nil, nil, false
	}
	m := n.Member(t.Event().Addr)
	return n, m, m != nil
}

// Coordinators counts the network's coordinators.
func (n *Network) Coordinators() int {
	c := 0
	for _, m := range n.Members {
		if m.Role == Coordinator {
			c++
		}
	}
	return c
}

// Org returns the organisation id, or nil.
func (n *Network) Org(id string) *Org {
	for i := range n.Orgs {
		if n.Orgs[i].ID == id && id != "" {
			return &n.Orgs[i]
		}
	}
	return nil
}

// ActiveCode is the newest join code neither revoked nor expired at now.
func (n *Network) ActiveCode(now time.Time) *JoinCode {
	for i := len(n.Codes) - 1; i >= 0; i-- {
		c := &n.Codes[i]
		if !c.Revoked && (c.Expires.IsZero() || now.Before(c.Expires)) {
			return c
		}
	}
	return nil
}

// ref names member i in a button: its place and a short hash of its chat,
// so that a button pressed after the list changed names nobody else.
func (n *Network) ref(i int) string {
	return strconv.Itoa(i) + "." + hashOf(n.Members[i].Chat.Key())
}

// byRef is the member a ref names, or -1.
func (n *Network) byRef(ref string) int {
	s, _, _ := strings.Cut(ref, ".")
	i, ok := bot.Index(s, len(n.Members))
	if !ok || n.ref(i) != ref {
		return -1
	}
	return i
}

// name is how the turn's user is named: as the platform names them, else
// as member number place.
func name(t *bot.Turn, place int) string {
	if s := bot.CleanInput(t.Event().UserName); s != "" && bot.RuneLen(s) <= maxName {
		return s
	}
	return t.T("network.member.n", "N", place+1)
}

// act is a lasting button's action on network n.
func act(n *Network, verb string, args ...string) string {
	return strings.Join(append([]string{"nw", n.ID, verb}, args...), ":")
}

// ---- /network ----

// argWords are /network's words after it, each also as the locales'
// network.arg.<word>.
var argWords = []string{"report", "rules", "leave", "unlink", "new"}

func argWord(t *bot.Turn, arg string) string {
	arg = strings.ToLower(arg)
	for _, w := range argWords {
		if arg == w || arg == strings.ToLower(t.T("network.arg."+w)) {
			return w
		}
	}
	return ""
}

// cmdNetwork is /network [report [year] | rules | leave | unlink | new].
func cmdNetwork(t *bot.Turn, args []string) {
	word := ""
	if len(args) > 0 {
		word = argWord(t, args[0])
	}
	if t.Event().Group {
		groupNetwork(t, word)
		return
	}
	n, me, ok := mine(t)
	if !ok {
		if word == "new" {
			startCreate(t)
			return
		}
		t.To(ModeIntro)
		t.Ask()
		return
	}
	switch word {
	case "report":
		year := n.localNow(t).Year()
		if len(args) > 1 {
			y, err := strconv.Atoi(args[1])
			if err != nil || y < 2000 || y > 2100 {
				t.Note(t.T("network.report.year", "Year", bot.Short(args[1], 10)))
				return
			}
			year = y
		}
		report(t, n, me, year)
	case "rules":
		t.Say(rules(t, n))
	case "leave":
		askLeave(t, n)
	case "new":
		startCreate(t)
	default:
		show(t, n, me)
	}
}

// groupNetwork is /network in a group: the linked network in counts (the
// group is no place for names), or how to link one.
func groupNetwork(t *bot.Turn, word string) {
	n, ok := load(t, t.Conv().Records[Kind])
	if !ok {
		t.Note(t.T("network.group.none"))
		return
	}
	if word == "unlink" {
		if m := n.Member(t.Event().Addr); m == nil || m.Role != Coordinator {
			t.Note(t.T("network.coordinators.only"))
			return
		}
		unlink(t, n, slices.IndexFunc(n.Channels, func(c Channel) bool { return c.Chat.Key() == t.Event().Addr.Key() }))
		return
	}
	t.Say(bot.Message{Text: strings.Join(summary(t, n, false), "\n")})
}

// show sends the network's page to the member me, privately.
func show(t *bot.Turn, n *Network, me *Member) {
	if me.Role == Coordinator && !me.Checked && !save(t, n) { // a network from before the monthly check
		return
	}
	m := page(t, n, me)
	for _, id := range theirs(t) {
		if o, ok := load(t, id); ok && id != n.ID && o.Member(t.Event().Addr) != nil {
			m.Buttons = append(m.Buttons, []bot.Button{{Label: t.T("button.network.switch", "Name", o.Name), Action: act(o, "use")}})
		}
	}
	t.Say(m)
}

// summary is what everyone sees of the network: its name and region,
// its members by role (names only to leads), organisations, linked
// channels and the upcoming meetings.
func summary(t *bot.Turn, n *Network, names bool) []string {
	lines := []string{t.T("network.title", "Name", n.Name)}
	if n.Region != "" {
		lines[0] = t.T("network.title.region", "Name", n.Name, "Region", n.Region)
	}
	for _, role := range []string{Coordinator, Moderator, Plain} {
		var who []string
		for _, m := range n.Members {
			if m.Role == role {
				w := m.Name
				if o := n.Org(m.Org); o != nil {
					w += " (" + o.Name + ")"
				}
				who = append(who, w)
			}
		}
		if names && len(who) > 0 {
			lines = append(lines, t.T("network.role."+role+".names", "Count", len(who), "Names", strings.Join(who, ", ")))
		} else {
			lines = append(lines, t.T("network.role."+role+".count", "Count", len(who)))
		}
	}
	lines = append(lines, t.T("network.orgs", "Count", len(n.Orgs), "Intermediary", n.orgsOf(Intermediary)))
	if len(n.Channels) > 0 {
		var ch []string
		for _, c := range n.Channels {
			ch = append(ch, channelName(t, c))
		}
		lines = append(lines, t.T("network.channels", "Count", len(n.Channels), "Names", strings.Join(ch, ", ")))
	}
	up := n.upcoming(t.Now())
	if len(up) == 0 {
		lines = append(lines, t.T("network.meetings.none"))
	} else {
		var when []string
		for _, m := range up {
			when = append(when, n.when(t, m.Start))
		}
		lines = append(lines, t.T("network.meetings", "List", strings.Join(when, "; ")))
	}
	return lines
}

// channelName names a linked channel: its name, else its platform's kind
// of group.
func channelName(t *bot.Turn, c Channel) string {
	if c.Name != "" {
		return c.Name
	}
	return t.T("network.channel.kind", "Platform", platformName(c.Chat.Platform))
}

func platformName(p string) string {
	switch p {
	case "telegram":
		return "Telegram"
	case "slack":
		return "Slack"
	case "mattermost":
		return "Mattermost"
	}
	return p
}

// orgsOf counts the organisations of kind.
func (n *Network) orgsOf(kind string) int {
	c := 0
	for _, o := range n.Orgs {
		if o.Kind == kind {
			c++
		}
	}
	return c
}

// upcoming are the meetings not cancelled that start after now, at most
// five, soonest first.
func (n *Network) upcoming(now time.Time) []MeetingRef {
	var up []MeetingRef
	for _, m := range n.Meetings {
		if !m.Cancelled && m.Start.After(now) {
			up = append(up, m)
		}
	}
	slices.SortFunc(up, func(a, b MeetingRef) int { return a.Start.Compare(b.Start) })
	return up[:min(len(up), 5)]
}

// zone is the network's time zone.
func (n *Network) zone(t *bot.Turn) *time.Location {
	if loc, err := time.LoadLocation(n.Zone); err == nil && n.Zone != "" {
		return loc
	}
	return t.Zone()
}

// localNow is the time now in the network's zone.
func (n *Network) localNow(t *bot.Turn) time.Time { return t.Now().In(n.zone(t)) }

// when writes a moment in the network's time zone: "Mi, 14.04.2027 18:00".
func (n *Network) when(t *bot.Turn, at time.Time) string {
	l := at.In(n.zone(t))
	return t.Date(l) + " " + bot.TwoDigits(l.Hour()) + ":" + bot.TwoDigits(l.Minute())
}

// page is the network as member me sees it privately, with what they may
// do as buttons.
func page(t *bot.Turn, n *Network, me *Member) bot.Message {
	lead := me.Role == Coordinator || me.Role == Moderator
	lines := summary(t, n, lead)
	role := t.T("network.you", "Role", t.T("network.role."+me.Role))
	if o := n.Org(me.Org); o != nil {
		role = t.T("network.you.org", "Role", t.T("network.role."+me.Role), "Org", o.Name)
	}
	lines = append(lines, "", role)
	var rows [][]bot.Button
	if me.Role == Coordinator {
		rows = append(rows, []bot.Button{{Label: t.T("button.network.members"), Action: act(n, "members")}, {Label: t.T("button.network.code"), Action: act(n, "code")}})
		if len(n.Channels) > 0 {
			rows = append(rows, []bot.Button{{Label: t.T("button.network.channels"), Action: act(n, "channels")}})
		}
	}
	if lead {
		rows = append(rows, []bot.Button{{Label: t.T("button.network.rules"), Action: act(n, "rules")}, {Label: t.T("button.network.report"), Action: act(n, "report")}})
	}
	rows = append(rows, []bot.Button{{Label: t.T("button.network.org"), Action: act(n, "org")}, {Label: t.T("button.network.leave"), Action: act(n, "leave")}})
	return bot.Message{Text: strings.Join(lines, "\n"), Buttons: rows}
}

// askIntro: no network yet.
func askIntro(t *bot.Turn) (bot.Message, bool) {
	return bot.Message{Text: t.T("network.intro"), Buttons: [][]bot.Button{{{Label: t.T("button.network.create"), Action: t.Action("create")}}}}, true
}

func pressIntro(t *bot.Turn, verb, _ string) {
	if verb == "create" {
		startCreate(t)
		return
	}
	t.Reask()
}

// ---- creating ----

func startCreate(t *bot.Turn) {
	if t.Event().Group {
		t.Note(t.T("network.create.private"))
		return
	}
	t.To(ModeName)
	t.Ask()
}

func askName(t *bot.Turn) (bot.Message, bool) {
	return bot.Message{Text: t.T("network.ask.name")}, true
}

// typed cleans a typed name; false (and the question again) when it is
// too long.
func typed(t *bot.Turn, text string) (string, bool) {
	s := bot.CleanInput(text)
	if bot.RuneLen(s) > maxName {
		t.Note(t.T("hint.toolong", "Len", bot.RuneLen(s), "Max", maxName))
		t.Ask()
		return "", false
	}
	return s, true
}

// setName creates the network with its name: the creator is its
// coordinator, its language and time zone theirs until they pick others,
// and it has a join code at once.
func setName(t *bot.Turn, text string) {
	s, ok := typed(t, text)
	if !ok {
		return
	}
	id, ok := freeID(t, Kind, newID)
	if !ok {
		return
	}
	ev := t.Event()
	now := t.Now().UTC()
	n := &Network{ID: id, Name: s, Lang: t.Lang(), Zone: t.Zone().String(), Created: now,
		Members: []Member{{Person: bot.Person{ID: ev.Addr.User, Name: name(t, 0)}, Chat: person(t), DM: ev.Addr, Role: Coordinator, Lang: t.Lang(), Joined: now}}}
	if !addCode(t, n, now.Add(codeLife)) || !save(t, n) || !enter(t, id, t.Event().Addr, person(t)) {
		return
	}
	t.Dialog().Ref = id
	t.To(ModeRegion)
	t.Ask()
}

// freeID draws IDs with draw until one is not a record of kind.
func freeID(t *bot.Turn, kind string, draw func() string) (string, bool) {
	for {
		id := draw()
		var any struct{}
		taken, err := t.Tx().Get(kind, id, &any)
		if err != nil {
			fail(err)
			return "", false
		}
		if !taken {
			return id, true
		}
	}
}

// addCode gives n a new join code (valid until exp; zero: no expiry) and
// revokes the ones it had: one code is live at a time.
func addCode(t *bot.Turn, n *Network, exp time.Time) bool {
	code, ok := freeID(t, CodeKind, newCode)
	if !ok {
		return false
	}
	for i := range n.Codes {
		n.Codes[i].Revoked = true
	}
	n.Codes = append(n.Codes, JoinCode{Code: code, Expires: exp})
	if err := t.Tx().Put(CodeKind, code, codeRec{Net: n.ID}); err != nil {
		fail(err)
		return false
	}
	return true
}

// creating is the network being created, or false (the menu is shown).
func creating(t *bot.Turn) (*Network, bool) {
	n, ok := load(t, t.Dialog().Ref)
	if !ok || n.Member(t.Event().Addr) == nil {
		return nil, false
	}
	return n, true
}

func askRegion(t *bot.Turn) (bot.Message, bool) {
	n, ok := creating(t)
	if !ok {
		return bot.Message{}, false
	}
	return bot.Message{Text: t.T("network.ask.region", "Name", n.Name), Buttons: [][]bot.Button{{{Label: t.T("button.network.skip"), Action: t.Action("skip")}}}}, true
}

func pressRegion(t *bot.Turn, verb, _ string) {
	if verb == "skip" {
		t.To(ModeLang)
		t.Ask()
		return
	}
	t.Reask()
}

func setRegion(t *bot.Turn, text string) {
	if s, ok := typed(t, text); ok {
		step(t, func(n *Network) { n.Region = s }, ModeLang)
	}
}

// step changes the network being created and asks next, or, without a
// next question, ends the dialogue.
func step(t *bot.Turn, change func(n *Network), next string) {
	n, ok := creating(t)
	if !ok {
		t.To(bot.ModeIdle)
		t.Reask()
		return
	}
	change(n)
	if !save(t, n) {
		return
	}
	if next == "" {
		created(t, n)
		return
	}
	t.To(next)
	t.Ask()
}

func askLang(t *bot.Turn) (bot.Message, bool) {
	return bot.Message{Text: t.T("network.ask.lang"), Buttons: settings.LanguageRows(t)}, true
}

func pressLang(t *bot.Turn, verb, arg string) {
	if verb != "l" || !slices.Contains(t.Texts().Langs(), arg) {
		t.Reask()
		return
	}
	step(t, func(n *Network) { n.Lang = arg }, ModeZone)
}

func askZone(t *bot.Turn) (bot.Message, bool) {
	n, ok := creating(t)
	if !ok {
		return bot.Message{}, false
	}
	return bot.Message{Text: t.T("network.ask.zone", "Zone", bot.ZoneLabel(n.zone(t))),
		Buttons: [][]bot.Button{{{Label: t.T("button.network.keep", "Zone", bot.ZoneLabel(n.zone(t))), Action: t.Action("keep")}}}}, true
}

// zoneClaim: typed text that names a zone answers the question.
func zoneClaim(t *bot.Turn, text string) bool {
	_, ok := t.FindZone(text)
	return ok && strings.TrimLeft(text, "0123456789") != ""
}

func pressZone(t *bot.Turn, verb, _ string) {
	if verb != "keep" {
		t.Reask()
		return
	}
	step(t, func(*Network) {}, "")
}

func setZone(t *bot.Turn, text string) {
	loc, ok := t.FindZone(text)
	if !ok {
		t.Note(t.T("timezone.unknown", "Text", bot.Short(text, 40)))
		t.Ask()
		return
	}
	step(t, func(n *Network) { n.Zone = loc.String() }, "")
}

// created ends the dialogue: the network's page, and how others join.
func created(t *bot.Turn, n *Network) {
	t.Dialog().Ref = ""
	t.To(bot.ModeIdle)
	t.Note(t.T("network.created", "Name", n.Name))
	t.Note(codeText(t, n))
	t.Say(page(t, n, n.Member(t.Event().Addr)))
}

// codeText says the network's live join code and how to use it: the
// command, and where the platform has them, the link.
func codeText(t *bot.Turn, n *Network) string {
	c := n.ActiveCode(t.Now())
	if c == nil {
		return t.T("network.code.none")
	}
	s := t.T("network.code", "Code", c.Code)
	if !c.Expires.IsZero() {
		s = t.T("network.code.until", "Code", c.Code, "Date", t.Date(c.Expires.In(n.zone(t))))
	}
	if link, ok := t.StartLink("join_" + c.Code); ok {
		s += "\n" + t.T("network.code.link", "Link", link)
	}
	return s
}

// ---- joining ----

// cmdJoin is /join CODE.
func cmdJoin(t *bot.Turn, args []string) {
	if t.Event().Group {
		t.Note(t.T("network.join.private"))
		return
	}
	if len(args) == 0 {
		t.Note(t.T("network.join.how"))
		return
	}
	join(t, args[0])
}

// startLink is /start join_<code> (a Telegram deep link).
func startLink(t *bot.Turn) bool {
	f := strings.Fields(t.Event().Text)
	if len(f) != 2 || !strings.HasPrefix(f[1], "join_") || t.Event().Group {
		return false
	}
	join(t, strings.TrimPrefix(f[1], "join_"))
	return true
}

// join makes the turn's user a member of the network whose code is code.
func join(t *bot.Turn, code string) {
	code = strings.ToLower(strings.TrimSpace(code))
	var rec codeRec
	found := false
	if len(code) <= 64 && code != "" {
		var err error
		if found, err = t.Tx().Get(CodeKind, code, &rec); err != nil {
			fail(err)
			return
		}
	}
	n, ok := load(t, rec.Net)
	if !found || !ok {
		t.Note(t.T("network.join.unknown"))
		return
	}
	i := slices.IndexFunc(n.Codes, func(c JoinCode) bool { return c.Code == code })
	switch {
	case i < 0:
		t.Note(t.T("network.join.unknown"))
		return
	case n.Codes[i].Revoked:
		t.Note(t.T("network.join.revoked", "Name", n.Name))
		return
	case !n.Codes[i].Expires.IsZero() && !t.Now().Before(n.Codes[i].Expires):
		t.Note(t.T("network.join.expired", "Name", n.Name, "Date", t.Date(n.Codes[i].Expires.In(n.zone(t)))))
		return
	}
	ev := t.Event()
	if ev.Addr.User == "" {
		t.Note(t.T("network.join.nouser"))
		return
	}
	if n.Member(ev.Addr) != nil {
		t.Note(t.T("network.join.again", "Name", n.Name))
		t.Say(page(t, n, n.Member(ev.Addr)))
		return
	}
	now := t.Now().UTC()
	n.Members = append(n.Members, Member{Person: bot.Person{ID: ev.Addr.User, Name: name(t, len(n.Members))},
		Chat: person(t), DM: ev.Addr, Role: Plain, Lang: t.Lang(), Joined: now})
	if !save(t, n) || !enter(t, n.ID, ev.Addr, person(t)) {
		return
	}
	t.Note(t.T("network.joined", "Name", n.Name))
	t.Say(page(t, n, &n.Members[len(n.Members)-1]))
}

// ---- linking channels ----

// cmdLink is /link in a group: a coordinator or moderator links it to
// their network; one who leads several is asked which.
func cmdLink(t *bot.Turn, _ []string) {
	if t.Fire(bot.PersonLink) { // linking a person's chats (bot/link)
		return
	}
	if !t.Event().Group {
		t.Note(t.T("network.link.group"))
		return
	}
	var leads []*Network
	all := theirs(t)
	for _, id := range all {
		if n, ok := load(t, id); ok && n.Leads(t.Event().Addr) {
			leads = append(leads, n)
		}
	}
	switch {
	case len(leads) == 0 && len(all) > 0:
		t.Note(t.T("network.leads.only"))
	case len(leads) == 0:
		t.Note(t.T("network.link.none"))
	case len(leads) == 1:
		link(t, leads[0])
	default:
		var rows [][]bot.Button
		for _, n := range leads {
			rows = append(rows, []bot.Button{{Label: n.Name, Action: act(n, "link")}})
		}
		t.Say(bot.Message{Text: t.T("network.link.which"), Buttons: rows})
	}
}

// link links the turn's group to n (its user leads n).
func link(t *bot.Turn, n *Network) {
	c := t.Conv()
	if id := c.Records[Kind]; id != "" {
		if id == n.ID {
			t.Note(t.T("network.link.again", "Name", n.Name))
			return
		}
		if _, ok := load(t, id); ok {
			t.Note(t.T("network.link.other"))
			return
		}
	}
	a := t.Event().Addr
	n.Channels = append(n.Channels, Channel{Chat: bot.Address{Platform: a.Platform, Workspace: a.Workspace, Chat: a.Chat}, By: a.User, At: t.Now().UTC()})
	if !save(t, n) || !setRecord(t, n.ID, a) {
		return
	}
	t.Note(t.T("network.linked", "Name", n.Name))
}

// unlink takes linked channel i off the network (a coordinator).
func unlink(t *bot.Turn, n *Network, i int) {
	if i < 0 || i >= len(n.Channels) {
		t.Note(t.T("network.unlink.none"))
		return
	}
	ch := n.Channels[i]
	n.Channels = slices.Delete(n.Channels, i, i+1)
	if !save(t, n) || !setRecord(t, "", ch.Chat) {
		return
	}
	t.Note(t.T("network.unlinked", "Name", n.Name, "Channel", channelName(t, ch)))
}

// ---- the buttons ----

// pressLasting handles "nw:<id>:<verb>[:<args>]": every press is checked
// against the network as it is now (who presses, in which role).
func pressLasting(t *bot.Turn, action string) {
	p := strings.Split(action, ":")
	if len(p) < 3 || t.Event().Group && p[2] != "link" {
		t.Reask()
		return
	}
	n, ok := load(t, p[1])
	me := (*Member)(nil)
	if ok {
		me = n.Member(t.Event().Addr)
	}
	if me == nil {
		t.Note(t.T("network.notmember"))
		return
	}
	arg := func(i int) string {
		if i < len(p) {
			return p[i]
		}
		return ""
	}
	coord := me.Role == Coordinator
	lead := coord || me.Role == Moderator
	verb := p[2]
	switch {
	case coordOnly[verb] && !coord:
		t.Note(t.T("network.coordinators.only"))
		return
	case (verb == "rules" || verb == "report") && !lead:
		t.Note(t.T("network.leads.only"))
		return
	}
	switch {
	case verb == "link" && t.Event().Group:
		if !lead {
			t.Note(t.T("network.leads.only"))
			return
		}
		link(t, n)
	case verb == "use":
		if enter(t, n.ID, t.Event().Addr, person(t)) {
			show(t, n, me)
		}
	case verb == "org":
		pickOrg(t, n, n.ref(slices.IndexFunc(n.Members, func(m Member) bool { return m.Chat == me.Chat })))
	case verb == "leave":
		if arg(3) == "yes" {
			leave(t, n, me)
			return
		}
		askLeave(t, n)
	case verb == "rules":
		t.Say(rules(t, n))
	case verb == "report":
		report(t, n, me, n.localNow(t).Year())
	case verb == "members":
		members(t, n)
	case verb == "m":
		if i := n.byRef(arg(3)); i >= 0 {
			card(t, n, i)
			return
		}
		t.Note(t.T("network.member.gone"))
	case verb == "r":
		if i := n.byRef(arg(3)); i >= 0 {
			setRole(t, n, i, arg(4))
			return
		}
		t.Note(t.T("network.member.gone"))
	case verb == "rm":
		if i := n.byRef(arg(3)); i >= 0 {
			remove(t, n, i)
			return
		}
		t.Note(t.T("network.member.gone"))
	case verb == "o":
		if i := n.byRef(arg(3)); i >= 0 {
			pickOrg(t, n, arg(3))
			return
		}
		t.Note(t.T("network.member.gone"))
	case verb == "code":
		codePage(t, n)
	case verb == "new":
		days, err := strconv.Atoi(arg(3))
		if err != nil || days < 0 || days > 366 {
			t.Reask()
			return
		}
		exp := time.Time{}
		if days > 0 {
			exp = t.Now().UTC().Add(time.Duration(days) * 24 * time.Hour)
		}
		if addCode(t, n, exp) && save(t, n) {
			t.Note(t.T("network.code.renewed"))
			codePage(t, n)
		}
	case verb == "revoke":
		c := n.ActiveCode(t.Now())
		if c == nil {
			t.Note(t.T("network.code.none"))
			return
		}
		c.Revoked = true
		if save(t, n) {
			t.Note(t.T("network.code.revoked", "Code", c.Code))
			codePage(t, n)
		}
	case verb == "channels":
		channels(t, n)
	case verb == "ul":
		i, ok := bot.Index(arg(3), len(n.Channels))
		if !ok || hashOf(n.Channels[i].Chat.Key()) != arg(4) {
			t.Note(t.T("network.unlink.none"))
			return
		}
		unlink(t, n, i)
	default:
		t.Reask()
	}
}

// coordOnly are the buttons only a coordinator may press.
var coordOnly = map[string]bool{"members": true, "m": true, "r": true, "rm": true, "o": true, "code": true, "new": true, "revoke": true, "channels": true, "ul": true}

func hashOf(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:3])
}

// members lists the members by role, each a button to their card (a
// coordinator).
func members(t *bot.Turn, n *Network) {
	var rows [][]bot.Button
	for i, m := range n.Members {
		rows = append(rows, []bot.Button{{Label: m.Name + " · " + t.T("network.role."+m.Role), Action: act(n, "m", n.ref(i))}})
	}
	t.Say(bot.Message{Text: t.T("network.members.ask"), Buttons: rows})
}

// card is member i, with the changes a coordinator can make.
func card(t *bot.Turn, n *Network, i int) {
	m := n.Members[i]
	text := t.T("network.card", "Name", m.Name, "Role", t.T("network.role."+m.Role), "Platform", platformName(m.Chat.Platform))
	if o := n.Org(m.Org); o != nil {
		text += "\n" + t.T("network.card.org", "Org", o.Name, "Kind", t.T("network.kind."+o.Kind))
	}
	var roles []bot.Button
	for _, r := range []string{Coordinator, Moderator, Plain} {
		if r != m.Role {
			roles = append(roles, bot.Button{Label: t.T("button.network.make." + r), Action: act(n, "r", n.ref(i), r)})
		}
	}
	t.Say(bot.Message{Text: text, Buttons: [][]bot.Button{roles,
		{{Label: t.T("button.network.org"), Action: act(n, "o", n.ref(i))}, {Label: t.T("button.network.remove"), Action: act(n, "rm", n.ref(i))}}}})
}

// lastCoordinator reports whether member i is the network's only
// coordinator, and says so.
func lastCoordinator(t *bot.Turn, n *Network, i int) bool {
	if n.Members[i].Role != Coordinator || n.Coordinators() > 1 {
		return false
	}
	t.Note(t.T("network.last.coordinator", "Name", n.Members[i].Name))
	return true
}

// setRole gives member i the role (a coordinator's change). The last
// coordinator keeps the role until another is named.
func setRole(t *bot.Turn, n *Network, i int, role string) {
	if role != Coordinator && role != Moderator && role != Plain {
		t.Reask()
		return
	}
	m := &n.Members[i]
	if m.Role == role {
		card(t, n, i)
		return
	}
	if lastCoordinator(t, n, i) {
		return
	}
	m.Role = role
	if !save(t, n) {
		return
	}
	t.Note(t.T("network.role.set", "Name", m.Name, "Role", t.T("network.role."+role)))
	if m.Chat != person(t) {
		p := t.Elsewhere(&bot.Conversation{Addr: m.Chat, Lang: m.Lang})
		p.Say(bot.Message{Text: p.T("network.role.yours", "Name", n.Name, "Role", p.T("network.role."+role))})
	}
	members(t, n)
}

// remove takes member i out of the network (a coordinator; not the last
// coordinator, nor themselves: they leave).
func remove(t *bot.Turn, n *Network, i int) {
	m := n.Members[i]
	if m.Chat == person(t) {
		askLeave(t, n)
		return
	}
	if lastCoordinator(t, n, i) {
		return
	}
	n.Members = slices.Delete(n.Members, i, i+1)
	if !save(t, n) || !quit(t, n.ID, m.Chat, m.DM) {
		return
	}
	p := t.Elsewhere(&bot.Conversation{Addr: m.Chat, Lang: m.Lang})
	p.Say(bot.Message{Text: p.T("network.removed.you", "Name", n.Name)})
	t.Note(t.T("network.removed", "Name", m.Name))
	members(t, n)
}

// askLeave asks the member to confirm leaving.
func askLeave(t *bot.Turn, n *Network) {
	t.Say(bot.Message{Text: t.T("network.leave.ask", "Name", n.Name), Buttons: [][]bot.Button{{{Label: t.T("button.network.leave.yes"), Action: act(n, "leave", "yes")}}}})
}

// leave takes the member out of the network. The last coordinator stays
// until they name another, unless nobody else is left: then the network
// ends with them.
func leave(t *bot.Turn, n *Network, me *Member) {
	i := slices.IndexFunc(n.Members, func(m Member) bool { return m.Chat == me.Chat })
	m := *me
	if len(n.Members) > 1 && lastCoordinator(t, n, i) {
		return
	}
	n.Members = slices.Delete(n.Members, i, i+1)
	if len(n.Members) == 0 {
		if err := t.Tx().Delete(Kind, n.ID); err != nil {
			fail(err)
			return
		}
		for _, ch := range n.Channels {
			if !setRecord(t, "", ch.Chat) {
				return
			}
		}
	} else if !save(t, n) {
		return
	}
	if !quit(t, n.ID, m.Chat, m.DM) {
		return
	}
	t.Note(t.T("network.left", "Name", n.Name))
}

// codePage is the join code with its buttons (a coordinator).
func codePage(t *bot.Turn, n *Network) {
	rows := [][]bot.Button{{{Label: t.T("button.network.code.new30"), Action: act(n, "new", "30")}, {Label: t.T("button.network.code.new0"), Action: act(n, "new", "0")}}}
	if n.ActiveCode(t.Now()) != nil {
		rows = append(rows, []bot.Button{{Label: t.T("button.network.code.revoke"), Action: act(n, "revoke")}})
	}
	t.Say(bot.Message{Text: codeText(t, n), Buttons: rows})
}

// channels lists the linked channels, each with a button to unlink it.
func channels(t *bot.Turn, n *Network) {
	var rows [][]bot.Button
	for i, c := range n.Channels {
		rows = append(rows, []bot.Button{{Label: t.T("button.network.unlink", "Channel", channelName(t, c)), Action: act(n, "ul", strconv.Itoa(i), hashOf(c.Chat.Key()))}})
	}
	t.Say(bot.Message{Text: t.T("network.channels.ask", "Count", len(n.Channels)), Buttons: rows})
}

// ---- organisations ----

// pickOrg asks for the organisation of the member ref names.
func pickOrg(t *bot.Turn, n *Network, ref string) {
	d := t.Dialog()
	d.Ref, d.Op = n.ID, ref
	t.To(ModeOrg)
	t.Ask()
}

// orgTarget is the network and the member whose organisation is asked,
// when the turn's user may still set it (they themselves, or a
// coordinator).
func orgTarget(t *bot.Turn) (*Network, int, bool) {
	n, ok := load(t, t.Dialog().Ref)
	if !ok {
		return nil, -1, false
	}
	me := n.Member(t.Event().Addr)
	i := n.byRef(t.Dialog().Op)
	if me == nil || i < 0 || n.Members[i].Chat != me.Chat && me.Role != Coordinator {
		return nil, -1, false
	}
	return n, i, true
}

func askOrg(t *bot.Turn) (bot.Message, bool) {
	n, i, ok := orgTarget(t)
	if !ok {
		return bot.Message{}, false
	}
	var rows [][]bot.Button
	for j, o := range n.Orgs {
		rows = append(rows, []bot.Button{{Label: o.Name + " · " + t.T("network.kind."+o.Kind), Action: t.Action("o", strconv.Itoa(j))}})
	}
	rows = append(rows, []bot.Button{{Label: t.T("button.network.org.new"), Action: t.Action("new")}, {Label: t.T("button.network.org.none"), Action: t.Action("none")}})
	return bot.Message{Text: t.T("network.org.ask", "Name", n.Members[i].Name), Buttons: rows}, true
}

func pressOrg(t *bot.Turn, verb, arg string) {
	n, i, ok := orgTarget(t)
	if !ok {
		t.To(bot.ModeIdle)
		t.Reask()
		return
	}
	switch verb {
	case "new":
		t.To(ModeOrgName)
		t.Ask()
		return
	case "none":
		n.Members[i].Org = ""
	case "o":
		j, ok := bot.Index(arg, len(n.Orgs))
		if !ok {
			t.Reask()
			return
		}
		n.Members[i].Org = n.Orgs[j].ID
	default:
		t.Reask()
		return
	}
	if save(t, n) {
		orgSet(t, n, i)
	}
}

// orgSet ends the organisation's question.
func orgSet(t *bot.Turn, n *Network, i int) {
	d := t.Dialog()
	d.Ref, d.Op = "", ""
	t.To(bot.ModeIdle)
	m := n.Members[i]
	if o := n.Org(m.Org); o != nil {
		t.Note(t.T("network.org.set", "Name", m.Name, "Org", o.Name))
	} else {
		t.Note(t.T("network.org.unset", "Name", m.Name))
	}
	t.Say(page(t, n, n.Member(t.Event().Addr)))
}

func askOrgName(t *bot.Turn) (bot.Message, bool) {
	if _, _, ok := orgTarget(t); !ok {
		return bot.Message{}, false
	}
	return bot.Message{Text: t.T("network.org.ask.name")}, true
}

// setOrgName adds the organisation (of kind "other" until its kind is
// picked) and ties the member to it.
func setOrgName(t *bot.Turn, text string) {
	s, ok := typed(t, text)
	if !ok {
		return
	}
	n, i, ok := orgTarget(t)
	if !ok {
		t.To(bot.ModeIdle)
		t.Reask()
		return
	}
	j := slices.IndexFunc(n.Orgs, func(o Org) bool { return bot.Normalize(o.Name) == bot.Normalize(s) })
	if j < 0 {
		n.Orgs = append(n.Orgs, Org{ID: "o" + strconv.Itoa(len(n.Orgs)+1), Name: s, Kind: OtherKind})
		for n.Org(n.Orgs[len(n.Orgs)-1].ID) != &n.Orgs[len(n.Orgs)-1] { // an ID freed and taken again
			n.Orgs[len(n.Orgs)-1].ID += "x"
		}
		j = len(n.Orgs) - 1
	}
	n.Members[i].Org = n.Orgs[j].ID
	if !save(t, n) {
		return
	}
	t.Dialog().Target = j
	t.To(ModeOrgKind)
	t.Ask()
}

func askOrgKind(t *bot.Turn) (bot.Message, bool) {
	n, _, ok := orgTarget(t)
	j := t.Dialog().Target
	if !ok || j < 0 || j >= len(n.Orgs) {
		return bot.Message{}, false
	}
	var rows [][]bot.Button
	for _, k := range OrgKinds {
		rows = append(rows, []bot.Button{{Label: t.T("network.kind." + k), Action: t.Action("k", k)}})
	}
	return bot.Message{Text: t.T("network.org.ask.kind", "Org", n.Orgs[j].Name), Buttons: rows}, true
}

func pressOrgKind(t *bot.Turn, verb, arg string) {
	n, i, ok := orgTarget(t)
	j := t.Dialog().Target
	if !ok || j < 0 || j >= len(n.Orgs) || verb != "k" || !slices.Contains(OrgKinds, arg) {
		t.Reask()
		return
	}
	n.Orgs[j].Kind = arg
	if save(t, n) {
		orgSet(t, n, i)
	}
}
