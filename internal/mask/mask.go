package mask

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Prefix is the literal text that opens every mask. Anything that starts
// with it is either a valid mask or an error; it is never passed through.
const Prefix = "{{workato:sm:"

// suffix closes a mask.
const suffix = "}}"

// maxQuote bounds how much caller input an error message repeats, so that a
// huge key cannot blow up a log line or a response body.
const maxQuote = 64

// ErrInvalidMask is the sentinel every grammar error wraps: check for it with
// errors.Is, and with errors.As against *Error for the offset and reason.
var ErrInvalidMask = errors.New("invalid mask")

// Error is a grammar error: text that starts with Prefix (or, for ParseARN,
// a string) that is not valid.
type Error struct {
	// Offset is the byte offset, in the string that was scanned, of the
	// part that is wrong (the start of the mask when the mask as a whole is).
	Offset int
	// Reason says what is wrong. It may quote the key or ARN fields, which
	// are caller input, truncated to a few dozen bytes.
	Reason string
}

// Error returns "invalid mask at offset N: reason".
func (e *Error) Error() string {
	return "invalid mask at offset " + strconv.Itoa(e.Offset) + ": " + e.Reason
}

// Unwrap returns ErrInvalidMask.
func (e *Error) Unwrap() error { return ErrInvalidMask }

func errorf(offset int, reason ...string) *Error {
	return &Error{Offset: offset, Reason: strings.Join(reason, "")}
}

// quote quotes caller input for an error message, cut to maxQuote bytes on a
// rune boundary.
func quote(s string) string {
	if len(s) <= maxQuote {
		return strconv.Quote(s)
	}
	n := maxQuote
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return strconv.Quote(s[:n]) + "..."
}

// Mask is a parsed mask: which key of which secret.
type Mask struct {
	// Key is a key of the secret's SecretString JSON object (not the
	// secret's name). It is never empty and never holds '}'.
	Key string
	// ARN names the secret.
	ARN ARN
}

// String writes the mask back as {{workato:sm:key:arn}}.
func (m Mask) String() string {
	return Prefix + m.Key + ":" + m.ARN.String() + suffix
}

// Match is one mask found in a string, valid or not.
type Match struct {
	// Start and End are byte offsets in the scanned string: the match is
	// s[Start:End].
	Start, End int
	// Mask is the parsed mask; it is the zero Mask when Err is set.
	Mask Mask
	// Err is nil for a valid mask, and an *Error otherwise.
	Err error
}

// Contains reports whether s holds anything that starts like a mask. It is
// the cheap test to run before Find.
func Contains(s string) bool {
	return strings.Contains(s, Prefix)
}

// Find returns every mask in s, valid and invalid, in order. It returns nil,
// and allocates nothing, when s holds no Prefix.
func Find(s string) []Match {
	return AppendFind(nil, s)
}

// AppendFind is Find appending to dst, so that a caller scanning many strings
// can reuse one buffer. It returns dst unchanged when s holds no Prefix.
//
// Text := { Other | Mask }
//
// Scanning jumps from one Prefix to the next. After an invalid mask it
// resumes after the "}}" that closed it, or after the lone '}' that ended
// it, or at the end of s when there was no '}' at all. Other "{{...}}" text
// is not a mask and is skipped like any other text.
func AppendFind(dst []Match, s string) []Match {
	for i := 0; ; {
		j := strings.Index(s[i:], Prefix)
		if j < 0 {
			return dst
		}
		m := scan(s, i+j)
		dst = append(dst, m)
		i = m.End
	}
}

// Parse parses s, which must be exactly one mask with no text around it.
func Parse(s string) (Mask, error) {
	if !strings.HasPrefix(s, Prefix) {
		return Mask{}, errorf(0, "does not start with ", strconv.Quote(Prefix))
	}
	m := scan(s, 0)
	if m.Err != nil {
		return Mask{}, m.Err
	}
	if m.End != len(s) {
		return Mask{}, errorf(m.End, "text after the mask: ", quote(s[m.End:]))
	}
	return m.Mask, nil
}

// scan reads the mask whose Prefix starts at s[start].
//
// Mask := "{{workato:sm:" Body "}}"
// Body := any bytes but '}'
//
// The body runs to the first '}', which must be followed by a second '}'.
func scan(s string, start int) Match {
	bodyStart := start + len(Prefix)
	k := strings.IndexByte(s[bodyStart:], '}')
	if k < 0 {
		return Match{Start: start, End: len(s),
			Err: errorf(start, `unterminated mask (no closing "}}")`)}
	}
	closing := bodyStart + k
	if closing+1 >= len(s) || s[closing+1] != '}' {
		return Match{Start: start, End: closing + 1,
			Err: errorf(closing, `mask closed by a single "}" (want "}}")`)}
	}
	end := closing + len(suffix)
	m, err := parseBody(s[bodyStart:closing], bodyStart)
	if err != nil {
		return Match{Start: start, End: end, Err: err}
	}
	return Match{Start: start, End: end, Mask: m}
}

// arnFields is how many colon-separated fields an ARN has:
// arn, partition, service, region, account, resource type, name.
const arnFields = 7

// parseBody parses the text between Prefix and "}}"; base is its offset in
// the scanned string.
//
// Body := Key ":" ARN
// Key  := one or more bytes but '}' (colons included)
//
// Key and ARN may both hold colons, but a secret name may not, so the body
// is split from the right: the ARN is the last seven colon-separated
// fields, and the key is everything before them.
func parseBody(body string, base int) (Mask, error) {
	sep := len(body)
	for n := 0; n < arnFields; n++ {
		sep = strings.LastIndexByte(body[:sep], ':')
		if sep < 0 {
			if n == arnFields-1 && strings.HasPrefix(body, "arn:") {
				return Mask{}, errorf(base, "missing key (want key:arn:...)")
			}
			return Mask{}, errorf(base, "want <key>:<secret ARN>, found ",
				strconv.Itoa(n+1), " colon-separated fields, need at least 8")
		}
	}
	if sep == 0 {
		return Mask{}, errorf(base, "missing key")
	}
	arn, err := parseARN(body[sep+1:], base+sep+1)
	if err != nil {
		return Mask{}, err
	}
	return Mask{Key: body[:sep], ARN: arn}, nil
}
