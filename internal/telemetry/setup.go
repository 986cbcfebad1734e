package telemetry

import (
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-xray-sdk-go/instrumentation/awsv2"
	"github.com/aws/aws-xray-sdk-go/strategy/ctxmissing"
	"github.com/aws/aws-xray-sdk-go/xray"
	"github.com/aws/aws-xray-sdk-go/xraylog"
)

// Setup configures the X-Ray SDK for the function and instruments the SDK
// clients built from cfg, so that each Secrets Manager call is a
// subsegment. Outside Lambda, or with no trace header, there is no
// segment to attach to: the SDK is told to stay silent about that rather
// than log on every call; its own errors go to errs.
//
// With Start, this is every use of the X-Ray SDK (in maintenance since
// 2026-02-25, end of support 2027-02-25): a move to OpenTelemetry changes
// this package only.
func Setup(cfg *aws.Config, errs io.Writer) error {
	xray.SetLogger(xraylog.NewDefaultLogger(errs, xraylog.LogLevelError))
	if err := xray.Configure(xray.Config{ContextMissingStrategy: ctxmissing.NewDefaultIgnoreErrorStrategy()}); err != nil {
		return fmt.Errorf("configure X-Ray: %w", err)
	}
	awsv2.AWSV2Instrumentor(&cfg.APIOptions)
	return nil
}
