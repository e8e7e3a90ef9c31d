package remind

import (
	"strconv"

	"github.com/ampel-bot/ampel/bot"
)

// Where the reminders of a person with linked chats go (/link): the chat
// they wrote from last, or the one they choose here.

// remindToLine says where reminders go.
func remindToLine(t *bot.Turn) string {
	where := t.T("reminders.to.last")
	if to := t.Conv().RemindTo; to != (bot.Address{}) {
		where = t.PlatformName(to.Platform)
	}
	return t.T("reminders.to", "Where", where)
}

// remindToRows offers each linked chat, and "where I wrote last".
func remindToRows(t *bot.Turn) [][]bot.Button {
	c := t.Conv()
	var row []bot.Button
	for i, a := range c.Linked {
		if a.Key() != c.RemindTo.Key() || c.RemindTo == (bot.Address{}) {
			row = append(row, bot.Button{Label: t.T("button.reminders.to", "Platform", t.PlatformName(a.Platform)), Action: t.Action("to", strconv.Itoa(i))})
		}
	}
	rows := [][]bot.Button{row}
	if c.RemindTo != (bot.Address{}) {
		rows = append(rows, []bot.Button{{Label: t.T("button.reminders.to.last"), Action: t.Action("to", "last")}})
	}
	return rows
}

// remindTo makes arg, a linked chat's place or "last", where reminders go.
func remindTo(t *bot.Turn, arg string) {
	c := t.Conv()
	if i, ok := bot.Index(arg, len(c.Linked)); ok {
		t.SetRemindTo(c.Linked[i].Key())
		return
	}
	t.SetRemindTo("")
}
