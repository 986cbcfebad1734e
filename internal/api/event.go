package api

import (
	"bytes"
	"errors"
	"strings"

	"github.com/maskresolver/maskresolver/internal/resolve"
)

// event is an API Gateway event reduced to the members routing and
// resolving read, for both payload formats: HTTP API 2.0 (version,
// rawPath, requestContext.http, requestContext.authorizer.iam) and REST
// 1.0 (httpMethod, path, requestContext.identity). Decoding into it is the
// one pass over an event; every other member is skipped.
type event struct {
	Version    string  `json:"version"`
	HTTPMethod *string `json:"httpMethod"`
	RawPath    string  `json:"rawPath"`
	Path       string  `json:"path"`
	// Header names match case-insensitively (encoding/json's rule), as
	// HTTP header names do: HTTP API events lower-case them, REST events
	// keep them as sent.
	Headers struct {
		CacheControl string `json:"cache-control"`
	} `json:"headers"`
	MultiValueHeaders struct {
		CacheControl []string `json:"cache-control"`
	} `json:"multiValueHeaders"`
	RequestContext struct {
		Stage string `json:"stage"`
		HTTP  struct {
			Method string `json:"method"`
			Path   string `json:"path"`
		} `json:"http"`
		Authorizer *struct {
			IAM *struct {
				UserARN string `json:"userArn"`
			} `json:"iam"`
		} `json:"authorizer"`
		Identity struct {
			UserARN string `json:"userArn"`
		} `json:"identity"`
	} `json:"requestContext"`
	Body            bodyText `json:"body"`
	IsBase64Encoded bool     `json:"isBase64Encoded"`
}

// bodyText decodes the event's body string straight into bytes, without
// the string (and the copy of it) that a string field would cost.
type bodyText []byte

func (b *bodyText) UnmarshalJSON(raw []byte) error {
	if bytes.Equal(raw, []byte("null")) {
		return nil
	}
	if len(raw) < 2 || raw[0] != '"' {
		return errors.New("body is not a string")
	}
	// encoding/json has already checked the whole event, so raw is a
	// valid string token.
	*b = resolve.AppendUnescaped(make([]byte, 0, len(raw)-2), raw[1:len(raw)-1])
	return nil
}

// request reduces the decoded event to a request.
func (ev *event) request() (request, []byte, bool) {
	if ev.Version == "2.0" {
		r := request{source: httpAPI, method: ev.RequestContext.HTTP.Method, path: ev.RawPath, cacheControl: ev.Headers.CacheControl}
		if r.path == "" {
			r.path = ev.RequestContext.HTTP.Path
		}
		// A named stage prefixes the raw path; $default does not.
		if st := ev.RequestContext.Stage; st != "" && st != "$default" {
			r.path = strings.TrimPrefix(r.path, "/"+st)
		}
		if az := ev.RequestContext.Authorizer; az != nil && az.IAM != nil {
			r.caller = az.IAM.UserARN
		}
		return r, ev.Body, ev.IsBase64Encoded
	}
	r := request{source: restAPI, method: *ev.HTTPMethod, path: ev.Path, caller: ev.RequestContext.Identity.UserARN,
		cacheControl: ev.Headers.CacheControl}
	if mv := ev.MultiValueHeaders.CacheControl; len(mv) > 0 {
		r.cacheControl = strings.Join(mv, ",")
	}
	return r, ev.Body, ev.IsBase64Encoded
}
