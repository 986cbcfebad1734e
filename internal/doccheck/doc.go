// Package doccheck holds the tests that keep the reference in docs/ in step
// with the product: every parameter, output and alarm of template.yaml,
// every environment variable in config.Variables and every error code the
// function can answer must be named in the page a user reads for it. It
// has no code of its own.
package doccheck
