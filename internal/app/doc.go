// Package app wires the function together from its environment: the
// configuration, the logger, X-Ray, the SDK and the packages that serve an
// invocation. cmd/resolver calls it once per execution environment;
// cmd/fleet calls it once per simulated environment, so that both run the
// same handler, built the same way.
package app
