package config_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/maskresolver/maskresolver/internal/config"
)

// stsSessionName is STS's rule for a RoleSessionName.
var stsSessionName = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)

func TestRoleSessionName(t *testing.T) {
	t.Parallel()
	name64 := strings.Repeat("s", 64)
	fn64 := "maskresolver-prod-" + strings.Repeat("f", 46)
	tests := []struct {
		function, scope, want string
	}{
		{"maskresolver-prod", "tenant-a", "maskresolver-prod@tenant-a"},
		{"maskresolver-prod", "a", "maskresolver-prod@a"},
		{"fn_1", "A.b_c-9", "fn_1@A.b_c-9"},
		// The scope's name is whole; the function's is cut to fit 64.
		{fn64, "tenant-a", fn64[:64-len("@tenant-a")] + "@tenant-a"},
		{fn64, strings.Repeat("s", 60), "mas@" + strings.Repeat("s", 60)},
		{fn64, strings.Repeat("s", 62), "m@" + strings.Repeat("s", 62)},
		// No room for even one character of the function's name.
		{fn64, strings.Repeat("s", 63), strings.Repeat("s", 63)},
		{fn64, name64, name64},
		{"maskresolver-prod", name64, name64},
		// Unset outside Lambda.
		{"", "tenant-a", "maskresolver@tenant-a"},
		// Characters STS refuses become '-', "@" included.
		{"my fn/é", "tenant-a", "my-fn---@tenant-a"},
		{"a@b", "tenant-a", "a-b@tenant-a"},
	}
	for _, tt := range tests {
		got := config.RoleSessionName(tt.function, tt.scope)
		if got != tt.want {
			t.Errorf("RoleSessionName(%q, %q) = %q, want %q", tt.function, tt.scope, got, tt.want)
		}
		if !stsSessionName.MatchString(got) {
			t.Errorf("RoleSessionName(%q, %q) = %q, which STS refuses", tt.function, tt.scope, got)
		}
	}
}

func FuzzRoleSessionName(f *testing.F) {
	f.Add("maskresolver-prod", "tenant-a")
	f.Add("", "a")
	f.Add(strings.Repeat("f", 64), strings.Repeat("s", 64))
	f.Fuzz(func(t *testing.T, function, scope string) {
		if len(scope) > 64 || strings.Trim(scope, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != "" || scope == "" {
			return // not a scope name
		}
		got := config.RoleSessionName(function, scope)
		if !stsSessionName.MatchString(got) {
			t.Fatalf("RoleSessionName(%q, %q) = %q, which STS refuses", function, scope, got)
		}
		if got != scope && !strings.HasSuffix(got, "@"+scope) {
			t.Fatalf("RoleSessionName(%q, %q) = %q does not hold the scope whole", function, scope, got)
		}
	})
}
