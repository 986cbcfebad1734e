// Package scopes runs the scopes of one execution environment: named IAM
// roles, each assumed with an optional external id, that read the secrets
// of the requests naming them (see docs/ for the multi-account story).
//
// A Registry holds the current scopes document — SCOPES, parsed at cold
// start, or the SecretString of SCOPES_SECRET_ARN, read at construction and
// again lazily once CACHE_TTL has passed — and, per scope and per (role,
// external id), the credentials of sts:AssumeRole in an
// aws.CredentialsCache, in a bounded LRU.
//
// The request path asks Open whether a caller may use a scope (an unknown
// scope and a closed one give the very same answer, so that names cannot
// be probed), then Ready for the scope's credentials before any read, and
// reads with Handle.Credentials in the scope's own Partition of the cache.
// IsScopesSecret tells the scopes secret in any spelling of its ARN, so
// that no mask can resolve it.
//
// The external id is a secret shared with the role's owner: it goes to
// STS and nowhere else. No error, log line, trace annotation or printed
// form of this package's types carries it, nor any of STS's own error
// messages: only the role's ARN and STS's error code.
package scopes
