//go:build race

package telegram

// raceEnabled: the race detector slows every send some tenfold.
const raceEnabled = true
