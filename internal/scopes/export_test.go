package scopes

// WithClock lets the tests move the time of the document and of refusals.
var WithClock = withClock
