package bot_test

import "os"

// sized is n, or small under the race detector unless AMPEL_LONG is set:
// for tests whose property holds at any size, as the race detector makes
// each step several times slower and finds nothing more in repetition.
func sized(n, small int) int {
	if raceEnabled && os.Getenv("AMPEL_LONG") == "" {
		return small
	}
	return n
}
