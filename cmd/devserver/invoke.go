package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
)

// invokeFiles posts each event file matching glob straight to the emulator,
// as `sam local invoke -e <file>` does, and prints the function's result.
// Files in skip (the seed and env-vars files), and any named secrets.json or
// env.json, are not events.
func invokeFiles(ctx context.Context, emulatorURL, glob string, skip []string, out io.Writer) error {
	files, err := filepath.Glob(glob)
	if err != nil {
		return fmt.Errorf("invoke %q: %w", glob, err)
	}
	skipAbs := make([]string, 0, len(skip))
	for _, s := range skip {
		if s == "" {
			continue
		}
		if a, err := filepath.Abs(s); err == nil {
			skipAbs = append(skipAbs, a)
		}
	}
	var events []string
	for _, f := range files {
		a, err := filepath.Abs(f)
		base := filepath.Base(f)
		if err != nil || slices.Contains(skipAbs, a) || base == "secrets.json" || base == "env.json" {
			continue
		}
		events = append(events, f)
	}
	if len(events) == 0 {
		return fmt.Errorf("invoke %q: no event files", glob)
	}
	client := &http.Client{}
	url := emulatorURL + invokePath
	for _, f := range events {
		payload, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		raw, err := invokeEmulator(ctx, client, url, payload)
		if err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		fmt.Fprintf(out, "==> %s\n%s\n", f, pretty(raw))
	}
	return nil
}

// pretty indents a JSON result; anything else is shown as it came.
func pretty(raw []byte) []byte {
	var buf bytes.Buffer
	if json.Indent(&buf, raw, "", "  ") != nil {
		return raw
	}
	return buf.Bytes()
}
