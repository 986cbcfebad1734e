package xtrace_test

import (
	"context"
	"net"
	"testing"

	"github.com/aws/aws-xray-sdk-go/xray"

	"github.com/maskresolver/maskresolver/internal/xtrace"
)

func TestUntracedIsFree(t *testing.T) {
	ctx := context.Background()
	allocs := testing.AllocsPerRun(100, func() {
		c, end := xtrace.Start(ctx, "parse")
		end()
		if c != ctx {
			t.Fatal("untraced Start changed the context")
		}
	})
	if allocs != 0 {
		t.Errorf("untraced Start allocates %v times", allocs)
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
	c, end := xtrace.Start(ctx, "fetch")
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
