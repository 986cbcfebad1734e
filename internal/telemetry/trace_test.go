package telemetry_test

import (
	"context"
	"net"
	"testing"

	"github.com/aws/aws-xray-sdk-go/xray"

	"github.com/maskresolver/maskresolver/internal/telemetry"
)

func TestUntracedIsFree(t *testing.T) {
	ctx := context.Background()
	allocs := testing.AllocsPerRun(100, func() {
		c, end := telemetry.Start(ctx, "parse")
		end()
		if c != ctx {
			t.Fatal("untraced Start changed the context")
		}
	})
	if allocs != 0 {
		t.Errorf("untraced Start allocates %v times", allocs)
	}
}

// aws-lambda-go puts the trace header in every invocation's context; an
// invocation that is not sampled costs nothing either, and one that is
// gets its facade segment and the subsegment.
func TestOnlySampledInvocationsAreTraced(t *testing.T) {
	for _, tt := range []struct {
		header string
		traced bool
	}{
		{"", false},
		{"Root=1-6929d590-aaaaaaaaaaaaaaaaaaaaaaaa;Parent=53995c3f42cd8ad8;Sampled=0", false},
		{"Root=1-6929d590-aaaaaaaaaaaaaaaaaaaaaaaa;Parent=53995c3f42cd8ad8", false},
		{"Root=1-6929d590-aaaaaaaaaaaaaaaaaaaaaaaa;Parent=53995c3f42cd8ad8;Sampled=1", true},
	} {
		//lint:ignore SA1029 aws-lambda-go puts the header in the context under this plain string key
		ctx := context.WithValue(context.Background(), xray.LambdaTraceHeaderKey, tt.header)
		c, end := telemetry.Start(ctx, "resolve")
		sub := xray.GetSegment(c)
		end("masks", 1)
		if got := sub != nil; got != tt.traced {
			t.Errorf("header %q: subsegment %v, want %v", tt.header, got, tt.traced)
		}
		if tt.traced && (sub.Name != "resolve" || !sub.Sampled || sub.InProgress) {
			t.Errorf("header %q: subsegment %q sampled %v in progress %v", tt.header, sub.Name, sub.Sampled, sub.InProgress)
		}
		if !tt.traced {
			if c != ctx {
				t.Errorf("header %q: Start changed the context", tt.header)
			}
		}
	}
}

func TestTracedRecordsAnnotations(t *testing.T) {
	// Send the closed segment to a local listener, not the default daemon
	// port.
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := xray.Configure(xray.Config{DaemonAddr: conn.LocalAddr().String()}); err != nil {
		t.Fatal(err)
	}
	ctx, seg := xray.BeginSegment(context.Background(), "test")
	defer seg.Close(nil)
	c, end := telemetry.Start(ctx, "fetch")
	sub := xray.GetSegment(c)
	if sub == nil || sub == seg || sub.Name != "fetch" {
		t.Fatalf("no subsegment named fetch in the context: %+v", sub)
	}
	end("secrets", 3, "outcome", "ok")
	if sub.InProgress {
		t.Error("End did not close the subsegment")
	}
	if sub.Annotations["secrets"] != 3 || sub.Annotations["outcome"] != "ok" {
		t.Errorf("annotations %v", sub.Annotations)
	}
}
