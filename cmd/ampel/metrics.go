package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/store"
)

// promMetrics is ampel's Prometheus side: a registry of its own (not the
// global one), the engine's and adapters' bot.Observer, and collectors
// that read the engine's counters and the store's health at scrape time.
// Labels are platform names and fixed outcome words only: never a user,
// a chat or any text.
type promMetrics struct {
	reg      *prometheus.Registry
	turns    *prometheus.CounterVec
	turnTime *prometheus.HistogramVec
	commit   prometheus.Histogram
	sends    *prometheus.CounterVec
	refused  *prometheus.CounterVec
	waits    *prometheus.CounterVec
	waitTime *prometheus.CounterVec
	dups     *prometheus.CounterVec
}

func newMetrics() *promMetrics {
	m := &promMetrics{reg: prometheus.NewRegistry()}
	m.turns = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ampel_turns_total",
		Help: "Inbound events handled, by platform and outcome (ok; error: nothing committed, the platform may redeliver)."}, []string{"platform", "outcome"})
	m.turnTime = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "ampel_turn_duration_seconds",
		Help: "Time to handle an inbound event, commit included.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)}, []string{"platform"})
	m.commit = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "ampel_commit_duration_seconds",
		Help: "Time of one database write transaction (a batch of turns), fsync included.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)})
	m.sends = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ampel_sends_total",
		Help: "Sends of outbox messages, by platform and result (ok, rate_limited, retried, recipient_gone, unknown_outcome)."}, []string{"platform", "result"})
	m.refused = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ampel_events_refused_total",
		Help: "Inbound events turned away, by platform and reason (bad_signature, stale_button, unauthorised)."}, []string{"platform", "reason"})
	m.waits = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ampel_limiter_waits_total",
		Help: "Sends that waited for the adapter's rate limiter."}, []string{"platform"})
	m.waitTime = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ampel_limiter_wait_seconds_total",
		Help: "Time sends waited for the adapter's rate limiter."}, []string{"platform"})
	m.dups = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ampel_possible_duplicates_total",
		Help: "Messages that may have arrived already (sent before a crash, or with an unknown outcome), by platform and outcome (resent: sent again, may show twice; found: found on the platform, not sent again)."}, []string{"platform", "outcome"})
	m.reg.MustRegister(m.turns, m.turnTime, m.commit, m.sends, m.refused, m.waits, m.waitTime, m.dups,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *promMetrics) Turn(platform, outcome string, d time.Duration) {
	m.turns.WithLabelValues(platform, outcome).Inc()
	m.turnTime.WithLabelValues(platform).Observe(d.Seconds())
}

func (m *promMetrics) Sent(platform, result string) { m.sends.WithLabelValues(platform, result).Inc() }

func (m *promMetrics) PossibleDuplicate(platform, outcome string) {
	m.dups.WithLabelValues(platform, outcome).Inc()
}

func (m *promMetrics) Refused(platform, reason string) {
	m.refused.WithLabelValues(platform, reason).Inc()
}

func (m *promMetrics) LimiterWait(platform string, d time.Duration) {
	m.waits.WithLabelValues(platform).Inc()
	m.waitTime.WithLabelValues(platform).Add(d.Seconds())
}

// commitTook is the store's Options.OnCommit.
func (m *promMetrics) commitTook(d time.Duration) { m.commit.Observe(d.Seconds()) }

// watch adds the collectors read at scrape time: the engine's counters
// and the store's outbox and file.
func (m *promMetrics) watch(engine *bot.Engine, db *store.DB, now func() time.Time) {
	counter := func(name, help string, f func(bot.Stats) int64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return float64(f(engine.Stats())) })
	}
	gauge := func(name, help string, f func(store.Health) float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 { return f(db.Health()) })
	}
	m.reg.MustRegister(
		counter("ampel_reminders_sent_total", "Reminders sent (late ones included).", func(s bot.Stats) int64 { return s.RemindersSent }),
		counter("ampel_reminders_late_total", "Reminders sent later than their lateness limit (the bot was down or busy).", func(s bot.Stats) int64 { return s.RemindersLate }),
		counter("ampel_reminders_missed_total", "Reminders not sent because too late (they show as missed in /reminders).", func(s bot.Stats) int64 { return s.RemindersMissed }),
		counter("ampel_possible_duplicate_sends_total", "Messages sent again although an earlier attempt (before a crash, or with an unknown outcome) may have arrived.", func(s bot.Stats) int64 { return s.AmbiguousSends }),
		counter("ampel_damaged_events_total", "Events that met a conversation whose stored record cannot be read.", func(s bot.Stats) int64 { return s.Damaged }),
		gauge("ampel_outbox_messages", "Messages in the outbox waiting to be sent.", func(h store.Health) float64 { return float64(h.Outbox) }),
		gauge("ampel_outbox_oldest_age_seconds", "Age of the oldest message in the outbox (0 when empty); counted from the start for messages found there at start.", func(h store.Health) float64 {
			if h.OldestQueued.IsZero() {
				return 0
			}
			return now().Sub(h.OldestQueued).Seconds()
		}),
		gauge("ampel_db_size_bytes", "Size of the database file.", func(h store.Health) float64 { return float64(h.FileSize) }),
		gauge("ampel_db_free_pages", "Pages of the database file free for reuse (bbolt's freelist).", func(h store.Health) float64 { return float64(h.FreePages) }),
		gauge("ampel_db_free_bytes", "Bytes of the database file free for reuse (free pages times page size).", func(h store.Health) float64 { return float64(h.FreePages * h.PageSize) }),
	)
}

func (m *promMetrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// readiness answers /readyz: ready when the store is open, every platform
// connected or down for less than its grace, and the outbox's oldest
// message younger than outboxAge.
type readiness struct {
	db        *store.DB
	adapters  []bot.Adapter
	outboxAge time.Duration
	now       func() time.Time
}

func (rd *readiness) notReady() []string {
	var why []string
	if !rd.db.IsOpen() {
		why = append(why, "store: closed")
	}
	now := rd.now()
	for _, a := range rd.adapters {
		l, ok := a.(bot.Linked)
		if !ok {
			continue
		}
		if st := l.Link(); !st.Up && now.Sub(st.Since) > st.Grace {
			why = append(why, fmt.Sprintf("%s: disconnected %s", a.Platform(), roughly(now.Sub(st.Since))))
		}
	}
	if rd.db.IsOpen() {
		if h := rd.db.Health(); !h.OldestQueued.IsZero() && now.Sub(h.OldestQueued) > rd.outboxAge {
			why = append(why, "outbox: oldest message "+roughly(now.Sub(h.OldestQueued)))
		}
	}
	return why
}

// roughly writes a duration as an operator reads it: 40s, 2m, 3h.
func roughly(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	}
	return fmt.Sprintf("%dh", int(d.Hours()))
}

func (rd *readiness) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	why := rd.notReady()
	body := struct {
		Ready    bool     `json:"ready"`
		NotReady []string `json:"not_ready,omitempty"`
	}{len(why) == 0, why}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if len(why) > 0 {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	json.NewEncoder(w).Encode(body)
}
