// Package bot is the centre of Ampel: the domain types every platform shares
// (Event, Message, Button, Address, Conversation, Plan, Measure), the small
// interfaces the engine consumes (Adapter, Store, Clock) and the engine that
// turns an inbound event into a state change and replies.
//
// What the dialogue asks and what its answers do lives in features, each a
// package under bot/ (bot/check, bot/plan, bot/remind, bot/settings) listed
// by bot/features. A Feature registers its questions (Mode: how it is asked,
// what a pressed button and a typed answer do), its commands, its lasting
// buttons and what it does when another feature announces something
// (Turn.Fire). The core keeps the dialogue's primitives (Turn: asking,
// saying, buttons with their typed twins, stale buttons, back, side trips),
// the idle menu with /start, /help and /cancel, when reminders fire, and
// dispatches every event through what the features registered.
//
// bot imports no feature, no adapter, no store and no platform SDK. Adapters translate
// platform events into Events and render Messages; the store persists what the
// engine decided. Nothing platform-specific crosses into this package.
//
// Receiving never waits for sending. Handle commits an event's new state and
// replies (to the store's outbox) in one transaction and returns; the
// adapter acknowledges the event at once. The engine's outbox dispatcher
// (outbox.go) sends the replies afterwards: each chat's in order, one at a
// time, many chats at once, from a few runners per platform, so that a chat
// waiting for its platform's limit, a platform that fails, or one that is
// not configured holds up no other chat and no event. RunOutbox serves its
// timers, Settle waits until it has sent what it can, Close drains it.
//
// One event may change more than its conversation: through its Tx (tx.go)
// a step reads and changes records (a team run) and other chats'
// conversations, and sends to any chat; Engine.Do runs such a change that
// no conversation's event caused. All of it commits in one transaction
// (Store.CommitBatch). Every conversation and record has a lock, held
// from its first use until the commit, and two transactions can never
// deadlock on them:
//   - A goroutine waits for a lock only on the caller's goroutine (apply,
//     Do), and only while it takes its keys in one fixed order, ascending
//     by key: it waits for a key while holding only keys that sort before
//     it. A chain of waiters thus climbs strictly in the order of keys and
//     cannot close into a cycle; whoever holds the key at its top is not
//     waiting for a lock, and finishes.
//   - A step runs on one of the engine's few workers, where waiting would
//     stall the pool, and never waits there: a key it does not hold yet is
//     only tried (taking a free key in any order waits for nothing, so it
//     adds no edge to the chain above). If the key is held elsewhere, the
//     step's work is thrown away, its keys are let go, and the caller takes
//     all of them and the wanted one in ascending order and runs the step
//     again.
package bot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"
)

// Address names a conversation on a platform. Workspace is the Slack team or
// Mattermost server where a platform has several; Chat is the chat, channel or
// DM; User is who acted (equal to Chat in a private chat).
//
// An address with a User and no Chat is the private chat between the bot
// and that user, wherever the platform keeps it (Telegram: the user's own
// chat ID; Slack: the app's DM, reached by posting to the user ID;
// Mattermost: the direct channel of the bot and the user, opened if need
// be). A feature reaches a member it knows only from a channel that way;
// the member's answers there come back from the DM's real chat. Its key
// (and its outbox lane) is the user's: Platform/Workspace/@User.
type Address struct {
	Platform  string `json:"p"`
	Workspace string `json:"w,omitempty"`
	Chat      string `json:"c"`
	User      string `json:"u,omitempty"`
}

// Key identifies the conversation whose state an event changes: the chat, not
// the user, so that a team's plan belongs to its channel.
func (a Address) Key() string {
	return a.Platform + "/" + a.Workspace + "/" + a.chat()
}

// chat is the chat an address reaches: Chat, or the private chat with
// User, "@" and the user's ID (see Address).
func (a Address) chat() string {
	if a.Chat == "" && a.User != "" {
		return "@" + a.User
	}
	return a.Chat
}

