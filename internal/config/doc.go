// Package config turns the function's environment into a validated Config.
//
// Every variable of SPEC §5 is read here and nowhere else. A bad value is an
// error that names the variable, so a misconfigured function fails its cold
// start with a message an operator can act on instead of misbehaving warm.
package config
