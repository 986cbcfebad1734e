package api

import (
	"strconv"
	"strings"
)

// Bounds on what the function keeps from an event and repeats from it.
// API Gateway's quotas keep its request line and headers to about 10 KB,
// and an IAM ARN is at most 2 KB: only a direct invoker comes near these.
const (
	// maxEventString bounds each string member of an event the decoder
	// keeps (all but body, which MAX_BODY_BYTES bounds), and the text of
	// multiValueHeaders' cache-control list, as written in the event:
	// escapes count as written, so no real value, even all \uXXXX
	// escapes, comes near it. A longer one makes the event malformed
	// (400 InvalidRequest) rather than being cut: the path routes, the
	// caller decides access and Cache-Control may ask for fresh values,
	// and a cut value could mean something the whole one does not.
	maxEventString = 64 << 10
	// maxHeaderValues bounds the values of multiValueHeaders'
	// cache-control; more make the event malformed, as a longer list
	// does (dropping some could drop a max-age=0).
	maxHeaderValues = 100
)

// stringTooLong is a string member of an event over maxEventString, or
// a list over maxEventString or maxHeaderValues. It is a type error:
// decoding goes on, and the event is refused once it is read.
type stringTooLong struct{ what string }

func (e *stringTooLong) Error() string {
	if strings.HasPrefix(e.what, "multiValueHeaders.") {
		return e.what + " has more than " + strconv.Itoa(maxHeaderValues) + " values or " + strconv.Itoa(maxEventString) + " bytes"
	}
	return e.what + " is longer than " + strconv.Itoa(maxEventString) + " bytes"
}
