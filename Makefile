# The two commands of the README: `make run` and `make test`.
# `make check` is what CI runs before `make test`; `make short` is the inner loop.
.PHONY: run test short check lint race cross tidy build bench vet

# Run hookd on its embedded SQLite database (hookd.db in this folder).
run:
	go run ./cmd/hookd serve

# The whole test suite. Postgres and Redis tests run when
# HOOKD_TEST_POSTGRES_URL / HOOKD_TEST_REDIS_URL are set (CI sets both).
test:
	go vet ./...
	go test -count=1 -timeout 15m ./...

# The fast inner loop: long tests (the real binary, hookbench) skip under -short.
# The packages that run longest are named first so that go test starts them
# first (it runs -p of them at a time, in the order given); ./... adds the rest.
# -p 4 on any machine: a test binary waiting on Postgres holds one of the -p
# slots (default: one per core), so with 4 the links of the next binaries
# use the idle core (2 cores, with the DB URLs: 13.5-13.8 s at -p 2, 12.1-12.4 s at 4).
SLOW_PKGS = ./postgres ./cmd/hookd ./ui
short:
	go test -short -count=1 -p 4 $(SLOW_PKGS) ./...

# Packages that run goroutines of their own, tested under the race detector.
RACE_PKGS = ./dispatch/... ./ingest/... ./scheduler/... ./sqlite/... ./postgres/... ./webhook/... ./auth/...

# What the toolchain holds the code to (CI runs it before make test).
check: vet
	@out="$$(gofmt -l .)"; if [ -n "$$out" ]; then echo "gofmt -l: these files need gofmt -w:"; echo "$$out"; exit 1; fi
	go mod tidy -diff
	golangci-lint run ./...
	GOOS=windows go build ./...
	GOOS=darwin go build ./...
	go test -race -short -count=1 -timeout 15m $(RACE_PKGS)

vet:
	go vet ./...

lint:
	golangci-lint run ./...

race:
	go test -race -short -count=1 -timeout 15m $(RACE_PKGS)

cross:
	GOOS=windows go build ./...
	GOOS=darwin go build ./...

tidy:
	go mod tidy

build:
	go build -buildvcs=auto -o hookd ./cmd/hookd

bench:
	go test -run '^$$' -bench . -benchmem ./...
