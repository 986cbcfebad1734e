package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/maskresolver/maskresolver/internal/answer"
)

// The hook's environment, set by template.yaml.
const (
	// EnvTarget is the ARN of the version under test. CodeDeploy's event
	// names only the deployment, so SAM's documented pattern hands the
	// hook `!Ref <Function>.Version`.
	EnvTarget = "TARGET_VERSION_ARN"
	// EnvConnection is the connection to dry-run: any JSON value.
	EnvConnection = "DRY_RUN_CONNECTION"
)

// ReportReserve is the part of the hook's own deadline kept for reporting
// to CodeDeploy: a version that hangs fails the check, and the deploy
// hears of it at once rather than after CodeDeploy's hour-long wait for a
// status that never comes.
const ReportReserve = 5 * time.Second

// versionARN is a function ARN qualified by a version number: the hook
// must test the version being deployed, not an alias or $LATEST.
var versionARN = regexp.MustCompile(`^arn:[a-z0-9-]+:lambda:[a-z0-9-]+:[0-9]{12}:function:[A-Za-z0-9_-]+:[0-9]+$`)

// invoker is the Lambda call the hook makes.
type invoker interface {
	Invoke(context.Context, *awslambda.InvokeInput, ...func(*awslambda.Options)) (*awslambda.InvokeOutput, error)
}

// reporter is the CodeDeploy call the hook makes.
type reporter interface {
	PutLifecycleEventHookExecutionStatus(context.Context, *codedeploy.PutLifecycleEventHookExecutionStatusInput, ...func(*codedeploy.Options)) (*codedeploy.PutLifecycleEventHookExecutionStatusOutput, error)
}

var (
	_ invoker  = (*awslambda.Client)(nil)
	_ reporter = (*codedeploy.Client)(nil)
)

// event is what CodeDeploy sends a lifecycle hook.
type event struct {
	DeploymentID                  string `json:"DeploymentId"`
	LifecycleEventHookExecutionID string `json:"LifecycleEventHookExecutionId"`
}

type hook struct {
	lambda     invoker
	codedeploy reporter
	log        *slog.Logger
	reserve    time.Duration

	target  string
	request []byte // {"connection": …, "dry_run": true}
	// misconfig fails every check: reported to CodeDeploy as Failed, where
	// a failed cold start would leave the deploy waiting for an hour.
	misconfig error
}

func newHook(l invoker, c reporter, lookup func(string) (string, bool), log *slog.Logger) *hook {
	h := &hook{lambda: l, codedeploy: c, log: log, reserve: ReportReserve}
	var errs []error
	h.target, _ = lookup(EnvTarget)
	if !versionARN.MatchString(h.target) {
		errs = append(errs, fmt.Errorf("%s=%q is not the ARN of a function version", EnvTarget, h.target))
	}
	// The connection is not quoted in errors: it is configuration, but it
	// is the caller's payload all the same.
	conn, _ := lookup(EnvConnection)
	if strings.TrimSpace(conn) == "" {
		errs = append(errs, fmt.Errorf("%s is empty", EnvConnection))
	} else if !json.Valid([]byte(conn)) {
		errs = append(errs, fmt.Errorf("%s is not a JSON value", EnvConnection))
	} else {
		h.request, _ = json.Marshal(struct {
			Connection json.RawMessage `json:"connection"`
			DryRun     bool            `json:"dry_run"`
		}{json.RawMessage(conn), true})
	}
	h.misconfig = errors.Join(errs...)
	return h
}

// handle runs the check and reports its outcome. It fails only when it
// cannot report (Lambda then retries the event); a failed check is a
// successful report of Failed.
func (h *hook) handle(ctx context.Context, ev event) error {
	if ev.DeploymentID == "" || ev.LifecycleEventHookExecutionID == "" {
		return errors.New("not a CodeDeploy lifecycle hook event: no DeploymentId or LifecycleEventHookExecutionId")
	}
	status := cdtypes.LifecycleEventStatusSucceeded
	n, err := h.check(ctx)
	if err != nil {
		status = cdtypes.LifecycleEventStatusFailed
		h.log.Error("pre-traffic dry run failed", "deployment", ev.DeploymentID, "target", h.target, "error", err.Error())
	} else {
		h.log.Info("pre-traffic dry run passed", "deployment", ev.DeploymentID, "target", h.target, "masks", n)
	}
	if _, err := h.codedeploy.PutLifecycleEventHookExecutionStatus(ctx, &codedeploy.PutLifecycleEventHookExecutionStatusInput{
		DeploymentId:                  &ev.DeploymentID,
		LifecycleEventHookExecutionId: &ev.LifecycleEventHookExecutionID,
		Status:                        status,
	}); err != nil {
		return fmt.Errorf("report %s for deployment %s: %w", status, ev.DeploymentID, err)
	}
	return nil
}

// check sends the version under test a dry run and returns how many masks
// it verified, or why the version must not take traffic. Its errors name
// paths, keys, ARNs and codes, never a value: a version that ignores
// dry_run answers secret values, which stay in the discarded answer.
func (h *hook) check(ctx context.Context) (int, error) {
	if h.misconfig != nil {
		return 0, h.misconfig
	}
	if dl, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, dl.Add(-h.reserve))
		defer cancel()
	}
	out, err := h.lambda.Invoke(ctx, &awslambda.InvokeInput{FunctionName: &h.target, Payload: h.request})
	if err != nil {
		return 0, fmt.Errorf("invoke %s: %w", h.target, err)
	}
	if out.FunctionError != nil {
		// The payload of a function error is left unread: it is the
		// runtime's report, and the function's log has it.
		return 0, fmt.Errorf("%s failed the invocation (%s)", h.target, *out.FunctionError)
	}
	var body answer.Body
	if err := json.Unmarshal(out.Payload, &body); err != nil {
		// json's message may quote the answer: it is not wrapped.
		return 0, fmt.Errorf("%s answered something other than the resolver's JSON answer", h.target)
	}
	if e := body.Error; e != nil {
		var failed []string
		for _, m := range e.Masks {
			failed = append(failed, fmt.Sprintf("%s (key %q of %s): %s", m.Path, m.Key, m.SecretARN, m.Code))
		}
		if len(failed) == 0 {
			return 0, fmt.Errorf("the dry run answered %s", e.Code)
		}
		return 0, fmt.Errorf("the dry run answered %s: %s", e.Code, strings.Join(failed, "; "))
	}
	if body.Connection == nil {
		return 0, fmt.Errorf("%s answered neither a connection nor an error", h.target)
	}
	for _, m := range body.Masks {
		if m.Status != "verified" {
			return 0, fmt.Errorf("%s answered mask %s with status %q, not verified: it does not honour dry_run", h.target, m.Path, m.Status)
		}
	}
	return len(body.Masks), nil
}
