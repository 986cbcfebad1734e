# maskresolver — build, run locally, test and deploy.
#
#   make run      the function behind a local API-Gateway-like front, with a
#                 Secrets Manager double (SECRETS_MANAGER=aws: the real one)
#   make invoke   each events/*.json straight to the function, as
#                 `sam local invoke -e` does, without Docker
#   make test     the README's test command
#   make load     the local front under load (LOAD_DURATION, LOAD_CONCURRENCY)
#   make fleet    a fleet of environments in one process against one account's
#                 scaled quotas: cold storm, steady refresh, naive baseline
#   make deploy   sam build && sam deploy --guided

GO ?= go
SHELL := /bin/bash

# The Lambda flags: static, stripped, and without the net/rpc runtime
# (provided.al2023 speaks only the Runtime API).
GOFLAGS_LAMBDA = -trimpath -ldflags "-s -w" -tags lambda.norpc

# The emulator, built once: it starts faster than `go tool aws-lambda-rie`,
# which checks its build on every start.
RIE = build/aws-lambda-rie
RIE_PKG = github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie

# Extra devserver flags, e.g. RUN_FLAGS='-addr 127.0.0.1:8080 -secrets my.json'.
RUN_FLAGS ?=
# `sam local invoke --env-vars events/env.json`, here too.
INVOKE_FLAGS ?= -env-vars events/env.json
INVOKE_EVENTS ?= events/*.json

# Fuzz targets as <package>:<FuzzName>; by default every one found in a
# _test.go, e.g. ./internal/mask:FuzzFind. Set or extend to choose.
FUZZ_TARGETS ?= $(shell grep -rHoE --include='*_test.go' --exclude-dir=.aws-sam --exclude-dir=build \
	--exclude-dir=testdata '^func Fuzz[A-Za-z0-9_]+' . | sed -E 's|/[^/]+_test\.go:func |:|' | sort -u)
# An execution count (Nx), not a duration: with a duration, Go 1.26's fuzz
# coordinator can fail a target that found nothing with a bare "context
# deadline exceeded" when the deadline lands while a worker is busy
# (go.dev/issue/75804, fixed in Go 1.27). A count sets no deadline, and every
# machine does the same work. FUZZTIME=60s still works for a timed run.
FUZZTIME ?= 200000x

.PHONY: all build build-ResolverFunction build-PreTrafficHookFunction build-local rie devserver run invoke test bench fuzz lint deploy clean

all: lint test build

build:
	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build $(GOFLAGS_LAMBDA) -o build/arm64/bootstrap ./cmd/resolver

# SAM's makefile build method (Metadata.BuildMethod: makefile) calls this
# target with ARTIFACTS_DIR set.
build-ResolverFunction:
	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build $(GOFLAGS_LAMBDA) -o $(ARTIFACTS_DIR)/bootstrap ./cmd/resolver

# The pre-traffic hook (template.yaml's PreTrafficHookFunction), built the
# same way; SAM builds it whatever PreTrafficConnection says.
build-PreTrafficHookFunction:
	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build $(GOFLAGS_LAMBDA) -o $(ARTIFACTS_DIR)/bootstrap ./cmd/pretraffic

build-local:
	CGO_ENABLED=0 $(GO) build $(GOFLAGS_LAMBDA) -o build/local/bootstrap ./cmd/resolver

rie: $(RIE)

$(RIE): go.mod go.sum
	$(GO) build -o $@ $(RIE_PKG)

# The devserver is built and then run rather than `go run`: `go run` exits 1
# when Ctrl-C stops its program, and make would report the run as failed.
devserver:
	$(GO) build -o build/devserver ./cmd/devserver

run: build-local $(RIE) devserver
	build/devserver -rie $(RIE) $(RUN_FLAGS)

invoke: build-local $(RIE) devserver
	build/devserver -rie $(RIE) -invoke '$(INVOKE_EVENTS)' $(INVOKE_FLAGS)

test:
	$(GO) test -race ./...

# The local front under 32 clients for 20 s, over 4 execution environments
# and a Secrets Manager double with 20 ms latency and 3 % throttling: it
# fails on any unexplained error, on more Secrets Manager calls than the
# caches allow, or on memory growth, and stops by itself.
LOAD_DURATION ?= 20s
LOAD_CONCURRENCY ?= 32
LOAD_FLAGS ?=
.PHONY: load
load: build-local $(RIE) devserver
	$(GO) build -o build/loadtest ./cmd/loadtest
	build/loadtest -devserver build/devserver -rie $(RIE) -bootstrap build/local/bootstrap \
		-environments 4 -sm-latency 20ms -sm-throttle-percent 3 -cache-ttl 5s \
		-duration $(LOAD_DURATION) -concurrency $(LOAD_CONCURRENCY) $(LOAD_FLAGS)

# 40 execution environments of the function in one process, sharing a
# Secrets Manager double with AWS's quotas scaled by 40/1,000, so that they
# stand for 1,000 environments: a deploy's cold storm, steady traffic across
# cache expiry with a rotation, and the storm through a naive resolver. It
# stops by itself in seconds and fails on a wrong value or a storm or steady
# answer other than 200. E.g. FLEET_FLAGS='-retry-mode adaptive' or
# FLEET_FLAGS='-environments 1000 -quota-scale 1 -scenarios storm,baseline'.
FLEET_FLAGS ?=
.PHONY: fleet
fleet:
	$(GO) build -o build/fleet ./cmd/fleet
	build/fleet $(FLEET_FLAGS)

# Each benchmark measures its subject and its baselines in the same run.
# The lines of `go test -bench` pass through unchanged, then BENCH_RATIOS
# prints, for each benchmark with sub-benchmarks, the ratio of the first
# sub-benchmark (the subject) to each of the others (its baselines), for
# every metric they share.
BENCHTIME ?= 1s
bench:
	@set -o pipefail; $(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./... | awk "$$BENCH_RATIOS"

# The awk program of `make bench`, handed to it in the environment; $$ is
# awk's $ written for make.
define BENCH_RATIOS
{ print }
/^Benchmark[^ \t]*\/[^ \t]*[ \t]+[0-9]+[ \t]/ {
	name = $$1
	sub(/-[0-9]+$$/, "", name)          # the GOMAXPROCS suffix
	group = name; sub(/\/.*/, "", group)
	subname = name; sub(/^[^\/]*\//, "", subname)
	if (!(group in first)) { first[group] = subname; order[++ngroups] = group }
	key = group SUBSEP subname
	if (!(key in seen)) { seen[key] = 1; subs[group] = subs[group] SUBSEP subname }
	for (i = 3; i < NF; i += 2) {
		unit = $$(i + 1)
		val[group, subname, unit] = $$i
		if (!((group, unit) in hasunit)) { hasunit[group, unit] = 1; units[group] = units[group] SUBSEP unit }
	}
}
END {
	if (ngroups == 0) exit
	print ""
	print "Ratios (subject / baseline, same run; below 1 is better for time, bytes and allocs):"
	for (g = 1; g <= ngroups; g++) {
		group = order[g]; subject = first[group]
		n = split(substr(subs[group], 2), names, SUBSEP)
		m = split(substr(units[group], 2), us, SUBSEP)
		for (k = 1; k <= n; k++) {
			base = names[k]
			if (base == subject) continue
			line = sprintf("  %s: %s vs %s:", group, subject, base)
			for (j = 1; j <= m; j++) {
				u = us[j]
				if (u == "MB/s") continue
				a = val[group, subject, u]; b = val[group, base, u]
				if (a == "" || b == "" || b + 0 == 0) continue
				line = line sprintf(" %s %.2fx;", u, a / b)
			}
			print line
		}
	}
}
endef
export BENCH_RATIOS

fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "$(GO) test -run '^\$$' -fuzz '^$$name\$$' -fuzztime $(FUZZTIME) $$pkg"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) "$$pkg"; \
	done

# staticcheck, pinned; `go run pkg@version` fetches it through the module
# proxy without adding it to go.mod.
STATICCHECK ?= $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2

lint:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt -l: these files need gofmt:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...
	cfn-lint template.yaml docs/tenant-role.yaml

deploy:
	sam build && sam deploy --guided

clean:
	rm -rf build .aws-sam
