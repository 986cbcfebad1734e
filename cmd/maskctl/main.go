// Command maskctl calls the maskresolver resolve API — the deployed one or
// the local front of `make run` — with a payload from a file or stdin, and
// prints the response body. Two subcommands work offline, without AWS
// credentials or configuration: mask writes a mask, check lists the masks
// of a payload and reports the invalid ones.
//
//	maskctl [flags] [payload.json|-]
//	maskctl mask <key> <secret ARN>
//	maskctl check [payload.json|-]
//
// The payload is either a whole request ({"connection": …, "dry_run": …,
// "max_age": …}) or just the connection value, which maskctl wraps. The URL
// comes from --url, from the ApiUrl output of the CloudFormation stack
// named by --stack, or from MASKRESOLVER_URL. Requests are signed with
// SigV4 for execute-api with the default AWS credential chain. To a
// loopback host — the local front, which checks no signature — a request
// without credentials or region goes unsigned, with one note on stderr;
// the instance role is not asked for there.
//
// --max-age N asks for values read at most N seconds ago ("max_age": N),
// and --refresh, the same as --max-age 0, for every secret to be read
// again: what a caller wants when the credentials it was given just failed.
// Like --dry-run, they replace the request's own member; a note on stderr
// says when they changed its value.
//
// The subcommands are recognised only as the first argument, so a payload
// file named "mask" or "check" is passed as ./mask.
//
// The payload and the response may hold secrets, so they go to stdout only;
// stderr gets the status, the error code and message, and notes.
//
// Exit status: 0 on a 200; 1 on any other HTTP status (the body is still
// printed); 2 when nothing was sent because the arguments, the payload, the
// URL or the credentials are wrong; 3 on a network error or a timeout.
// mask exits 0, or 2 when the key or the ARN is wrong; check exits 0 when
// every mask is valid, 1 when any is not, 2 when the payload is unreadable.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
)

// Exit statuses.
const (
	exitOK      = 0
	exitStatus  = 1 // the API answered with a status other than 200
	exitInvalid = 1 // check: a mask is invalid
	exitUsage   = 2 // nothing was sent: bad flags, payload, URL or credentials
	exitNetwork = 3 // the request (or the stack lookup) did not get an answer
)

const (
	// defaultTimeout is above API Gateway's 30 s integration limit, so the
	// gateway's own 503/504 is seen rather than a client-side timeout.
	defaultTimeout = 35 * time.Second
	// envURL is the resolve URL when neither --url nor --stack is given.
	envURL = "MASKRESOLVER_URL"
	// apiURLOutput is the output of template.yaml that holds the URL.
	apiURLOutput = "ApiUrl"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is maskctl with the process's environment and AWS configuration.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return defaultCLI().run(ctx, args, stdin, stdout, stderr)
}

// cli holds what maskctl takes from its surroundings, so that tests can
// replace the environment, the AWS configuration and the clock.
type cli struct {
	getenv func(string) string
	// loadConfig returns the AWS configuration for the --region and
	// --profile flags (either may be empty).
	loadConfig func(ctx context.Context, region, profile string) (aws.Config, error)
	now        func() time.Time
	// transport is the HTTP transport for both APIs; nil is the default.
	transport http.RoundTripper
}

func defaultCLI() cli {
	return cli{getenv: os.Getenv, loadConfig: loadDefaultConfig, now: time.Now}
}

// loadDefaultConfig is the default credential chain and region, as the AWS
// CLI would resolve them.
func loadDefaultConfig(ctx context.Context, region, profile string) (aws.Config, error) {
	var opts []func(*config.LoadOptions) error
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	if profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(profile))
	}
	return config.LoadDefaultConfig(ctx, opts...)
}

// flags are maskctl's command-line settings.
type flags struct {
	url, stack      string
	region, profile string
	dryRun, pretty  bool
	maxAge          maxAge
	refresh         bool
	noSign          bool
	timeout         time.Duration
	payload         string // a file name, or "-" for stdin
}

