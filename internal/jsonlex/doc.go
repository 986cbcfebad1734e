// Package jsonlex holds the JSON lexer (RFC 8259) that the event decoder
// (api), the request scanner (resolve) and the secret indexer (secrets)
// share: whitespace, literals, the one number grammar, string tokens with
// their escapes (scanning, unescaping, escaping), and skipping whole values
// of text already known to be valid.
//
// It owns the tokens, not the documents: each user keeps its own grammar
// (which members it reads, what depth it allows, what it says about a
// mistake) and calls these functions for the tokens inside it. They work on
// a byte slice and an offset and keep no state, so a caller's loop stays
// its own and the small ones inline into it.
//
// This is the seam for Go's encoding/json/jsontext once that package leaves
// GOEXPERIMENT: measured on this code's hot paths it is 1.1–1.5× slower than
// this hand lexer, so not yet.
package jsonlex
