package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/maskresolver/maskresolver/internal/mask"
)

const maskUsage = `usage: maskctl mask <key> <secret ARN>

Prints the mask {{workato:sm:<key>:<secret ARN>}} for a key of a secret's JSON
SecretString, or says what is wrong with the key or the ARN (exit 2). The key is
not the secret's name; it may hold any character but "}". The ARN is
arn:<partition>:secretsmanager:<region>:<account>:secret:<name>, with or without
the six-character suffix. A key that starts with "-" goes after "--":

  maskctl mask -- -key arn:aws:secretsmanager:…
`

// runMask is `maskctl mask`. It needs no AWS configuration: a mask is
// checked against the grammar only, not against Secrets Manager.
func runMask(args []string, stdout, stderr io.Writer) int {
	fs, code, ok := parseSubcommand("mask", maskUsage, args, stderr)
	if !ok {
		return code
	}
	if fs.NArg() != 2 {
		fmt.Fprintf(stderr, "maskctl mask: %s\nusage: maskctl mask <key> <secret ARN> (maskctl mask -h says more)\n", maskArgsError(fs.Args()))
		return exitUsage
	}
	key, arn := fs.Arg(0), fs.Arg(1)
	m, err := buildMask(key, arn)
	if err != nil {
		fmt.Fprintln(stderr, "maskctl mask:", err)
		return exitUsage
	}
	if strings.TrimFunc(key, unicode.IsSpace) != key {
		// Legal, and so not an error, but far more often a stray quote
		// or paste than a key the secret really has.
		fmt.Fprintf(stderr, "maskctl mask: note: the key %s begins or ends with white space; it must match the secret's key exactly\n", strconv.Quote(key))
	}
	fmt.Fprintln(stdout, m)
	return exitOK
}

// maskArgsError says what is wrong with mask's arguments when they are not
// two, and what to do about it.
func maskArgsError(args []string) string {
	switch len(args) {
	case 0:
		return "want a key and a secret ARN, got neither"
	case 1:
		if _, err := mask.ParseARN(args[0]); err == nil {
			return "want a key and a secret ARN, got only the ARN: put the key, a member of the secret's JSON SecretString, before it"
		}
		return "want a key and a secret ARN, got one argument: put the secret's ARN after the key"
	}
	msg := fmt.Sprintf("want a key and a secret ARN, got %d arguments", len(args))
	for _, a := range args[1:] {
		if strings.HasPrefix(a, "-") {
			return msg + ": flags go before the key (" + strconv.Quote(a) + " came after it)"
		}
	}
	return msg + `: quote a key that holds spaces ('my key')`
}

// buildMask returns the mask for key in the secret arn. The key's own rules
// are checked first, then the ARN alone with the grammar's ParseARN, so an
// error names the part that is wrong and an offset within it; last the
// whole mask is parsed, so that what is printed is exactly what the
// function accepts.
//
// The ARN is checked alone first because a mask is split from the right:
// an ARN short of a field would borrow the key's last colon-separated
// field, and the grammar would blame the key for the ARN's fault.
func buildMask(key, arn string) (string, error) {
	switch {
	case key == "":
		return "", errors.New("the key is empty: want the name of a member of the secret's JSON SecretString")
	case !utf8.ValidString(key):
		// A SecretString is JSON, whose member names are UTF-8: such a
		// key could never be found.
		return "", fmt.Errorf("the key %s is not valid UTF-8", strconv.Quote(key))
	}
	if i := strings.IndexByte(key, '}'); i >= 0 {
		return "", fmt.Errorf(`the key %s holds "}" at byte %d: a mask ends at its first "}", so no key can hold one`, strconv.Quote(key), i)
	}
	if _, err := mask.ParseARN(arn); err != nil {
		msg := "the secret ARN " + strconv.Quote(arn) + ": " + grammarReason(err)
		if _, keyErr := mask.ParseARN(key); keyErr == nil {
			msg += " (the key is an ARN: the order is <key> <secret ARN>)"
		}
		return "", errors.New(msg)
	}
	s := mask.Prefix + key + ":" + arn + "}}"
	m, err := mask.Parse(s)
	if err != nil {
		return "", fmt.Errorf("the mask %s is not valid: %w", s, err)
	}
	if m.Key != key || m.ARN.String() != arn {
		// Not reachable while the checks above stand for the grammar;
		// kept so that a change there cannot print a mask that means
		// another key or secret.
		return "", fmt.Errorf("the mask %s reads back as key %s in %s", s, strconv.Quote(m.Key), m.ARN)
	}
	return s, nil
}

// grammarReason is a grammar error as "<reason> (at byte N)".
func grammarReason(err error) string {
	var me *mask.Error
	if errors.As(err, &me) {
		return me.Reason + " (at byte " + strconv.Itoa(me.Offset) + ")"
	}
	return err.Error()
}

// parseSubcommand parses a subcommand's arguments (it has no flags but -h).
// When ok is false the caller exits with code: 0 after -h printed usage,
// exitUsage after a bad flag.
func parseSubcommand(name, usage string, args []string, stderr io.Writer) (fs *flag.FlagSet, code int, ok bool) {
	fs = flag.NewFlagSet("maskctl "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(fs.Output(), usage) }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, exitOK, false
		}
		return nil, exitUsage, false
	}
	return fs, 0, true
}
