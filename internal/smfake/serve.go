package smfake

import (
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Serve runs s on a loopback httptest server for the life of tb and
// returns the server's URL and an aws.Config whose Secrets Manager
// clients talk to it: region us-east-1, static credentials, the SDK's
// default retryer. Tests adjust the copy (RetryMaxAttempts, Retryer,
// HTTPClient) as they need.
func Serve(tb testing.TB, s *Server) (url string, cfg aws.Config) {
	tb.Helper()
	srv := httptest.NewServer(s)
	tb.Cleanup(func() {
		// Hang up on the SDK's keep-alive connections first, so that its
		// transport goroutines end, then wait for handlers still running.
		srv.CloseClientConnections()
		srv.Close()
	})
	return srv.URL, aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
		BaseEndpoint: aws.String(srv.URL),
	}
}
