package api_test

import (
	"testing"

	"go.uber.org/goleak"
)

// The fault tests run the real SDK against an httptest Secrets Manager
// double; every test closes its servers and waits out the reads it started,
// so no goroutine may outlive the package's tests.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