func parseFlags(args []string, stderr io.Writer) (flags, error) {
	var f flags
	fs := flag.NewFlagSet("maskctl", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	fs.StringVar(&f.url, "url", "", "the resolve URL, e.g. https://<id>.execute-api.<region>.amazonaws.com/v1/resolve (default $"+envURL+")")
	fs.StringVar(&f.stack, "stack", "", "read the URL from the "+apiURLOutput+" output of this CloudFormation stack")
	fs.StringVar(&f.region, "region", "", "AWS region (default from AWS_REGION or the profile); an execute-api URL's own region wins for signing")
	fs.StringVar(&f.profile, "profile", "", "shared config profile for credentials (default AWS_PROFILE)")
	fs.BoolVar(&f.dryRun, "dry-run", false, `set "dry_run": true: check every mask without returning a value`)
	fs.Var(&f.maxAge, "max-age", "set \"max_age\": `N`: use no cached value read more than N seconds ago")
	fs.BoolVar(&f.refresh, "refresh", false, `the same as --max-age 0: read every secret again`)
	fs.BoolVar(&f.pretty, "pretty", false, "indent the JSON response")
	fs.BoolVar(&f.noSign, "no-sign", false, "send the request unsigned (for the local front that make run starts)")
	fs.DurationVar(&f.timeout, "timeout", defaultTimeout, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return f, err
	}
	switch fs.NArg() {
	case 0:
		f.payload = "-"
	case 1:
		f.payload = fs.Arg(0)
	default:
		return f, errors.New(payloadArgsError(fs.Args()))
	}
	if f.url != "" && f.stack != "" {
		return f, errors.New("--url and --stack exclude each other")
	}
	if f.timeout <= 0 {
		return f, fmt.Errorf("--timeout %s: must be positive", f.timeout)
	}
	if f.maxAge.set && f.maxAge.seconds < 0 {
		return f, fmt.Errorf("--max-age %d: must be 0 or more seconds", f.maxAge.seconds)
	}
	if f.refresh && f.maxAge.set {
		// Even --refresh --max-age 0, which agree: one way to say it
		// keeps scripts readable.
		return f, errors.New("--refresh and --max-age exclude each other (--refresh is --max-age 0)")
	}
	return f, nil
}

// sendOptions returns what the flags change in the request.
func (f flags) sendOptions() sendOptions {
	o := sendOptions{dryRun: f.dryRun, maxAge: f.maxAge, maxAgeFlag: "--max-age"}
	if f.refresh {
		o.maxAge, o.maxAgeFlag = maxAge{seconds: 0, set: true}, "--refresh"
	}
	return o
}

// usage heads the -h text of the main command.
const usage = `usage: maskctl [flags] [payload.json|-]
       maskctl mask <key> <secret ARN>
       maskctl check [payload.json|-]

Resolves the masks in a connection payload (a file, or stdin) with the maskresolver API.
The payload is a request {"connection": …, "dry_run": …, "max_age": …} or just the
connection value. --dry-run, --max-age and --refresh replace the request's own members.

  mask   prints the mask {{workato:sm:<key>:<secret ARN>}}, or says what is wrong
  check  lists the masks of a payload and reports the invalid ones, as the API would
Neither calls AWS. "maskctl mask -h" and "maskctl check -h" say more.

flags:
`

func (c cli) run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	// The subcommands run before anything else, so that they never load
	// the AWS configuration or read the environment.
	if len(args) > 0 {
		switch args[0] {
		case "mask":
			return runMask(args[1:], stdout, stderr)
		case "check":
			return runCheck(args[1:], stdin, stdout, stderr)
		}
	}
	f, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintln(stderr, "maskctl:", err)
		return exitUsage
	}

	in, closeIn, err := openPayload(f.payload, stdin)
	if err != nil {
		fmt.Fprintln(stderr, "maskctl:", err)
		return exitUsage
	}
	defer closeIn()
	body, note, err := readRequest(in, f.sendOptions())
	if err != nil {
		fmt.Fprintf(stderr, "maskctl: %s: %v\n", payloadName(f.payload), err)
		return exitUsage
	}
	if note != "" {
		fmt.Fprintln(stderr, "maskctl: note:", note)
	}

	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	cl := &client{
		http:       &http.Client{Transport: c.transport, CheckRedirect: noRedirects},
		now:        c.now,
		notes:      stderr,
		noSign:     f.noSign,
		loadConfig: func(ctx context.Context) (aws.Config, error) { return c.loadConfig(ctx, f.region, f.profile) },
	}

	target := f.url
	switch {
	case target != "":
	case f.stack != "":
		if target, err = cl.stackURL(ctx, f.stack); err != nil {
			return fail(stderr, err, f.timeout)
		}
	default:
		if target = c.getenv(envURL); target == "" {
			fmt.Fprintf(stderr, "maskctl: no URL: pass --url or --stack, or set %s\n", envURL)
			return exitUsage
		}
	}

	resp, err := cl.resolve(ctx, target, body)
	if err != nil {
		return fail(stderr, err, f.timeout)
	}
	if err := writeBody(stdout, resp.body, f.pretty); err != nil {
		fmt.Fprintln(stderr, "maskctl: write the response:", err)
		return exitNetwork
	}
	if resp.status != http.StatusOK {
		fmt.Fprintln(stderr, "maskctl:", summary(resp.status, resp.body))
		return exitStatus
	}
	return exitOK
}

// fail reports err and returns its exit status: exitNetwork for a network
// error or a timeout, exitUsage for anything that stopped maskctl before it
// could send.
func fail(stderr io.Writer, err error, timeout time.Duration) int {
	var ne *networkError
	if !errors.As(err, &ne) {
		fmt.Fprintln(stderr, "maskctl:", err)
		return exitUsage
	}
	if errors.Is(err, context.DeadlineExceeded) {
		fmt.Fprintf(stderr, "maskctl: %s %s: no answer within --timeout %s\n", ne.method, ne.url, timeout)
	} else {
		fmt.Fprintln(stderr, "maskctl:", err)
	}
	return exitNetwork
}

// payloadArgsError says what is wrong when more than one payload file is
// given. The usual cause is a flag written after the file: flag parsing
// stops at the first argument that is not a flag, so the flag is taken
// for a second file.
func payloadArgsError(args []string) string {
	msg := fmt.Sprintf("one payload file at most, got %d: %s", len(args), strings.Join(quoted(args), " "))
	for _, a := range args[1:] {
		if strings.HasPrefix(a, "-") && a != "-" {
			return msg + ": flags go before the payload file (" + strconv.Quote(a) + " came after it)"
		}
	}
	return msg
}

func quoted(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = strconv.Quote(a)
	}
	return out
}

// openPayload opens the payload named by arg: a file, or stdin for "-".
func openPayload(arg string, stdin io.Reader) (io.Reader, func(), error) {
	if arg == "-" {
		return stdin, func() {}, nil
	}
	file, err := os.Open(arg)
	if err != nil {
		return nil, nil, err
	}
	return file, func() { file.Close() }, nil
}

func payloadName(arg string) string {
	if arg == "-" {
		return "stdin"
	}
	return arg
}

func noRedirects(*http.Request, []*http.Request) error {
	// A redirect would carry a signature made for another URL; show the
	// 3xx instead.
	return http.ErrUseLastResponse
}
