// Package lambdatest is what the end-to-end tests share. It serves the AWS
// Lambda Runtime API in a test, so that a built Lambda binary can be invoked
// as Lambda invokes it: with a request id, a deadline and, unlike the
// Runtime Interface Emulator, an X-Ray trace header. It builds the function
// and the emulator once per test binary, and holds the small helpers the
// tests of built binaries need: a log buffer, free ports and a check that
// no child process outlived its test. It is for tests only.
package lambdatest