// KeyHash is a short, stable reference to a conversation key for logs
// (the first 12 hex digits of its SHA-256): logs carry no chat IDs, yet
// the lines of one conversation can be found together. ampel db
// quarantine shows the same reference next to a record set aside.
func KeyHash(key string) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:6])
}

// Event is one inbound happening: a typed text or a pressed button.
type Event struct {
	// ID is the platform's delivery ID (Telegram update_id, Slack event_id,
	// Mattermost post id, a console line number); the same ID twice has one effect.
	ID   string
	Addr Address
	// Text is what the user typed, commands included ("/check zo-kmu").
	Text string
	// Action is the opaque action of a pressed button; empty for typed text.
	Action string
	// LangHint is the language the platform reports for the user ("de", "en-GB").
	LangHint string
	// ZoneHint is the IANA time zone the platform reports for the user, if any.
	ZoneHint string
	// Group says the chat has several people in it (a group or channel),
	// where commands must be addressed to the bot.
	Group bool
	// UserName is how the platform names the user, if it does: in a group,
	// "me" as the responsible person is stored as this name.
	UserName string
	// Form holds the answers of a submitted form, by field name.
	Form map[string]string
	// MovedTo, when set, says the chat continues as the chat with this ID,
	// keeping its data (a Telegram group upgraded to a supergroup).
	MovedTo string
	// At is when the event happened by the platform's clock, for a platform
	// that reads missed events back by time (Mattermost's create_at). The
	// engine keeps the newest At committed in each conversation.
	At time.Time
	// Replayed marks an event read back after a gap (a catch-up after a
	// restart), which may have been handled before. Its ID decides while
	// the store remembers it (the newest IDs of the conversation); one that
	// happened before the newest At committed in its conversation was
	// handled, however many came after it, and is dropped.
	Replayed bool
	// Left says that Addr.User left the group or channel Addr.Chat, or was
	// removed from it; Text and Action are empty.
	Left bool
}

// MaxActionLen is the longest Button.Action any platform can carry back:
// Telegram's callback_data allows 64 bytes. The engine enforces it centrally.
const MaxActionLen = 64

// Button is one choice. Every button has a typed twin: its number in the
// message (counting across rows) or its label.
type Button struct {
	Label  string `json:"l"`
	Action string `json:"a"`
}

// File is an attachment sent from bytes (a PNG, CSV, ICS or PDF).
//
// A file the dialogue shows unasked (the result picture) is made when it
// is sent, not in the turn: Make names the feature's maker (Feature.Makers)
// and Spec holds everything it needs, Data stays empty until then. The
// turn stays fast, the outbox and the database keep a kilobyte of spec
// instead of the file, and a resend makes the same bytes again.
type File struct {
	Name string `json:"n"`
	MIME string `json:"m"`
	Data []byte `json:"d"`
	Make string `json:"mk,omitempty"`
	Spec []byte `json:"sp,omitempty"`
}

// Message is what the bot says: plain text (adapters escape it for their
// markup), rows of buttons and files. Form, when set, offers the same
// question as one form, for platforms that can show one.
type Message struct {
	Text    string     `json:"t"`
	Buttons [][]Button `json:"b,omitempty"`
	Files   []File     `json:"f,omitempty"`
	Form    *Form      `json:"form,omitempty"`
	// Mentions are platform user IDs the message is for (the responsible
	// person of a measure, in a group): adapters notify them their way.
	// The text names them already, so a platform without mentions can
	// ignore this.
	Mentions []string `json:"men,omitempty"`
	// Live, when set, makes the message one that changes in place (a
	// team's progress): the first message with this key to a chat is
	// posted, and every later one with the same key to the same chat
	// replaces its text and buttons, where the platform can edit (see
	// Editor; elsewhere it is posted anew). Edits are coalesced: at most
	// one per second per live message, always ending in the newest state.
	// A live message has no files and no form, and fits one post.
	Live string `json:"live,omitempty"`
}

