package telemetry

import (
	"strconv"
	"unicode/utf8"
)

// MaxEcho bounds what a log line or an error message repeats of text a
// caller chose (an event's route or caller, a mask's path, key or ARN), so
// that no log line grows with the request: every line stays under 8 KB.
const MaxEcho = 256

// Echo is s as a log line or an error message may repeat it: whole up to
// MaxEcho bytes; longer, cut on a character boundary and marked with its
// full length.
func Echo(s string) string {
	if len(s) <= MaxEcho {
		return s
	}
	n := MaxEcho
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…[cut: " + strconv.Itoa(len(s)) + " bytes in all]"
}
