package lambdatest

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Invocation is one event to hand to the function.
type Invocation struct {
	Payload []byte
	// TraceID is sent as Lambda-Runtime-Trace-Id, e.g.
	// "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1".
	TraceID string
	// Timeout sets the deadline the function is told; 0 means 10 s.
	Timeout time.Duration
}

// Answer is what the function posted back.
type Answer struct {
	Body []byte
	// FunctionError is true when the function reported an error through
	// /error rather than a response.
	FunctionError bool
}

// RuntimeAPI is a Runtime API server. Point AWS_LAMBDA_RUNTIME_API at Addr.
type RuntimeAPI struct {
	Addr string
	srv  *httptest.Server

	queue chan pending
	mu    sync.Mutex
	wait  map[string]chan Answer
	seq   int
	done  chan struct{}
	once  sync.Once
}

type pending struct {
	id  string
	inv Invocation
}

// New starts a Runtime API on a loopback port.
func New() *RuntimeAPI {
	r := &RuntimeAPI{queue: make(chan pending), wait: map[string]chan Answer{}, done: make(chan struct{})}
	r.srv = httptest.NewServer(r)
	r.Addr = strings.TrimPrefix(r.srv.URL, "http://")
	return r
}

// Close stops the server; a function still polling for its next event is
// left waiting until it is stopped.
func (r *RuntimeAPI) Close() {
	r.once.Do(func() { close(r.done) })
	r.srv.CloseClientConnections()
	r.srv.Close()
}

// Invoke hands inv to the function at its next poll and waits for its
// answer or ctx.
func (r *RuntimeAPI) Invoke(ctx context.Context, inv Invocation) (Answer, error) {
	r.mu.Lock()
	r.seq++
	id := "lambdatest-" + strconv.Itoa(r.seq)
	ch := make(chan Answer, 1)
	r.wait[id] = ch
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		delete(r.wait, id)
		r.mu.Unlock()
	}()
	select {
	case r.queue <- pending{id: id, inv: inv}:
	case <-ctx.Done():
		return Answer{}, ctx.Err()
	}
	select {
	case a := <-ch:
		return a, nil
	case <-ctx.Done():
		return Answer{}, ctx.Err()
	}
}

// ServeHTTP implements the three calls a Go function makes.
func (r *RuntimeAPI) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	const prefix = "/2018-06-01/runtime/"
	path := strings.TrimPrefix(req.URL.Path, prefix)
	switch {
	case path == "invocation/next":
		select {
		case p := <-r.queue:
			timeout := p.inv.Timeout
			if timeout == 0 {
				timeout = 10 * time.Second
			}
			h := w.Header()
			h.Set("Lambda-Runtime-Aws-Request-Id", p.id)
			h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(time.Now().Add(timeout).UnixMilli(), 10))
			h.Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:137149879143:function:maskresolver")
			if p.inv.TraceID != "" {
				h.Set("Lambda-Runtime-Trace-Id", p.inv.TraceID)
			}
			w.Write(p.inv.Payload)
		case <-r.done:
			http.Error(w, "closed", http.StatusGone)
		case <-req.Context().Done():
		}
	case strings.HasPrefix(path, "invocation/"):
		rest := strings.TrimPrefix(path, "invocation/")
		id, kind, _ := strings.Cut(rest, "/")
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		ch := r.wait[id]
		r.mu.Unlock()
		if ch == nil {
			http.Error(w, "unknown request id", http.StatusBadRequest)
			return
		}
		ch <- Answer{Body: body, FunctionError: kind == "error"}
		w.WriteHeader(http.StatusAccepted)
	case path == "init/error":
		w.WriteHeader(http.StatusAccepted)
	default:
		http.NotFound(w, req)
	}
}
