package samtemplate_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// samTranslate is the SAM transform CloudFormation runs at deploy time:
// AWS's own translator (the Python package samtranslator, a dependency of
// cfn-lint), with no managed policies to look up. It reads a JSON object
// {"template": …, "parameters": {…}} on stdin and writes the expanded
// CloudFormation template on stdout. Like CloudFormation, it hands the
// transform the stack's parameter values: SAM resolves some of them
// (DeploymentPreference's Type) while it translates.
const samTranslate = `
import json, sys
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

class NoManagedPolicies:
    def load(self):
        return {}

req = json.load(sys.stdin)
json.dump(transform(yaml_parse(req["template"]), req["parameters"], NoManagedPolicies()), sys.stdout)
`

// translations memoizes translateTemplate by parameter values: the
// translator takes seconds to start, and many tests read the same output.
var translations sync.Map // string (parameters as JSON) -> func() (map[string]any, error)

// translateTemplate runs template.yaml through samTranslate with the given
// parameter values (the template's defaults for the others). The code is
// given as an S3 object, as sam deploy uploads it: the translator refuses
// a local path. Callers must not modify the result.
func translateTemplate(t *testing.T, params map[string]string) map[string]any {
	t.Helper()
	python, err := exec.LookPath("python3")
	if err == nil {
		err = exec.Command(python, "-c", "import samtranslator").Run()
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the SAM translator is not importable from python3 and CI=true: pip install aws-sam-translator (%v)", err)
		}
		t.Skipf("the SAM translator is not importable from python3 (pip install aws-sam-translator): %v", err)
	}
	if params == nil {
		params = map[string]string{}
	}
	key := mustJSON(t, params)
	once, _ := translations.LoadOrStore(key, sync.OnceValues(func() (map[string]any, error) {
		return runTranslator(python, params)
	}))
	out, err := once.(func() (map[string]any, error))()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func runTranslator(python string, params map[string]string) (map[string]any, error) {
	b, err := os.ReadFile(templatePath)
	if err != nil {
		return nil, err
	}
	const local = "\n      CodeUri: .\n"
	if !bytes.Contains(b, []byte(local)) {
		return nil, fmt.Errorf("%s: no %q to replace with an S3 object", templatePath, strings.TrimSpace(local))
	}
	b = bytes.ReplaceAll(b, []byte(local), []byte("\n      CodeUri: s3://bucket/key.zip\n"))
	req, err := json.Marshal(map[string]any{"template": string(b), "parameters": params})
	if err != nil {
		return nil, err
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, "-c", samTranslate)
	cmd.Stdin = bytes.NewReader(req)
	// The translator needs a region for the partition; none is called.
	cmd.Env = append(os.Environ(), "AWS_DEFAULT_REGION="+fakeRegion)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("SAM translator: %v\n%s", err, stderr.Bytes())
	}
	var out map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		return nil, fmt.Errorf("SAM translator output: %v", err)
	}
	return out, nil
}

// jsonPath walks maps of a decoded JSON document and fails when a key is
// missing.
func jsonPath(t *testing.T, v any, keys ...string) any {
	t.Helper()
	for i, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("translated template: %s is not an object", strings.Join(keys[:i], "."))
		}
		if v, ok = m[k]; !ok {
			t.Fatalf("translated template: no %s", strings.Join(keys[:i+1], "."))
		}
	}
	return v
}

