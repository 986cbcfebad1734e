package samtemplate_test

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestProvisionedConcurrency: the function always has the "live" alias,
// which the API invokes (TestSamTranslation); the alias gets provisioned
// concurrency only when the parameter asks for some
// (TestProvisionedConcurrencyTranslated reads SAM's output).
func TestProvisionedConcurrency(t *testing.T) {
	t.Parallel()
	fn := resolverFunction(t, loadTemplate(t, nil))
	if deref(fn.AutoPublishAlias) != "live" {
		t.Errorf("AutoPublishAlias = %q, want live", deref(fn.AutoPublishAlias))
	}
	if fn.ProvisionedConcurrencyConfig != nil {
		t.Errorf("ProvisionedConcurrencyConfig = %+v by default, want none", *fn.ProvisionedConcurrencyConfig)
	}
	// Parameter values reach the template as strings.
	// goformation models the executions as a string, ReservedConcurrentExecutions as an int.
	fn = resolverFunction(t, loadTemplate(t, map[string]any{"ProvisionedConcurrency": "5", "ReservedConcurrency": 10}))
	if pc := fn.ProvisionedConcurrencyConfig; pc == nil || pc.ProvisionedConcurrentExecutions != "5" {
		t.Errorf("ProvisionedConcurrencyConfig = %+v with ProvisionedConcurrency 5, want 5 executions", pc)
	}
	if deref(fn.AutoPublishAlias) != "live" {
		t.Errorf("AutoPublishAlias = %q with ProvisionedConcurrency 5, want live", deref(fn.AutoPublishAlias))
	}

	root := rawTemplate(t)
	props := node(t, root, "Resources", "ResolverFunction", "Properties")
	// SAM takes a string or a Ref to a parameter here, never an !If: the
	// alias cannot come and go with the condition.
	assertScalar(t, node(t, props, "AutoPublishAlias"), "AutoPublishAlias", "!!str", "live")
	then, els := assertIf(t, node(t, props, "ProvisionedConcurrencyConfig"), "ProvisionedConcurrencyConfig", "HasProvisionedConcurrency")
	if then.Kind != yaml.MappingNode || len(then.Content) != 2 {
		t.Errorf("ProvisionedConcurrencyConfig then is not {ProvisionedConcurrentExecutions: ...}")
	}
	assertScalar(t, node(t, then, "ProvisionedConcurrentExecutions"), "ProvisionedConcurrentExecutions", "!Ref", "ProvisionedConcurrency")
	assertScalar(t, els, "ProvisionedConcurrencyConfig else", "!Ref", "AWS::NoValue")

	param, zero := assertNotEquals(t, node(t, root, "Conditions", "HasProvisionedConcurrency"), "HasProvisionedConcurrency")
	assertScalar(t, param, "HasProvisionedConcurrency[0]", "!Ref", "ProvisionedConcurrency")
	assertScalar(t, zero, "HasProvisionedConcurrency[1]", "!!str", "0")
}

// versionUnnamed lists the parameters that shape the function's published
// configuration but that its VersionDescription cannot name: their values
// have no useful bound and Lambda caps the description at 256 characters.
// A deploy that changes only these leaves the alias, which the API invokes,
// on the old version unless it also changes ConfigRevision.
var versionUnnamed = []string{"SecretArnAllowlist", "ScopedSecretArnPatterns", "CallerRules", "PrefetchSecretArns", "MetricsNamespace", "Scopes", "ScopesSecretArn"}

// unversioned lists the function's properties that a published version does
// not capture: the function's own concurrency, the alias's, the role, how
// CodeDeploy moves the alias.
var unversioned = []string{"ReservedConcurrentExecutions", "ProvisionedConcurrencyConfig", "Policies", "VersionDescription", "DeploymentPreference"}

