# The two commands of the README: `make run` and `make test`.
.PHONY: run test build bench vet

# Run hookd on its embedded SQLite database (hookd.db in this folder).
run:
	go run ./cmd/hookd serve

# The whole test suite. Postgres and Redis tests run when
# HOOKD_TEST_POSTGRES_URL / HOOKD_TEST_REDIS_URL are set (CI sets both).
test:
	go vet ./...
	go test -count=1 -timeout 15m ./...

build:
	go build -buildvcs=auto -o hookd ./cmd/hookd

bench:
	go test -run '^$$' -bench . -benchmem ./...
