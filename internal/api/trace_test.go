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
)

// A panic inside resolving still closes the "resolve" subsegment, with
// the 500 the request is answered with (fixed bug: it was left open and
// never sent).
func TestPanicClosesResolveSubsegment(t *testing.T) {
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
	var logs bytes.Buffer
	a := invokeCtx(t, ctx, handler(store{panic: true}, &logs), httpEvent("POST", "/v1/resolve", reqBody, false))
	seg.Close(nil)
	if a.StatusCode != 500 {
		t.Fatalf("status %d", a.StatusCode)
	}
	buf := make([]byte, 64<<10)
	_ = conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	n, _, err := conn.ReadFrom(buf)
	if err != nil {
		t.Fatalf("no segment sent: %v", err)
	}
	_, doc, _ := bytes.Cut(buf[:n], []byte("\n"))
	var sent struct {
		Subsegments []struct {
			Name        string         `json:"name"`
			InProgress  bool           `json:"in_progress"`
			Annotations map[string]any `json:"annotations"`
		} `json:"subsegments"`
	}
	if err := json.Unmarshal(doc, &sent); err != nil {
		t.Fatalf("%v: %s", err, doc)
	}
	for _, s := range sent.Subsegments {
		if s.Name == "resolve" {
			if s.InProgress || s.Annotations["status"] != 500.0 || s.Annotations["outcome"] != "InternalError" {
				t.Errorf("resolve subsegment %+v, want closed with status 500 and outcome InternalError", s)
			}
			return
		}
	}
	t.Errorf("no closed resolve subsegment in %s", strings.TrimSpace(string(doc)))
}
