// Package samtemplate holds the tests of the SAM application, template.yaml
// at the repository's root, with its deploy defaults (samconfig.toml) and
// the sample events of `sam local invoke` (events/). They read the template
// as YAML, through goformation, through AWS's SAM translator and cfn-lint.
// The package has no code of its own: it is for tests only.
package samtemplate
