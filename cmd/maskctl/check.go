package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/maskresolver/maskresolver/internal/answer"
	"github.com/maskresolver/maskresolver/internal/mask"
)

const checkUsage = `usage: maskctl check [payload.json|-]

Lists every mask of a payload (a file, or stdin), as the API would find them:
in every string value at any depth, JSON escapes decoded, never in member names.
The payload is a request {"connection": …} or just the connection value. Nothing
is read from Secrets Manager: a valid mask may still name a missing key or secret.

Each mask is one JSON line on stdout, in payload order, with the JSON Pointer of
the string that holds it:
  {"path":"/connection/client_secret","key":"…","secret_arn":"arn:…","status":"valid"}
  {"path":"/connection/token","code":"InvalidMask","message":"invalid mask at offset 7: …"}

Exit status: 0 when every mask is valid, 1 when any is invalid, 2 when the payload
cannot be read or is not JSON.
`

// codeInvalidMask is the API's code for a mask the grammar refuses.
const codeInvalidMask = "InvalidMask"

// runCheck is `maskctl check`. Like mask, it needs no AWS configuration.
//
// The list goes to stdout: an invalid mask's message may quote the text
// after "{{workato:sm:", which is payload and so may be a secret. stderr
// gets only counts.
func runCheck(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs, code, ok := parseSubcommand("check", checkUsage, args, stderr)
	if !ok {
		return code
	}
	arg := "-"
	switch fs.NArg() {
	case 0:
	case 1:
		arg = fs.Arg(0)
	default:
		fmt.Fprintf(stderr, "maskctl check: %s\n", payloadArgsError(fs.Args()))
		return exitUsage
	}
	in, closeIn, err := openPayload(arg, stdin)
	if err != nil {
		fmt.Fprintln(stderr, "maskctl check:", err)
		return exitUsage
	}
	defer closeIn()
	b, err := readPayload(in)
	if err != nil {
		fmt.Fprintf(stderr, "maskctl check: %s: %v\n", payloadName(arg), err)
		return exitUsage
	}
	conn := json.RawMessage(b)
	if req, ok := parseRequest(b); ok {
		conn = req.connection
	}
	found, err := findMasks(conn)
	if err != nil {
		fmt.Fprintf(stderr, "maskctl check: %s: %v\n", payloadName(arg), err)
		return exitUsage
	}

	enc := json.NewEncoder(stdout)
	// Keys and messages are shown as they are: "<" and "&" are not
	// escaped for HTML, which this output never goes into.
	enc.SetEscapeHTML(false)
	invalid := 0
	for _, m := range found {
		if m.Code != "" {
			invalid++
		}
		if err := enc.Encode(m); err != nil {
			fmt.Fprintln(stderr, "maskctl check: write the list:", err)
			return exitNetwork
		}
	}
	switch {
	case invalid > 0:
		fmt.Fprintf(stderr, "maskctl check: %d of %d masks invalid\n", invalid, len(found))
		return exitInvalid
	case len(found) == 0:
		fmt.Fprintln(stderr, "maskctl check: note: the payload holds no mask")
	}
	return exitOK
}

// findMasks lists the masks in conn, a valid JSON value, in document
// order, with pointers rooted at /connection as the API writes them. Each
// is an entry of the API's "masks" list, the same type, so that check's
// lines and the API's entries compare as they are. Its status is "valid",
// not "verified": the grammar accepts the mask, but no secret was read;
// it has no version id for the same reason.
//
// The value is walked token by token, not decoded into maps and slices,
// because a map would lose the members' order and so the masks'.
func findMasks(conn []byte) ([]answer.MaskEntry, error) {
	dec := json.NewDecoder(bytes.NewReader(conn))
	// Numbers are never looked at; as json.Number they cannot fail to fit
	// a float64 (1e999 is valid JSON).
	dec.UseNumber()
	w := walker{dec: dec}
	if err := w.value("/connection"); err != nil {
		return nil, fmt.Errorf("walk the connection: %w", err)
	}
	return w.found, nil
}

// walker finds masks in the values a json.Decoder reads. Its depth is that
// of the JSON, which readPayload's json.Unmarshal has already bounded
// (encoding/json refuses nesting deeper than 10000).
type walker struct {
	dec   *json.Decoder
	found []answer.MaskEntry
}

// value reads one JSON value whose pointer is path.
func (w *walker) value(path string) error {
	tok, err := w.dec.Token()
	if err != nil {
		return err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			for w.dec.More() {
				name, err := w.dec.Token()
				if err != nil {
					return err
				}
				// Member names are never scanned: a mask there is left as
				// it is, as the API leaves it.
				s, ok := name.(string)
				if !ok {
					return fmt.Errorf("member name %v is not a string", name)
				}
				if err := w.value(path + "/" + escapePointer(s)); err != nil {
					return err
				}
			}
		case '[':
			for i := 0; w.dec.More(); i++ {
				if err := w.value(path + "/" + strconv.Itoa(i)); err != nil {
					return err
				}
			}
		}
		_, err := w.dec.Token() // the closing '}' or ']'
		return err
	case string:
		// The decoded text, so an escaped mask (\u007b\u007bworkato:sm:…)
		// is found as the API finds it; offsets are into this text too.
		for _, m := range mask.Find(t) {
			if m.Err != nil {
				w.found = append(w.found, answer.MaskEntry{Path: path, Code: codeInvalidMask, Message: m.Err.Error()})
				continue
			}
			w.found = append(w.found, answer.MaskEntry{Path: path, Key: m.Mask.Key, SecretARN: m.Mask.ARN.String(), Status: "valid"})
		}
	}
	return nil
}

// pointerEscaper escapes a reference token of an RFC 6901 JSON Pointer. A
// Replacer makes one pass, so the "~" that "~1" writes is not escaped again.
var pointerEscaper = strings.NewReplacer("~", "~0", "/", "~1")

func escapePointer(s string) string { return pointerEscaper.Replace(s) }
