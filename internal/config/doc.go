// Package config turns the function's environment into a validated Config.
//
// Every variable the function reads (Variables) is read here and nowhere
// else. A bad value is an error that names the variable, so a misconfigured
// function fails its cold start with a message an operator can act on
// instead of misbehaving warm.
//
// config sits below the packages that serve a request and imports none of
// them: the default of a setting lives with the package that uses it, and
// app passes those defaults to Load.
package config