// Form asks several things at once, where a platform can show a form (a
// Slack modal, a Mattermost interactive dialog). Its submission comes back
// as one Event with Action set to the form's Action and the answers in
// Event.Form, by field name. Platforms without forms ignore it: the same
// question is asked step by step.
type Form struct {
	Action string `json:"a"`
	Title  string `json:"t"` // short: the platforms cut titles at 24 characters
	// Open labels the button that opens the form ("Add measure…"); if
	// empty, the Title does.
	Open string `json:"o,omitempty"`
	// Intro is shown at the top of the form (what it is about, in full).
	Intro  string      `json:"i,omitempty"`
	Submit string      `json:"s"`
	Fields []FormField `json:"f"`
}

// Form field kinds.
const (
	FieldText   = "text"
	FieldSelect = "select"
	FieldDate   = "date" // value "2027-03-15"
)

// FormField is one field of a form.
type FormField struct {
	Name     string       `json:"n"`
	Label    string       `json:"l"`
	Kind     string       `json:"k"`
	Options  []FormOption `json:"o,omitempty"`
	Value    string       `json:"v,omitempty"` // the default
	Hint     string       `json:"h,omitempty"`
	Optional bool         `json:"opt,omitempty"`
	MaxLen   int          `json:"max,omitempty"`
}

// FormOption is one choice of a select field.
type FormOption struct {
	Label string `json:"l"`
	Value string `json:"v"`
}

// Validate reports a message no platform could send.
func (m Message) Validate() error {
	if m.Text == "" && len(m.Files) == 0 {
		return errors.New("message has neither text nor files")
	}
	for i, f := range m.Files {
		if f.Make != "" && len(f.Data) > 0 || len(f.Make) > MaxActionLen {
			return fmt.Errorf("file %d: its bytes or, instead, the name of its maker (at most %d bytes)", i, MaxActionLen)
		}
	}
	if m.Live != "" && (len(m.Live) > MaxActionLen || len(m.Files) > 0 || m.Form != nil) {
		return fmt.Errorf("live message: key of at most %d bytes (has %d), no files (has %d), no form", MaxActionLen, len(m.Live), len(m.Files))
	}
	// The errors name places, not labels or actions: those can hold what a
	// user wrote, and errors end up in the log.
	if f := m.Form; f != nil && (f.Action == "" || len(f.Action) > MaxActionLen || len(f.Fields) == 0) {
		return fmt.Errorf("form: needs an action of at most %d bytes (has %d) and fields (has %d)", MaxActionLen, len(f.Action), len(f.Fields))
	}
	for i, row := range m.Buttons {
		for j, b := range row {
			if b.Label == "" {
				return fmt.Errorf("button %d of row %d has no label", j+1, i+1)
			}
			if b.Action == "" || len(b.Action) > MaxActionLen || !utf8.ValidString(b.Action) {
				return fmt.Errorf("button %d of row %d: action must be 1 to %d bytes of UTF-8, is %d", j+1, i+1, MaxActionLen, len(b.Action))
			}
		}
	}
	return nil
}

// Flat returns the buttons in reading order, as numbered in text.
func (m Message) Flat() []Button {
	n := 0
	for _, row := range m.Buttons {
		n += len(row)
	}
	if n == 0 {
		return nil
	}
	flat := make([]Button, 0, n)
	for _, row := range m.Buttons {
		flat = append(flat, row...)
	}
	return flat
}

// Outgoing is a message on its way to an address.
type Outgoing struct {
	To  Address `json:"to"`
	Msg Message `json:"msg"`
	// Push marks a message the bot sends on its own (a reminder): its send
	// is recorded as attempted before it starts, so that a possible
	// duplicate after a crash is known and counted.
	Push bool `json:"push,omitempty"`
	// Low marks a message of low priority (a live message shown anew in
	// many chats at once): the outbox sends it when nothing else of its
	// platform is ready.
	Low bool `json:"low,omitempty"`
}

// Queued is an outgoing message stored in the outbox, not yet known as delivered.
type Queued struct {
	ID uint64
	Outgoing
	// Attempts is how many sends were recorded as started (see Store.Attempt).
	Attempts int
}

