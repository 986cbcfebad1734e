// Package coldstart holds the cold-start benchmark: it builds the resolver's
// bootstrap and two baseline functions (testdata/echo-sdk initialises the
// same libraries and echoes; testdata/echo-bare is aws-lambda-go alone),
// starts each against a minimal Lambda Runtime API served in-process, and
// measures the time from process start to the first answer, and the
// stripped binary sizes. It has no code of its own beyond its tests.
package coldstart
