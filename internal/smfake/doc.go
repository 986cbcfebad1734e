// Package smfake is an AWS Secrets Manager double for tests. It is an
// [net/http.Handler] that speaks the awsJson1_1 wire protocol, so the real
// aws-sdk-go-v2 secretsmanager client talks to it unchanged once its endpoint
// points at an [net/http/httptest.Server] (BaseEndpoint in the client options
// or AWS_ENDPOINT_URL_SECRETS_MANAGER).
//
// It serves GetSecretValue, BatchGetSecretValue and DescribeSecret from an
// in-memory store keyed by region, account and name, resolving a SecretId
// given as a full ARN, a partial ARN or a plain name the way AWS does. Faults
// (error codes, latency, reset or truncated connections, malformed bodies)
// can be injected per operation and per secret, and calls and secret reads
// are counted so that tests can prove cache hits.
//
// WithQuotas meters requests as AWS meters an account: a token bucket per
// region for BatchGetSecretValue and one shared by GetSecretValue and
// DescribeSecret, drawn on by every client of the Server. A call past its
// rate is answered ThrottlingException and reads nothing, so that a test or
// a local fleet of functions can meet the quota a real fleet would;
// AccountQuotas scales AWS's documented rates down to the fleet at hand.
//
// The same handler answers STS's AssumeRole in the query protocol (a
// form-encoded POST, an XML answer), so AWS_ENDPOINT_URL_STS and
// AWS_ENDPOINT_URL_SECRETS_MANAGER can name one server and stscreds can
// assume roles against it. Roles are added with AddRole, optionally
// requiring an external id; the credentials AssumeRole issues sign as that
// role, any other key as DefaultPrincipal. A secret with readers (Secret's
// Readers, Grant) refuses every other principal's reads with
// AccessDeniedException, so that a test can show a role reading what the
// function's own role may not. AssumeRoleCalls records each AssumeRole
// without its external id, and SecretReadsBy counts reads per principal.
//
// Signatures are not verified; the access key id and the region (where a
// plain name is resolved) are taken from the SigV4 credential scope of the
// request.
package smfake