// Handler is what an adapter calls for every inbound event. Handle returns
// once the event's effects are durable (or it was a duplicate); an adapter
// acknowledges the platform only then, and at once: the replies are sent
// afterwards, by the engine. It may be called concurrently.
type Handler interface {
	Handle(ctx context.Context, ev Event) error
}

// Settler is a Handler that can wait until the replies to the events it
// handled have been sent (see Engine.Settle): a terminal shows them before
// its next prompt.
type Settler interface {
	Settle(ctx context.Context, chats ...Address) error
}

// Adapter connects one platform.
type Adapter interface {
	// Platform is the name used in Address.Platform.
	Platform() string
	// Run receives events and passes them to h until ctx is done or the input
	// ends; it returns nil then, and an error only when it cannot go on.
	Run(ctx context.Context, h Handler) error
	// Send delivers one message. The engine calls it for one chat at a
	// time, in order, and for different chats concurrently, never while
	// an event is being handled. It may wait for the platform's limits,
	// which holds up only this chat. A *RateLimited error asks the caller
	// to wait; ErrRecipientGone means the message can never be delivered.
	Send(ctx context.Context, to Address, m Message) error
}

// FormAdapter is an Adapter that can show a Message's Form (a modal, a
// dialog). Only conversations on such a platform are offered forms.
type FormAdapter interface {
	Adapter
	Forms() bool
}

// Subcommander is an Adapter whose platform reaches the bot's commands as
// subcommands of one ("/ampel check" on Slack and Mattermost): the commands
// in texts for it are written that way.
type Subcommander interface {
	Adapter
	CommandPrefix() string // "/ampel"
}

// Typer is an Adapter whose platform has nothing to tap (a terminal): its
// buttons are a numbered list, and the texts for it ask for the number.
type Typer interface {
	Adapter
	TypesButtons() bool
}

// DeepLinker is an Adapter whose platform opens the bot's private chat
// from a link carrying a start value (Telegram's t.me/<bot>?start=…): the
// value arrives there as the text "/start <value>". A link is built
// without a network call.
type DeepLinker interface {
	Adapter
	StartLink(value string) string
}

// Clock tells the time. It is injected so that tests and demonstrations can
// run the bot at any instant.
type Clock interface {
	Now() time.Time
}

// ClockFunc adapts a function to Clock.
type ClockFunc func() time.Time

// Now calls f.
func (f ClockFunc) Now() time.Time { return f() }

