package samtemplate_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestSamconfig(t *testing.T) {
	t.Parallel()
	vals, comments := readSamconfig(t)
	for k, v := range map[string]string{
		"version":                                     "0.1",
		"default.global.parameters.stack_name":        `"maskresolver"`,
		"default.build.parameters.cached":             "true",
		"default.build.parameters.parallel":           "true",
		"default.deploy.parameters.capabilities":      `"CAPABILITY_IAM"`,
		"default.deploy.parameters.confirm_changeset": "true",
		"default.deploy.parameters.resolve_s3":        "true",
		"default.deploy.parameters.s3_prefix":         `"maskresolver"`,
		"default.local_invoke.parameters.env_vars":    `"events/env.json"`,
	} {
		if vals[k] != v {
			t.Errorf("%s: %s = %s, want %s", samconfigPath, k, vals[k], v)
		}
	}
	// The region comes from the user's profile, never from the repository.
	for k := range vals {
		if strings.HasSuffix(k, ".region") {
			t.Errorf("%s sets %s: leave the region to the AWS profile", samconfigPath, k)
		}
	}
	// Every path the file names must exist.
	for k, v := range vals {
		if strings.HasSuffix(k, ".env_vars") || strings.HasSuffix(k, ".template_file") || strings.HasSuffix(k, ".event") {
			p, err := strconv.Unquote(v)
			if err != nil {
				t.Errorf("%s: %s = %s is not a string", samconfigPath, k, v)
				continue
			}
			if _, err := os.Stat(filepath.Join(repoRoot, p)); err != nil {
				t.Errorf("%s: %s names %s: %v", samconfigPath, k, p, err)
			}
		}
	}
	// The commented parameter_overrides examples must name real parameters.
	params := node(t, rawTemplate(t), "Parameters")
	n := 0
	for _, c := range comments {
		k, v, ok := strings.Cut(c, "=")
		if !ok || strings.TrimSpace(k) != "parameter_overrides" {
			continue
		}
		n++
		s, err := strconv.Unquote(strings.TrimSpace(v))
		if err != nil {
			t.Errorf("%s: example %q is not a TOML string", samconfigPath, c)
			continue
		}
		for _, kv := range strings.Fields(s) {
			name, _, _ := strings.Cut(kv, "=")
			if lookup(params, name) == nil {
				t.Errorf("%s: example parameter_overrides names %s, not a template parameter", samconfigPath, name)
			}
		}
	}
	if n == 0 {
		t.Errorf("%s has no commented parameter_overrides example", samconfigPath)
	}
}
