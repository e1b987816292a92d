# The few commands people run. See README.md.
MYSQL_DSN ?= root@tcp(127.0.0.1:3306)/

.PHONY: run test test-race test-mysql lint fuzz fuzz-api bench build ci

run: ## the server on ./rectify.db with demo data
	go run ./cmd/rectify serve --demo

build:
	go build -o bin/rectify ./cmd/rectify

test: ## every suite on SQLite
	go test ./...

test-race:
	go test -race ./...

test-mysql: ## store, app, API, demo and end-to-end suites on MariaDB/MySQL
	RECTIFY_TEST_MYSQL_DSN='$(MYSQL_DSN)' go test -race ./internal/store/... ./internal/app/... ./internal/httpapi/... ./internal/demo/... ./cmd/...

lint:
	gofmt -l cmd internal
	go vet ./...
	@command -v golangci-lint >/dev/null && golangci-lint run || echo "golangci-lint not installed; ran gofmt and go vet"

fuzz: ## each fuzz target for 30s
	go test -run=^$$ -fuzz=FuzzParseDate -fuzztime=30s ./internal/domain/
	for f in FuzzDecodeCursor FuzzProblemFilter FuzzDecodeProblemBody FuzzIfMatch; do \
		go test -run=^$$ -fuzz=^$$f$$ -fuzztime=30s ./internal/httpapi/ || exit 1; done

fuzz-api: ## requests generated from docs/openapi.yaml against the real API, fixed seeds (SEEDS, N to vary)
	for s in $(or $(SEEDS),1 2 3 4 5 6 7 8); do \
		go test -count=1 -run '^TestAPIAgainstDocument$$' ./internal/apifuzz/ -apifuzz.seed=$$s -apifuzz.n=$(or $(N),5000) || exit 1; done

bench:
	go test -run=^$$ -bench=. -benchmem ./...

ci:
	bash .ci/run
