package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"slices"

	"github.com/ampel-bot/ampel/bot"
)

// Outbox records are written for every reply and read back only after a
// crash, so they use a compact binary form instead of JSON: a version byte,
// then length-prefixed fields. A new field means a new version; old
// versions stay readable.
const (
	outboxV1 = 1
	outboxV2 = 2 // v1 + a length-prefixed JSON form (usually empty) + mentions
	outboxV3 = 3 // v2 + the live key; written only for a live message
	// v3 + flags (flagPush); written only for a message the bot sends on
	// its own: a later process must know that it records its attempt before
	// it sends, so that one without an attempt recorded was not sent.
	outboxV4 = 4
	// v4 + for each file, the name of its maker and its spec; written
	// only for a message with a file made when it is sent (bot.File.Make).
	outboxV5 = 5
)

const (
	flagPush = 1
	flagLow  = 2 // bot.Outgoing.Low
)

// encodeOutgoing returns o's record in a slice of its own, sized exactly:
// the record waits in memory until its batch commits, and a thousand of
// them may be waiting.
func encodeOutgoing(o bot.Outgoing) []byte {
	n, version, form := outgoingForm(o)
	return writeOutgoing(make([]byte, 0, n), o, version, form)
}

// appendOutgoing appends o's record to buf, growing it once at most.
func appendOutgoing(buf []byte, o bot.Outgoing) []byte {
	n, version, form := outgoingForm(o)
	return writeOutgoing(slices.Grow(buf, n), o, version, form)
}

// outgoingForm is the length of o's record, its version and its form as
// JSON.
func outgoingForm(o bot.Outgoing) (n int, version byte, form []byte) {
	strs := [...]string{o.To.Platform, o.To.Workspace, o.To.Chat, o.To.User, o.Msg.Text}
	sized := func(l int) int { return uvarintLen(uint64(l)) + l }
	n = 1 + uvarintLen(uint64(len(o.Msg.Buttons))) + uvarintLen(uint64(len(o.Msg.Files))) + uvarintLen(uint64(len(o.Msg.Mentions)))
	for _, s := range strs {
		n += sized(len(s))
	}
	for _, row := range o.Msg.Buttons {
		n += uvarintLen(uint64(len(row)))
		for _, b := range row {
			n += sized(len(b.Label)) + sized(len(b.Action))
		}
	}
	made := false
	for _, f := range o.Msg.Files {
		n += sized(len(f.Name)) + sized(len(f.MIME)) + sized(len(f.Data))
		made = made || f.Make != ""
	}
	if o.Msg.Form != nil {
		form, _ = json.Marshal(o.Msg.Form) // plain data: cannot fail
	}
	n += sized(len(form))
	for _, m := range o.Msg.Mentions {
		n += sized(len(m))
	}
	version = outboxV2
	if o.Msg.Live != "" || o.Push || o.Low {
		version = outboxV3
		n += sized(len(o.Msg.Live))
	}
	if o.Push || o.Low || made {
		version = outboxV4
		n++
	}
	if made {
		version = outboxV5
		for _, f := range o.Msg.Files {
			n += sized(len(f.Make)) + sized(len(f.Spec))
		}
	}
	return n, version, form
}

