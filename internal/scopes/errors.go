package scopes

import (
	"context"
	"errors"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"

	"github.com/maskresolver/maskresolver/internal/answer"
)

// Error is a failure to get a scope's credentials, from Handle.Ready. Its
// text names the scope, the role and STS's error code, and nothing else:
// never the SDK's or STS's message, never the external id. It is safe to
// return to the caller who named the scope.
type Error struct {
	// Code is answer.ScopeUnavailable, answer.Throttled or
	// answer.Timeout. (answer.ScopeNotAllowed is the request path's
	// answer when Open reports false: the caller may not use the scope,
	// or there is no such scope.)
	Code answer.Code
	// Scope is the scope's name.
	Scope string
	// RoleARN is the role that could not be assumed.
	RoleARN string
	// STSCode is the error code STS answered ("AccessDenied",
	// "Throttling", "RegionDisabledException", ...), or "" when there was
	// no valid answer.
	STSCode string
	// Remembered reports that no call was made: a refusal less than
	// CACHE_NOT_FOUND_TTL old answered instead. The text is the same as
	// the refusal's.
	Remembered bool
}

func (e *Error) Error() string {
	head := "scope " + strconv.Quote(e.Scope) + ": "
	switch e.Code {
	case answer.Throttled:
		return head + "STS throttled sts:AssumeRole of " + e.RoleARN + " past the retries"
	case answer.Timeout:
		return head + "the deadline passed while assuming " + e.RoleARN
	}
	if e.STSCode == "" {
		return head + "sts:AssumeRole of " + e.RoleARN + " failed: no valid answer from STS"
	}
	return head + "sts:AssumeRole of " + e.RoleARN + " failed: STS answered " + e.STSCode
}

var throttles = retry.IsErrorThrottles(retry.DefaultThrottles)

// classify sorts a failed AssumeRole by the error's type and code, never
// by its text, which is not kept.
func classify(scope, roleARN string, err error) *Error {
	e := &Error{Code: answer.ScopeUnavailable, Scope: scope, RoleARN: roleARN, STSCode: apiCode(err)}
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		e.Code = answer.Timeout
	case throttles.IsErrorThrottle(err).Bool():
		e.Code = answer.Throttled
	}
	return e
}

// maxCodeLen bounds an error code taken from an answer.
const maxCodeLen = 64

// apiCode is the error code of an API error, or "" when err carries none
// or one that is not a plain identifier: the code is copied into errors
// and logs, so whatever answered (a proxy, say) cannot put text there.
//
//	Code := [A-Za-z0-9._]{1,64}
func apiCode(err error) string {
	var api smithy.APIError
	if !errors.As(err, &api) {
		return ""
	}
	c := api.ErrorCode()
	if c == "" || len(c) > maxCodeLen {
		return ""
	}
	for i := 0; i < len(c); i++ {
		if b := c[i]; !('a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || b == '.' || b == '_') {
			return ""
		}
	}
	return c
}
