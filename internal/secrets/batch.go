package secrets

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"

	"github.com/maskresolver/maskresolver/internal/answer"
)

// maxBatch is BatchGetSecretValue's limit of secret ids a call.
const maxBatch = 20

// readAll reads arns with v's clients, grouped by region: one secret with
// GetSecretValue, several with BatchGetSecretValue in calls of at most
// maxBatch ids. All calls, across regions and chunks, go out concurrently.
func (v *View) readAll(ctx context.Context, arns []string, cs []*call, n *counters) {
	s := v.s
	byRegion := map[string][]int{}
	var regions []string
	for i, arn := range arns {
		r := regionOf(arn)
		if _, ok := byRegion[r]; !ok {
			regions = append(regions, r)
		}
		byRegion[r] = append(byRegion[r], i)
	}
	var wg sync.WaitGroup
	for _, region := range regions {
		client := v.client(region)
		idx := byRegion[region]
		if len(idx) == 1 || !v.batchAllowed(region) {
			for _, i := range idx {
				wg.Go(func() {
					s.guard(ctx, arns[i:i+1], cs[i:i+1], func() {
						s.finish(cs[i], s.fetch(ctx, client, arns[i], n))
					})
				})
			}
			continue
		}
		for chunk := range slices.Chunk(idx, maxBatch) {
			wg.Go(func() {
				ids := make([]string, len(chunk))
				owned := make([]*call, len(chunk))
				for k, i := range chunk {
					ids[k], owned[k] = arns[i], cs[i]
				}
				s.guard(ctx, ids, owned, func() {
					v.fetchBatch(ctx, client, region, ids, n, func(k int, r Result) { s.finish(owned[k], r) })
				})
			})
		}
	}
	wg.Wait()
}

// fetchBatch reads several secrets of one region with one
// BatchGetSecretValue call and maps each value and each entry of its Errors
// list back to the id that asked for it, handing each outcome to done as
// soon as it is known (once per id, possibly from several goroutines), so
// that a value is cached, and its TTL starts, when it was read. When the
// batch, or an entry of it, is throttled, those secrets move to
// GetSecretValue at once; when the call as a whole is refused or rejected
// (see singly), they are read one at a time.
func (v *View) fetchBatch(ctx context.Context, client API, region string, ids []string, n *counters, done func(k int, r Result)) {
	s := v.s
	var wg sync.WaitGroup
	defer wg.Wait()
	single := func(k int) { wg.Go(func() { done(k, s.fetch(ctx, client, ids[k], n)) }) }
	n.calls.Add(1)
	out, err := client.BatchGetSecretValue(ctx, &secretsmanager.BatchGetSecretValueInput{SecretIdList: ids}, withBatchRetryer)
	if err != nil {
		one := v.singly(ctx, region, err, n)
		for k, id := range ids {
			if one {
				single(k)
				continue
			}
			done(k, Result{Err: classify(id, err)})
		}
		return
	}
	// A request may name one secret twice, by its full and its partial
	// ARN: each answer goes to every id that names it.
	answered := make([]bool, len(ids))
	for _, v := range out.SecretValues {
		for k := range ids {
			if !answered[k] && names(ids[k], aws.ToString(v.ARN)) {
				answered[k] = true
				done(k, Result{Secret: newSecret(v.ARN, v.VersionId, v.SecretString)})
			}
		}
	}
	for _, e := range out.Errors {
		id := aws.ToString(e.SecretId)
		apiErr := &smithy.GenericAPIError{Code: aws.ToString(e.ErrorCode), Message: aws.ToString(e.Message)}
		throttled := isThrottle(apiErr)
		for k := range ids {
			// The entry repeats the id as it was requested: it speaks for
			// that id alone. (Matched as an ARN, a made-up T+"-ZZZZZZ"
			// would be charged to the real secret T.)
			if answered[k] || ids[k] != id {
				continue
			}
			answered[k] = true
			if throttled {
				n.throttles.Add(1)
				single(k)
				continue
			}
			done(k, Result{Err: s.failed(ctx, client, ids[k], apiErr, nil, n)})
		}
	}
	for k, id := range ids {
		if !answered[k] {
			done(k, Result{Err: &Error{Code: answer.UpstreamError, ARN: id, Transient: true,
				Err: errors.New("BatchGetSecretValue answered neither a value nor an error for this secret")}})
		}
	}
}

// singly reports whether the secrets of a BatchGetSecretValue that failed
// as a whole with err are to be read one at a time. A transient failure
// (a 5xx, a timeout) is every secret's, and leaves stale values standing;
// any other says nothing about which secret caused it, so only single
// reads can give each its own answer, and none is evicted or remembered
// as missing on another's account.
func (v *View) singly(ctx context.Context, region string, err error, n *counters) bool {
	s := v.s
	var apiErr smithy.APIError
	switch {
	case errors.As(err, &apiErr) && apiErr.ErrorCode() == "AccessDeniedException":
		// No secretsmanager:BatchGetSecretValue for the partition's
		// role, or a VPC endpoint policy that refuses one secret of the
		// batch.
		if v.noBatch.CompareAndSwap(false, true) {
			s.opts.logger.WarnContext(ctx, "BatchGetSecretValue refused; reading secrets one at a time from now on", "error", err.Error())
		}
		return true
	case isThrottle(err):
		// The batch quota (100/s for the whole account and region)
		// is spent: GetSecretValue has a hundred times as much.
		n.throttles.Add(1)
		v.pauseBatch(region)
		return true
	case classify("", err).Transient:
		return false
	default:
		// A 4xx for the call (InvalidParameterException,
		// ResourceNotFoundException, ...): perhaps one secret's doing,
		// so the next batch is tried as usual.
		s.opts.logger.WarnContext(ctx, "BatchGetSecretValue failed as a whole; reading its secrets one at a time", "error", err.Error())
		return true
	}
}

// names reports whether the requested id names the full ARN arn: the same
// ARN, or a partial ARN that is arn without its "-" and six-character
// suffix.
func names(id, arn string) bool {
	return id == arn || (len(arn) == len(id)+7 && strings.HasPrefix(arn, id) && arn[len(id)] == '-')
}