// Store persists conversations and the outbox.
//
// The engine guarantees that at most one Load/Commit sequence for a given key
// (conversation or record) runs at a time, so a Store need not lock per key. All methods may be called
// concurrently for different keys.
type Store interface {
	// Load returns a copy of the conversation stored under key, or a new empty
	// one if there is none. A record that cannot be read is set aside and
	// reported with an error wrapping ErrDamaged, on every Load until a
	// Commit replaces it.
	Load(ctx context.Context, key string) (*Conversation, error)
	// Seen reports whether an event ID has been committed for the conversation.
	Seen(ctx context.Context, key, eventID string) (bool, error)
	// Commit stores, in one durable (fsynced) transaction: eventID as seen, conv
	// under key, conv.Archive in the conversation's archive (an item stored
	// before under its Seq is stored once) and outs in the outbox. It returns
	// the queued messages, or
	// ErrDuplicate (and writes nothing) if eventID was committed before for
	// this key. Event IDs are remembered per conversation: a platform
	// redelivers an event to the conversation it belongs to.
	//
	// A nil conv leaves the stored state as it is (a conversation set aside
	// as damaged keeps its record); a conv committed under a key set aside
	// replaces the damaged record, and Load works again.
	Commit(ctx context.Context, eventID, key string, conv *Conversation, outs []Outgoing) ([]Queued, error)
	// CommitBatch stores everything one event changes in one durable
	// (fsynced) transaction: b.EventID as seen (in the inbox of b.Key,
	// or, for an empty Key, in the store's inbox of changes no
	// conversation caused), every conversation of b.Convs with its
	// archive and reminders, every record of b.Records put or deleted,
	// and b.Outs in the outbox. It returns the queued messages. If the
	// event ID was committed before it returns ErrDuplicate; if any part
	// cannot be written (b.Validate fails, a page is damaged, the disk is
	// full), an error: in both cases nothing of the batch is written.
	// Commit is the batch of one conversation.
	CommitBatch(ctx context.Context, b *Batch) ([]Queued, error)
	// Record returns the bytes of the record ref, or nil if there is none.
	Record(ctx context.Context, ref RecordRef) ([]byte, error)
	// Move commits conv under to and removes from (its state and reminders),
	// in one transaction recording eventID for to: a conversation that
	// continues elsewhere (a Telegram group that became a supergroup). The
	// archive of from becomes that of to.
	Move(ctx context.Context, eventID, from, to string, conv *Conversation) error
	// Archive returns what a conversation moved out of itself (see
	// Conversation.Tidy), oldest first.
	Archive(ctx context.Context, key string) ([]Archived, error)
	// Pending returns up to limit outbox messages not yet delivered with IDs
	// above after, oldest first.
	Pending(ctx context.Context, after uint64, limit int) ([]Queued, error)
	// StillPending reports whether an outbox message is neither delivered
	// nor on its way to being removed, for a sender working from an older
	// Pending list.
	StillPending(ctx context.Context, id uint64) (bool, error)
	// Delivered removes messages from the outbox. It returns once the
	// removal is durable, or its write failed (a delivery whose removal is
	// lost in a crash is sent again); from its return on, Pending must not
	// return those messages.
	Delivered(ctx context.Context, ids ...uint64) error
	// Attempt durably records that a send of an outbox message is about to
	// start, and returns how many attempts were recorded before this one. A
	// message found after a crash with an attempt recorded may have reached
	// the platform: its resend is a possible duplicate.
	Attempt(ctx context.Context, id uint64) (int, error)

	// Due returns up to limit pending reminders due at or before now that
	// come after the reminder after (from the first if after is the zero
	// DueRef), in the order earliest first, then by Key, then by ID. The
	// store keeps them in a time-ordered index derived from each committed
	// conversation's Pending reminders, so the cost of Due grows with the
	// reminders read, not with all stored.
	Due(ctx context.Context, now time.Time, after DueRef, limit int) ([]DueRef, error)
	// NextDue returns the instant of the earliest pending reminder.
	NextDue(ctx context.Context) (time.Time, bool, error)

	// Live returns where the live message live of chat (an Address.Key)
	// is shown, and false if it was never sent.
	Live(ctx context.Context, chat, live string) (LiveRef, bool, error)
	// SetLive durably records where the live message is shown now.
	SetLive(ctx context.Context, chat, live string, ref LiveRef) error
}

// DueRef points at a pending reminder in the store's index.
type DueRef struct {
	Key string    // the conversation
	ID  string    // Reminder.ID
	Due time.Time // Reminder.Due
}

// ErrDuplicate is returned by Store.Commit for an event ID committed before.
var ErrDuplicate = errors.New("duplicate event")

// ErrDamaged is wrapped by Store errors about a stored record that cannot be
// read or written: its bytes do not decode, or the page of the file holding
// it is damaged. The store has set the record aside (kept for inspection);
// asking again gives the same answer, so an adapter acknowledges the event
// rather than have the platform redeliver it forever.
var ErrDamaged = errors.New("damaged record")

// ErrRecipientGone is returned by Adapter.Send when the recipient can never
// receive messages again (blocked the bot, left, was deleted).
var ErrRecipientGone = errors.New("recipient gone")

// ErrUnknownOutcome is wrapped by Adapter.Send errors after which the
// platform may have taken the message (a timeout after the request was
// written). Its resend is counted as a possible duplicate.
var ErrUnknownOutcome = errors.New("outcome unknown")

// RateLimited is returned by Adapter.Send when the platform asks to wait.
type RateLimited struct {
	RetryAfter time.Duration
}

func (e *RateLimited) Error() string {
	return fmt.Sprintf("rate limited: retry after %s", e.RetryAfter)
}
