package api

import (
	"strings"

	"github.com/maskresolver/maskresolver/internal/jsonlex"
)

// event is an API Gateway event reduced to the members routing and
// resolving read, for both payload formats: HTTP API 2.0 (version,
// rawPath, requestContext.http, requestContext.authorizer.iam) and REST
// 1.0 (httpMethod, path, requestContext.identity). decodeEvent fills it in
// one pass over the event; every other member is checked and skipped.
type event struct {
	Version    string
	HTTPMethod *string // nil when absent: tells a REST event from the request itself
	RawPath    string
	Path       string
	// CacheControl is headers' cache-control, MultiValueCacheControl
	// multiValueHeaders' (REST events only).
	CacheControl           string
	MultiValueCacheControl []string
	RequestContext         struct {
		Stage      string
		HTTPMethod string // requestContext.http.method
		HTTPPath   string // requestContext.http.path
		// IAMUserARN is requestContext.authorizer.iam.userArn; HasIAM
		// says whether authorizer.iam was there.
		IAMUserARN string
		HasIAM     bool
		// IdentityUserARN is requestContext.identity.userArn (REST).
		IdentityUserARN string
	}
	// Body is the body string decoded straight into bytes, without the
	// string (and the copy of it) that a string member would cost.
	Body            []byte
	IsBase64Encoded bool
}

// request reduces the decoded event to a request.
func (ev *event) request() (request, []byte, bool) {
	rc := &ev.RequestContext
	if ev.Version == "2.0" {
		r := request{source: httpAPI, method: rc.HTTPMethod, path: ev.RawPath, cacheControl: ev.CacheControl}
		if r.path == "" {
			r.path = rc.HTTPPath
		}
		// A named stage prefixes the raw path; $default does not.
		if st := rc.Stage; st != "" && st != "$default" {
			r.path = strings.TrimPrefix(r.path, "/"+st)
		}
		if rc.HasIAM {
			r.caller = rc.IAMUserARN
		}
		return r, ev.Body, ev.IsBase64Encoded
	}
	r := request{source: restAPI, method: *ev.HTTPMethod, path: ev.Path, caller: rc.IdentityUserARN,
		cacheControl: ev.CacheControl}
	if mv := ev.MultiValueCacheControl; len(mv) > 0 {
		r.cacheControl = strings.Join(mv, ",")
	}
	return r, ev.Body, ev.IsBase64Encoded
}

// decodeEvent reads an API Gateway event in one pass, with the rules
// encoding/json applies when it decodes into a struct, so that an event
// means what it meant when the function used it: member names match
// case-insensitively (REST events keep header names as sent); a later
// duplicate member wins; null leaves a member as it was (and clears
// httpMethod and authorizer); a member of the wrong type is an error that
// does not stop the decoding, and the first such error is returned once
// the whole event is read. Text that is not JSON is an *eventSyntaxError
// and nothing else is decoded.
//
// A body that is not a string is a type error like any other: decoding
// goes on, so the members after it (a version, an httpMethod) are still
// read and the 400 takes the shape of the event they say it is.
//
// Unlike encoding/json it does not check the rest of the event before
// decoding it, nor scan the body string twice: the body is most of a
// large event.
func decodeEvent(b []byte) (event, error) {
	var ev event
	d := jsonDecoder{buf: b}
	d.space()
	var err error
	switch {
	case d.null():
		// encoding/json decodes null into a struct as nothing.
	case d.peek() == '{':
		err = d.object(func(name []byte) error { return d.eventMember(&ev, name) })
	default:
		err = d.wrongType("the event", "an object")
	}
	if err != nil {
		return event{}, err
	}
	d.space()
	if d.pos < len(b) {
		return event{}, d.syntaxError("invalid character " + jsonlex.QuoteByte(b[d.pos]) + " after the event")
	}
	return ev, d.typeErr
}

// eventMember decodes the event's member named name.
func (d *jsonDecoder) eventMember(ev *event, name []byte) error {
	switch {
	case fold(name, "version"):
		return d.str(&ev.Version, "version")
	case fold(name, "httpMethod"):
		return d.strPtr(&ev.HTTPMethod, "httpMethod")
	case fold(name, "rawPath"):
		return d.str(&ev.RawPath, "rawPath")
	case fold(name, "path"):
		return d.str(&ev.Path, "path")
	case fold(name, "headers"):
		return d.members("headers", func(name []byte) error {
			if fold(name, "cache-control") {
				return d.str(&ev.CacheControl, "headers.cache-control")
			}
			return d.skip()
		})
	case fold(name, "multiValueHeaders"):
		return d.members("multiValueHeaders", func(name []byte) error {
			if fold(name, "cache-control") {
				return d.strs(&ev.MultiValueCacheControl, "multiValueHeaders.cache-control")
			}
			return d.skip()
		})
	case fold(name, "requestContext"):
		return d.requestContext(ev)
	case fold(name, "body"):
		return d.body(&ev.Body)
	case fold(name, "isBase64Encoded"):
		return d.boolean(&ev.IsBase64Encoded, "isBase64Encoded")
	}
	return d.skip()
}

func (d *jsonDecoder) requestContext(ev *event) error {
	rc := &ev.RequestContext
	return d.members("requestContext", func(name []byte) error {
		switch {
		case fold(name, "stage"):
			return d.str(&rc.Stage, "requestContext.stage")
		case fold(name, "http"):
			return d.members("requestContext.http", func(name []byte) error {
				switch {
				case fold(name, "method"):
					return d.str(&rc.HTTPMethod, "requestContext.http.method")
				case fold(name, "path"):
					return d.str(&rc.HTTPPath, "requestContext.http.path")
				}
				return d.skip()
			})
		case fold(name, "authorizer"):
			// A pointer in the event's Go model: null clears it.
			if d.null() {
				rc.HasIAM, rc.IAMUserARN = false, ""
				return nil
			}
			return d.members("requestContext.authorizer", func(name []byte) error {
				if !fold(name, "iam") {
					return d.skip()
				}
				if d.null() {
					rc.HasIAM, rc.IAMUserARN = false, ""
					return nil
				}
				if d.peek() == '{' && !rc.HasIAM {
					rc.HasIAM, rc.IAMUserARN = true, ""
				}
				return d.members("requestContext.authorizer.iam", func(name []byte) error {
					if fold(name, "userArn") {
						return d.str(&rc.IAMUserARN, "requestContext.authorizer.iam.userArn")
					}
					return d.skip()
				})
			})
		case fold(name, "identity"):
			return d.members("requestContext.identity", func(name []byte) error {
				if fold(name, "userArn") {
					return d.str(&rc.IdentityUserARN, "requestContext.identity.userArn")
				}
				return d.skip()
			})
		}
		return d.skip()
	})
}

// body decodes the body string into bytes; null leaves it as it was.
func (d *jsonDecoder) body(dst *[]byte) error {
	if d.null() {
		return nil
	}
	if d.peek() != '"' {
		return d.wrongType("body", "a string")
	}
	raw, esc, err := d.stringToken()
	if err != nil {
		return err
	}
	if !esc {
		*dst = append([]byte(nil), raw...)
		return nil
	}
	*dst = jsonlex.AppendUnescaped(make([]byte, 0, len(raw)), raw)
	return nil
}
