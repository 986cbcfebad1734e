package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/maskresolver/maskresolver/internal/smfake"
)

// options are the devserver's settings; main fills them from flags.
type options struct {
	addr           string // the front's listen address
	secrets        string // seed file of the double
	bootstrap      string // the built function
	rie            string // a prebuilt emulator binary; "" runs `go tool aws-lambda-rie`
	secretsManager string // smFake or smAWS
	caller         string // principal ARN the IAM authorizer reports
	envVars        string // a SAM --env-vars file, or ""
	function       string // the function's logical id in that file
	invoke         string // a glob of event files: invoke each and exit

	stdout io.Writer // the URL, the curl lines, invoke results
	logs   io.Writer // the emulator's and the function's output
	// ready, when set, is told the front's and the emulator's URLs once
	// both accept requests.
	ready func(frontURL, emulatorURL string)
}

const shutdownTimeout = 5 * time.Second

// run starts the double (unless the real service is asked for), the
// function under the emulator and, unless o.invoke is set, the front. It
// returns when ctx ends or a part fails, after stopping every part.
func run(ctx context.Context, o options) (err error) {
	env := os.Environ()
	switch o.secretsManager {
	case smFake, "":
		sm := smfake.New()
		if err := sm.LoadFile(o.secrets); err != nil {
			return err
		}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return fmt.Errorf("listen for the Secrets Manager double: %w", err)
		}
		srv := &http.Server{Handler: sm, ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = srv.Serve(l) }()
		defer srv.Close()
		smURL := "http://" + l.Addr().String()
		fmt.Fprintf(o.logs, "devserver: Secrets Manager double on %s, seeded from %s\n", smURL, o.secrets)
		env = doubleEnv(env, smURL)
	case smAWS:
		if env, err = awsEnv(ctx, env); err != nil {
			return err
		}
		fmt.Fprintln(o.logs, "devserver: the function calls the real AWS Secrets Manager")
	default:
		return fmt.Errorf("secrets manager %q: want %q or %q", o.secretsManager, smFake, smAWS)
	}
	if env, err = withEnvVars(env, o.envVars, o.function); err != nil {
		return err
	}

	emu, err := startEmulator(ctx, o.rie, o.bootstrap, env, o.logs)
	if err != nil {
		return err
	}
	defer emu.stop()

	if o.invoke != "" {
		if o.ready != nil {
			o.ready("", emu.url)
		}
		return invokeFiles(ctx, emu.url, o.invoke, []string{o.secrets, o.envVars}, o.stdout)
	}

	l, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", o.addr, err)
	}
	fr := newFront(emu.url, o.caller)
	srv := &http.Server{
		Handler:           fr,
		ReadHeaderTimeout: 10 * time.Second,
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	frontURL := "http://" + l.Addr().String()
	printUsage(o.stdout, frontURL)
	if o.ready != nil {
		o.ready(frontURL, emu.url)
	}

	select {
	case <-ctx.Done():
	case err = <-served:
		err = fmt.Errorf("serve: %w", err)
	case <-emu.done:
		err = fmt.Errorf("%w: %v", errEmulatorExited, emu.err)
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if serr := srv.Shutdown(sctx); serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		srv.Close()
	}
	// An invocation whose client has gone may still be running: it ends
	// when the emulator stops.
	emu.stop()
	fr.wait()
	return err
}

// seedMask is the first secret of events/secrets.json.
const seedMask = "{{workato:sm:prod.jira.secret.key:arn:aws:secretsmanager:us-east-1:137149879143:secret:prod-jira-credentials-FsmeTs}}"

func printUsage(w io.Writer, url string) {
	body := `{"connection":{"client_secret":"` + seedMask + `"}}`
	dry := `{"connection":{"client_secret":"` + seedMask + `"},"dry_run":true}`
	fmt.Fprintf(w, "maskresolver is listening on %s/v1/resolve\n\n", url)
	fmt.Fprintf(w, "Resolve the seed example:\n  curl -s -X POST %s/v1/resolve -H 'content-type: application/json' -d '%s'\n\n", url, body)
	fmt.Fprintf(w, "Verify it without returning the value (dry run):\n  curl -s -X POST %s/v1/resolve -H 'content-type: application/json' -d '%s'\n\n", url, dry)
	fmt.Fprintln(w, "Press Ctrl-C to stop.")
}