// resourcesOfType lists the logical ids of the resources of type ty.
func resourcesOfType(t *testing.T, res map[string]any, ty string) []string {
	t.Helper()
	var ids []string
	for id, r := range res {
		if jsonPath(t, r, "Type") == ty {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// stack is what CloudFormation makes of a translated template under the
// given parameter values (the defaults for the others): the resources
// whose Condition holds, with every Fn::If chosen, AWS::NoValue dropped
// and every Ref to a parameter replaced by its value. It knows the
// intrinsics the template's conditions use (Fn::Equals, Fn::Not, Fn::And,
// Fn::Or, Fn::Join, Ref, Condition) and fails on any other in a condition.
func stack(t *testing.T, params map[string]string) map[string]any {
	t.Helper()
	tpl := translateTemplate(t, params)
	e := evaluator{t: t, tpl: tpl, params: map[string]any{}}
	for name, p := range jsonPath(t, tpl, "Parameters").(map[string]any) {
		v, given := params[name]
		if !given {
			d, ok := p.(map[string]any)["Default"]
			if !ok {
				t.Fatalf("parameter %s has no default and no value", name)
			}
			v = stringOf(d)
		}
		if p.(map[string]any)["Type"] == "CommaDelimitedList" {
			e.params[name] = strings.Split(v, ",")
		} else {
			e.params[name] = v
		}
	}
	out := map[string]any{}
	for id, r := range jsonPath(t, tpl, "Resources").(map[string]any) {
		if c, ok := r.(map[string]any)["Condition"].(string); ok && !e.condition(c) {
			continue
		}
		out[id] = e.resolve(r)
	}
	return out
}

// noValue stands for AWS::NoValue while resolving.
type noValue struct{}

func isNoValue(v any) bool { _, ok := v.(noValue); return ok }

type evaluator struct {
	t      *testing.T
	tpl    map[string]any
	params map[string]any // string, or []string for a CommaDelimitedList
}

func (e evaluator) condition(name string) bool {
	e.t.Helper()
	return e.truth(jsonPath(e.t, e.tpl, "Conditions", name))
}

func (e evaluator) truth(v any) bool {
	e.t.Helper()
	m, _ := v.(map[string]any)
	if len(m) != 1 {
		e.t.Fatalf("condition %s is not one intrinsic", mustJSON(e.t, v))
	}
	for fn, arg := range m {
		args, _ := arg.([]any)
		switch fn {
		case "Condition":
			return e.condition(arg.(string))
		case "Fn::Equals":
			return mustJSON(e.t, e.value(args[0])) == mustJSON(e.t, e.value(args[1]))
		case "Fn::Not":
			return !e.truth(args[0])
		case "Fn::And", "Fn::Or":
			and := fn == "Fn::And"
			for _, a := range args {
				if e.truth(a) != and {
					return !and
				}
			}
			return and
		}
	}
	e.t.Fatalf("condition %s: unsupported intrinsic", mustJSON(e.t, v))
	return false
}

// value evaluates an operand of Fn::Equals.
func (e evaluator) value(v any) any {
	e.t.Helper()
	switch v := v.(type) {
	case string:
		return v
	case map[string]any:
		if ref, ok := v["Ref"].(string); ok && len(v) == 1 {
			if p, ok := e.params[ref]; ok {
				return p
			}
		}
		if j, ok := v["Fn::Join"].([]any); ok && len(v) == 1 && len(j) == 2 {
			var parts []string
			switch l := e.value(j[1]).(type) {
			case []string:
				parts = l
			case []any:
				for _, p := range l {
					parts = append(parts, e.value(p).(string))
				}
			}
			return strings.Join(parts, j[0].(string))
		}
	}
	e.t.Fatalf("condition operand %s: unsupported", mustJSON(e.t, v))
	return nil
}

// resolve chooses Fn::If, drops AWS::NoValue and substitutes parameters.
func (e evaluator) resolve(v any) any {
	e.t.Helper()
	switch v := v.(type) {
	case map[string]any:
		if len(v) == 1 {
			if args, ok := v["Fn::If"].([]any); ok && len(args) == 3 {
				if e.condition(args[0].(string)) {
					return e.resolve(args[1])
				}
				return e.resolve(args[2])
			}
			if ref, ok := v["Ref"].(string); ok {
				if ref == "AWS::NoValue" {
					return noValue{}
				}
				if p, ok := e.params[ref]; ok {
					return p
				}
			}
		}
		out := map[string]any{}
		for k, x := range v {
			if r := e.resolve(x); !isNoValue(r) {
				out[k] = r
			}
		}
		return out
	case []any:
		var out []any
		for _, x := range v {
			if r := e.resolve(x); !isNoValue(r) {
				out = append(out, r)
			}
		}
		return out
	}
	return v
}

// stringOf is a parameter default as CloudFormation passes it: a string.
func stringOf(v any) string {
	if f, ok := v.(float64); ok {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}