// writeOutgoing appends o's record, of the version and form outgoingForm
// says, to buf, which has room for it.
func writeOutgoing(buf []byte, o bot.Outgoing, version byte, form []byte) []byte {
	buf = append(buf, version)
	str := func(s string) { buf = binary.AppendUvarint(buf, uint64(len(s))); buf = append(buf, s...) }
	for _, s := range [...]string{o.To.Platform, o.To.Workspace, o.To.Chat, o.To.User, o.Msg.Text} {
		str(s)
	}
	buf = binary.AppendUvarint(buf, uint64(len(o.Msg.Buttons)))
	for _, row := range o.Msg.Buttons {
		buf = binary.AppendUvarint(buf, uint64(len(row)))
		for _, b := range row {
			str(b.Label)
			str(b.Action)
		}
	}
	buf = binary.AppendUvarint(buf, uint64(len(o.Msg.Files)))
	for _, f := range o.Msg.Files {
		str(f.Name)
		str(f.MIME)
		buf = binary.AppendUvarint(buf, uint64(len(f.Data)))
		buf = append(buf, f.Data...)
	}
	buf = binary.AppendUvarint(buf, uint64(len(form)))
	buf = append(buf, form...)
	buf = binary.AppendUvarint(buf, uint64(len(o.Msg.Mentions)))
	for _, m := range o.Msg.Mentions {
		str(m)
	}
	if version >= outboxV3 {
		str(o.Msg.Live)
	}
	if version >= outboxV4 {
		var flags uint64
		if o.Push {
			flags |= flagPush
		}
		if o.Low {
			flags |= flagLow
		}
		buf = binary.AppendUvarint(buf, flags)
	}
	if version >= outboxV5 {
		for _, f := range o.Msg.Files {
			str(f.Make)
			buf = binary.AppendUvarint(buf, uint64(len(f.Spec)))
			buf = append(buf, f.Spec...)
		}
	}
	return buf
}

// uvarintLen is the length of x written by binary.AppendUvarint.
func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

var errCorrupt = errors.New("corrupt outbox record")

func decodeOutgoing(b []byte) (bot.Outgoing, error) {
	var o bot.Outgoing
	if len(b) == 0 || b[0] < outboxV1 || b[0] > outboxV5 {
		return o, errCorrupt
	}
	version := b[0]
	b = b[1:]
	bad := false
	count := func() int {
		v, n := binary.Uvarint(b)
		if n <= 0 || v > uint64(len(b)) {
			bad = true
			return 0
		}
		b = b[n:]
		return int(v)
	}
	bytesOf := func() []byte {
		l := count()
		if bad || l > len(b) {
			bad = true
			return nil
		}
		v := append([]byte(nil), b[:l]...)
		b = b[l:]
		return v
	}
	str := func() string { return string(bytesOf()) }
	o.To = bot.Address{Platform: str(), Workspace: str(), Chat: str(), User: str()}
	o.Msg.Text = str()
	if rows := count(); rows > 0 {
		o.Msg.Buttons = make([][]bot.Button, rows)
		for i := range o.Msg.Buttons {
			row := make([]bot.Button, count())
			for j := range row {
				row[j] = bot.Button{Label: str(), Action: str()}
			}
			o.Msg.Buttons[i] = row
		}
	}
	if files := count(); files > 0 {
		o.Msg.Files = make([]bot.File, files)
		for i := range o.Msg.Files {
			o.Msg.Files[i] = bot.File{Name: str(), MIME: str(), Data: bytesOf()}
		}
	}
	if version >= outboxV2 {
		if form := bytesOf(); len(form) > 0 && !bad {
			o.Msg.Form = &bot.Form{}
			if err := json.Unmarshal(form, o.Msg.Form); err != nil {
				return bot.Outgoing{}, errCorrupt
			}
		}
		if n := count(); n > 0 {
			o.Msg.Mentions = make([]string, n)
			for i := range o.Msg.Mentions {
				o.Msg.Mentions[i] = str()
			}
		}
	}
	if version >= outboxV3 {
		o.Msg.Live = str()
	}
	if version >= outboxV4 {
		flags, n := binary.Uvarint(b) // not count(): a flag may exceed what is left
		if n <= 0 {
			bad = true
		} else {
			b = b[n:]
		}
		o.Push, o.Low = flags&flagPush != 0, flags&flagLow != 0
	}
	if version >= outboxV5 {
		for i := range o.Msg.Files {
			o.Msg.Files[i].Make, o.Msg.Files[i].Spec = str(), bytesOf()
		}
	}
	if bad || len(b) != 0 {
		return bot.Outgoing{}, errCorrupt
	}
	return o, nil
}
