package api

import (
	"net/http"

	"github.com/maskresolver/maskresolver/internal/resolve"
	"github.com/maskresolver/maskresolver/internal/secrets"
)

// Codes of the route and size checks and of a recovered panic.
const (
	codeNotFound         resolve.Code = "NotFound"
	codeMethodNotAllowed resolve.Code = "MethodNotAllowed"
	codePayloadTooLarge  resolve.Code = "PayloadTooLarge"
	codeInternalError    resolve.Code = "InternalError"
)

// status is the one place an error class becomes an HTTP status.
func status(c resolve.Code) int {
	switch c {
	case resolve.CodeInvalidRequest:
		return http.StatusBadRequest
	case codePayloadTooLarge:
		return http.StatusRequestEntityTooLarge
	case resolve.CodeInvalidMask, resolve.CodeSecretNotAllowed, resolve.CodeSecretNotKeyValue,
		resolve.CodeKeyNotFound, resolve.CodeTooManyMasks, resolve.CodeResponseTooLarge,
		resolve.Code(secrets.CodeNotFound), resolve.Code(secrets.CodeAccessDenied):
		return http.StatusUnprocessableEntity
	case resolve.Code(secrets.CodeDecryptionFailure), resolve.Code(secrets.CodeUpstream):
		return http.StatusBadGateway
	case resolve.Code(secrets.CodeThrottled), resolve.Code(secrets.CodeTimeout):
		return http.StatusServiceUnavailable
	case codeNotFound:
		return http.StatusNotFound
	case codeMethodNotAllowed:
		return http.StatusMethodNotAllowed
	default:
		return http.StatusInternalServerError
	}
}

// worst is the status of a request whose masks failed with codes: the
// highest status wins, so a 5xx outranks a 4xx.
func worst(codes []resolve.Code) int {
	s := 0
	for _, c := range codes {
		s = max(s, status(c))
	}
	return s
}
