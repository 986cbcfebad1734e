// Package secrets reads secret values from AWS Secrets Manager for the
// resolver: one read per unique secret per request, a client per region taken
// from the ARN, a bounded warm cache shared by the invocations of one
// execution environment, and failures sorted into the few classes the HTTP
// contract knows (see Code).
//
// The cache is split into partitions, one per set of credentials: the
// function's own (Store.Get) and one per scope (Store.Partition). What one
// partition read, remembered or is reading is never served to another,
// even for the same ARN; the cache's bounds hold for all of them together.
//
// A Secret's top-level members are parsed once when it is read, so that
// warm lookups cost a map access; its nested objects are indexed once, on
// its first dotted lookup, so that lookups cost what the secret costs.
// Nothing in this package logs or formats a secret value.
package secrets
