# Entry points for building and testing ctpl. CI runs `make test` through .ci/run.
#
#   make consul   build the pinned Consul agent (tools/consul/go.mod) into bin/consul, only when missing
#   make build    build bin/ctpl
#   make test     go vet, then the whole suite with the race detector; Consul tests must not skip
#   make demo     start a dev Consul, run ctpl on the nginx example and flip a health check
#   make bench    comparison benchmarks (not yet implemented)
#   make clean    remove bin/ctpl; `make distclean` also removes bin/consul (about 5 minutes to rebuild)

GO     ?= go
CONSUL := bin/consul
CTPL   := bin/ctpl

.PHONY: all consul build test demo bench clean distclean

all: build

consul: $(CONSUL)

# A file target without prerequisites: built only when bin/consul is missing.
$(CONSUL):
	$(GO) build -C tools/consul -o ../../$(CONSUL) github.com/hashicorp/consul

build:
	$(GO) build -o $(CTPL) ./cmd/ctpl

test: consul
	$(GO) vet ./...
	CTPL_REQUIRE_CONSUL=1 $(GO) test -race -count=1 ./...

demo: consul build
	$(GO) run ./tools/demo

bench:
	@echo "make bench: not yet implemented"

clean:
	rm -f $(CTPL)

distclean: clean
	rm -rf bin