// TestVersionFollowsParameters: SAM publishes a version when its hash of the
// function's properties changes, and hashes parameter references unresolved
// (aws/serverless-application-model#3820). The version's description, which
// CloudFormation cannot update in place, names the parameter values, so a
// change of one replaces the version and moves the alias, which the API
// invokes. Every parameter the
// published configuration reads must be named, or listed in versionUnnamed
// and covered by ConfigRevision.
func TestVersionFollowsParameters(t *testing.T) {
	t.Parallel()
	root := rawTemplate(t)
	props := node(t, root, "Resources", "ResolverFunction", "Properties")
	// Literal edits of the template (Timeout, LoggingConfig…) then publish too.
	assertScalar(t, node(t, props, "AutoPublishAliasAllProperties"), "AutoPublishAliasAllProperties", "!!bool", "true")
	desc := node(t, props, "VersionDescription")
	if desc.Kind != yaml.ScalarNode || desc.Tag != "!Sub" {
		t.Fatalf("VersionDescription is %s, want a !Sub string", desc.Tag)
	}
	params := node(t, root, "Parameters")
	named := map[string]bool{}
	for _, m := range subVar.FindAllStringSubmatch(desc.Value, -1) {
		if lookup(params, m[1]) == nil {
			t.Errorf("VersionDescription names ${%s}, not a parameter", m[1])
		}
		named[m[1]] = true
	}

	declared := loadTemplate(t, nil).Parameters
	read := map[string]bool{}
	for i := 0; i+1 < len(props.Content); i += 2 {
		if !slices.Contains(unversioned, props.Content[i].Value) {
			parameterRefs(t, root, props.Content[i+1], read)
		}
	}
	for p := range read {
		if !named[p] && !slices.Contains(versionUnnamed, p) {
			t.Errorf("the function's configuration reads parameter %s, which VersionDescription does not name: changing it alone would not reach the alias", p)
		}
	}
	for p := range named {
		if !read[p] {
			t.Errorf("VersionDescription names %s, which the function's configuration does not read", p)
		}
	}
	for _, p := range versionUnnamed {
		if !read[p] || named[p] {
			t.Errorf("versionUnnamed lists %s: read %v, named %v", p, read[p], named[p])
		}
		// Whoever changes it in the console is told when, and what to do.
		d := deref(declared[p].Description)
		for _, must := range []string{"does not publish a new version", `"live" alias`, "change ConfigRevision"} {
			if !strings.Contains(d, must) {
				t.Errorf("parameter %s's description does not say %q", p, must)
			}
		}
	}

	// ConfigRevision publishes on its own: named here, so the version is
	// replaced, and in the function's Description, so that $LATEST changes
	// (Lambda hands back the last version when it has not).
	if !named["ConfigRevision"] {
		t.Error("VersionDescription does not name ConfigRevision")
	}
	fnDesc := map[string]bool{}
	parameterRefs(t, root, node(t, props, "Description"), fnDesc)
	if !fnDesc["ConfigRevision"] {
		t.Error("the function's Description does not name ConfigRevision: changing only it would publish no new version")
	}
	revDesc := deref(declared["ConfigRevision"].Description)
	for _, p := range versionUnnamed {
		if !strings.Contains(revDesc, p) {
			t.Errorf("ConfigRevision's description does not name %s", p)
		}
	}

	// Within Lambda's 256 characters at the defaults and at long values:
	// the largest numbers the parameters allow, long durations.
	long := map[string]any{}
	for p := range named {
		switch par := declared[p]; {
		case len(par.AllowedValues) != 0:
			longest := ""
			for _, v := range par.AllowedValues {
				if s := fmt.Sprint(v); len(s) > len(longest) {
					longest = s
				}
			}
			long[p] = longest
		case par.Type == "Number" && par.MaxValue != nil:
			long[p] = strconv.FormatFloat(*par.MaxValue, 'f', -1, 64)
			// An unquoted default reaches goformation as a number, and
			// properties such as MemorySize take nothing else.
			if _, number := par.Default.(float64); number {
				long[p] = *par.MaxValue
			}
		case par.AllowedPattern != nil && strings.Contains(*par.AllowedPattern, "ms|s|m|h"):
			long[p] = "1h59m59.999s"
		case par.MaxLength != nil:
			long[p] = strings.Repeat("9", *par.MaxLength)
		default:
			t.Errorf("VersionDescription names %s, which has no bound to measure it at", p)
		}
	}
	for name, overrides := range map[string]map[string]any{"defaults": nil, "long values": long} {
		got := deref(resolverFunction(t, loadTemplate(t, overrides)).VersionDescription)
		// goformation's Fn::Sub leaves a number parameter unreplaced.
		got = subVar.ReplaceAllStringFunc(got, func(v string) string {
			name := subVar.FindStringSubmatch(v)[1]
			if o, ok := overrides[name]; ok {
				return fmt.Sprint(o)
			}
			return fmt.Sprint(declared[name].Default)
		})
		if n := len(got); n == 0 || n > 256 {
			t.Errorf("%s: VersionDescription is %d characters, want 1..256: %q", name, n, got)
		}
		t.Logf("%s: VersionDescription (%d characters) %q", name, len(got), got)
	}
}
