package doccheck_test

import (
	"os"
	"path/filepath"
	"testing"

	"gopkg.in/yaml.v3"
)

// template is what the docs must name of template.yaml.
type template struct {
	alarms []string
}

// readTemplate reads the logical names of the template's alarms (its
// parameters and outputs are checked against docs/deploying.md by
// internal/samtemplate, which evaluates the template). It walks yaml.v3's
// node tree rather than decoding into Go values, so CloudFormation's
// short-form tags (!Ref, !Sub, !If …) need no handling of their own.
func readTemplate(t *testing.T) template {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("parse template.yaml: %v", err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		t.Fatal("template.yaml is not a YAML mapping")
	}
	top := doc.Content[0]
	var tpl template
	resources := member(top, "Resources")
	for _, name := range keys(resources) {
		if typ := member(member(resources, name), "Type"); typ != nil && typ.Value == "AWS::CloudWatch::Alarm" {
			tpl.alarms = append(tpl.alarms, name)
		}
	}
	return tpl
}

// member is the value of a mapping node's member, or nil.
func member(m *yaml.Node, name string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == name {
			return m.Content[i+1]
		}
	}
	return nil
}

// keys are a mapping node's member names, in order.
func keys(m *yaml.Node) []string {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	var names []string
	for i := 0; i+1 < len(m.Content); i += 2 {
		names = append(names, m.Content[i].Value)
	}
	return names
}
