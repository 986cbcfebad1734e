package secrets

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"

	"github.com/maskresolver/maskresolver/internal/answer"
)

// Error is a failed read of one secret. Its Error text carries the SDK's
// detail for the log; Message is the text safe to return to a caller, which
// names the secret but not the function's role or account internals.
type Error struct {
	// Code is the class of the failure, one of the read codes of answer.
	Code answer.Code
	ARN  string
	Err  error
	// Transient is true for failures that may pass on their own (throttling,
	// a 5xx, a timeout), the only ones a stale cached value may paper over.
	Transient bool
}

func (e *Error) Error() string { return fmt.Sprintf("read %s: %s: %v", e.ARN, e.Code, e.Err) }

func (e *Error) Unwrap() error { return e.Err }

// Message describes the failure for the caller.
func (e *Error) Message() string {
	switch e.Code {
	case answer.SecretNotFound:
		return "secret not found (or marked for deletion)"
	case answer.AccessDenied:
		return "the role that reads this request's secrets (the function's own, or its scope's) may not read this secret"
	case answer.DecryptionFailure:
		return "Secrets Manager could not decrypt the secret with its KMS key"
	case answer.Throttled:
		return "Secrets Manager throttled the read after retries"
	case answer.Timeout:
		return "the read did not finish before the request's deadline"
	default:
		return "Secrets Manager failed after retries"
	}
}

// classify sorts an SDK error into a Code by its modelled type or API error
// code, never by message text. Deleted secrets arrive as
// InvalidRequestException and are told apart by the caller with
// DescribeSecret, since the exception alone does not say why.
func classify(arn string, err error) *Error {
	e := &Error{ARN: arn, Err: err, Code: answer.UpstreamError}
	var (
		notFound *types.ResourceNotFoundException
		decrypt  *types.DecryptionFailure
		internal *types.InternalServiceError
		apiErr   smithy.APIError
		netErr   net.Error
		code     string
	)
	// The entries of a BatchGetSecretValue reply carry only an error
	// code, so each class is recognised by its modelled type or its code.
	if errors.As(err, &apiErr) {
		code = apiErr.ErrorCode()
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		e.Code, e.Transient = answer.Timeout, true
	case errors.As(err, &notFound), code == "ResourceNotFoundException":
		e.Code = answer.SecretNotFound
	case errors.As(err, &decrypt), code == "DecryptionFailure":
		e.Code = answer.DecryptionFailure
	case errors.As(err, &internal), code == "InternalServiceError":
		e.Transient = true
	case code == "AccessDeniedException":
		e.Code = answer.AccessDenied
	case retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err).Bool():
		e.Code, e.Transient = answer.Throttled, true
	case errors.As(err, &netErr) && netErr.Timeout():
		e.Code, e.Transient = answer.Timeout, true
	case httpStatus(err) >= 500:
		// Any other 5xx — ServiceUnavailable, InternalFailure, a proxy's
		// bare 502 — is trouble on the far side that may pass.
		e.Transient = true
	case code != "":
		// Another modelled error: a 4xx the function cannot fix by waiting.
	default:
		// Connection resets and truncated replies (both retried by the
		// store's retryer) or a malformed reply: transport trouble.
		e.Transient = true
	}
	return e
}

// httpStatus is the HTTP status of the reply behind err, or 0.
func httpStatus(err error) int {
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}
