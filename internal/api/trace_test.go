package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-xray-sdk-go/strategy/sampling"
	"github.com/aws/aws-xray-sdk-go/xray"

	"github.com/maskresolver/maskresolver/internal/api"
)

// A panic inside resolving still closes the "resolve" subsegment, with
// the 500 the request is answered with (fixed bug: it was left open and
// never sent).
func TestPanicClosesResolveSubsegment(t *testing.T) {
	var logs bytes.Buffer
	s := resolveSubsegment(t, func(ctx context.Context) {
		if a := invokeCtx(t, ctx, handler(store{panic: true}, &logs), httpEvent("POST", "/v1/resolve", reqBody, false)); a.StatusCode != 500 {
			t.Fatalf("status %d", a.StatusCode)
		}
	})
	if s.InProgress || s.Annotations["status"] != 500.0 || s.Annotations["outcome"] != "InternalError" {
		t.Errorf("resolve subsegment %+v, want closed with status 500 and outcome InternalError", s)
	}
}

// A scoped request's "resolve" subsegment names its scope and counts its
// AssumeRole calls; an unscoped one has neither.
func TestScopeAnnotated(t *testing.T) {
	h := api.New(scopedResolver(t, store{}, nil))
	s := resolveSubsegment(t, func(ctx context.Context) {
		invokeCtx(t, ctx, h, httpEvent("POST", "/v1/resolve", scopedBody("tenant"), false))
	})
	if s.Annotations["scope"] != "tenant" || s.Annotations["assume_role_calls"] != 1.0 {
		t.Errorf("scoped: annotations %v", s.Annotations)
	}
	s = resolveSubsegment(t, func(ctx context.Context) {
		invokeCtx(t, ctx, h, httpEvent("POST", "/v1/resolve", reqBody, false))
	})
	if _, ok := s.Annotations["scope"]; ok || s.Annotations["status"] != 200.0 {
		t.Errorf("unscoped: annotations %v", s.Annotations)
	}
}

// subsegment is a subsegment as X-Ray's daemon receives it.
type subsegment struct {
	Name        string         `json:"name"`
	InProgress  bool           `json:"in_progress"`
	Annotations map[string]any `json:"annotations"`
}

// resolveSubsegment runs invoke inside a segment sent to a local daemon,
// and returns the "resolve" subsegment sent.
func resolveSubsegment(t *testing.T, invoke func(ctx context.Context)) subsegment {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// A local sampling strategy: the default one starts pollers that
	// would outlive the test (goleak checks).
	local, err := sampling.NewLocalizedStrategy()
	if err != nil {
		t.Fatal(err)
	}
	if err := xray.Configure(xray.Config{DaemonAddr: conn.LocalAddr().String(), SamplingStrategy: local}); err != nil {
		t.Fatal(err)
	}
	ctx, seg := xray.BeginSegment(context.Background(), "test")
	invoke(ctx)
	seg.Close(nil)
	buf := make([]byte, 64<<10)
	_ = conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	n, _, err := conn.ReadFrom(buf)
	if err != nil {
		t.Fatalf("no segment sent: %v", err)
	}
	_, doc, _ := bytes.Cut(buf[:n], []byte("\n"))
	var sent struct {
		Subsegments []subsegment `json:"subsegments"`
	}
	if err := json.Unmarshal(doc, &sent); err != nil {
		t.Fatalf("%v: %s", err, doc)
	}
	for _, s := range sent.Subsegments {
		if s.Name == "resolve" {
			return s
		}
	}
	t.Fatalf("no resolve subsegment in %s", strings.TrimSpace(string(doc)))
	return subsegment{}
}
