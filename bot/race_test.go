//go:build race

package bot_test

// raceEnabled scales long tests down under the race detector, which makes
// each step several times slower and finds nothing more in repetition.
const raceEnabled = true
