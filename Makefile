# Entry points for building and testing ctpl. CI runs `make test` through .ci/run.
#
#   make consul   build the pinned Consul agent (tools/consul/go.mod) into bin/consul, only when missing
#   make consul-template  install consul-template v0.41.1 into bin/ (the differential test's oracle)
#   make build    build bin/ctpl
#   make dist     release: static, version-stamped ctpl for linux/amd64 and linux/arm64 and SHA256SUMS in dist/
#   make test     go vet, then the whole suite with the race detector; Consul tests must not skip
#   make demo     start a dev Consul, run ctpl on the nginx example and flip a health check
#   make bench    ctpl vs consul-template on a real Consul (tools/bench, 10,000×10 included; under 20 minutes), writes docs/benchmarks.md
#   make bench-fleet  what each tool costs Consul's servers: 3 servers, 4 or 16 client agents, one tool per agent,
#                 fresh cluster per tool and scenario (about 12 minutes); writes the fleet section of docs/benchmarks.md
#   make clean    remove bin/ctpl; `make distclean` also removes bin/consul (about 5 minutes to rebuild)

GO     ?= go
CONSUL := bin/consul
CTPL   := bin/ctpl
# consul-template is a test oracle and a benchmark baseline only (MPL-2.0).
CT_VERSION := v0.41.1
CT     := bin/consul-template

.PHONY: all consul consul-template build dist test demo bench bench-fleet clean distclean

all: build

consul: $(CONSUL)

# A file target without prerequisites: built only when bin/consul is missing.
$(CONSUL):
	$(GO) build -C tools/consul -o ../../$(CONSUL) github.com/hashicorp/consul

consul-template: $(CT)

$(CT):
	GOBIN=$(abspath bin) $(GO) install github.com/hashicorp/consul-template@$(CT_VERSION)

# Version stamping: `ctpl -version` prints these (see cmd/ctpl/version.go).
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse HEAD 2>/dev/null)
LDFLAGS := -X main.version=$(VERSION) -X main.commit=$(COMMIT)

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(CTPL) ./cmd/ctpl

# Release binaries: static (no cgo), reproducible paths (-trimpath), stripped,
# stamped with VERSION and COMMIT; one per architecture, with SHA256SUMS.
# The container image (Containerfile) copies them from here.
DIST        ?= dist
DIST_ARCHES ?= amd64 arm64

dist:
	rm -rf $(DIST) && mkdir -p $(DIST)
	for arch in $(DIST_ARCHES); do \
		CGO_ENABLED=0 GOOS=linux GOARCH=$$arch $(GO) build -trimpath -ldflags "-s -w $(LDFLAGS)" \
			-o $(DIST)/ctpl-linux-$$arch ./cmd/ctpl || exit 1; \
	done
	echo $(VERSION) > $(DIST)/VERSION
	cd $(DIST) && sha256sum ctpl-linux-* > SHA256SUMS

test: consul consul-template
	$(GO) vet ./...
	CTPL_REQUIRE_CONSUL=1 $(GO) test -race -count=1 ./...

demo: consul build
	$(GO) run ./tools/demo

# BENCHFLAGS: -only NAME (e.g. -only 10,000), -no-consul-template, -flips N, -churn D; see go run ./tools/bench -h.
BENCHFLAGS ?=

bench: consul consul-template build
	$(GO) run ./tools/bench $(BENCHFLAGS)

# FLEETFLAGS: -fleet-runs N (fresh clusters per tool and scenario; 2 fit in 20 minutes), -fleet-flips N,
# -fleet-period D, -only NAME (e.g. -only "16 agents"), -no-consul-template, -out FILE.
FLEETFLAGS ?= -fleet-runs 2

bench-fleet: consul consul-template build
	$(GO) run ./tools/bench -fleet $(FLEETFLAGS)

clean:
	rm -f $(CTPL)
	rm -rf $(DIST)

distclean: clean
	rm -rf bin
