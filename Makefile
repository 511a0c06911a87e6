# dbinit: `make` builds build/dbinit; `make demo` and `make test` also install what is missing.
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc)
CMAKE_ARGS ?=

SOURCES = $(shell git ls-files '*.cpp' '*.h' 2>/dev/null || find src tests bench -name '*.cpp' -o -name '*.h')

.PHONY: all deps deps-test mermaid-deps build demo test test-fast test-asan format check-format bench bench-snapshot clean

all: build

deps:
	@bash scripts/install-deps build

deps-test:
	@bash scripts/install-deps test

# mermaid's own parser, pinned by tests/support/mermaid/package-lock.json, for the unit tests that
# check the Mermaid diagrams; installed again only when the lock file changes.
MERMAID_DIR = $(BUILD)/mermaid
mermaid-deps: $(MERMAID_DIR)/node_modules/.package-lock.json

$(MERMAID_DIR)/node_modules/.package-lock.json: tests/support/mermaid/package.json tests/support/mermaid/package-lock.json
	@mkdir -p $(MERMAID_DIR)
	cp tests/support/mermaid/package.json tests/support/mermaid/package-lock.json tests/support/mermaid/parse.mjs $(MERMAID_DIR)/
	npm ci --prefix $(MERMAID_DIR) --no-audit --no-fund

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_ARGS) >/dev/null
	@cmake --build $(BUILD) -j$(JOBS) --target dbinit

demo: build
	@bash examples/demo.sh $(BUILD)/dbinit

# Every test: the optimised build, then the unit and SQLite suites again under ASan/UBSan.
test: deps-test check-format mermaid-deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_ARGS)
	cmake --build $(BUILD) -j$(JOBS)
	cd $(BUILD) && ctest -j$(JOBS) --output-on-failure --timeout 600
	$(MAKE) test-asan

test-asan: deps-test mermaid-deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DDBINIT_SANITIZE=address,undefined -DDBINIT_MERMAID_DIR=$(abspath $(MERMAID_DIR)) $(CMAKE_ARGS)
	cmake --build $(ASAN_BUILD) -j$(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/support/lsan.supp ctest -j$(JOBS) --output-on-failure --timeout 600 -L 'unit|sqlite'

format:
	clang-format -i $(SOURCES)

check-format:
	@clang-format --dry-run --Werror $(SOURCES)

# Every engine side by side with dbmate and each engine's shell; BENCH_ARGS="--engine sqlite" for one.
BENCH_ARGS ?= --engine all
bench: build
	@bash bench/run.sh $(BENCH_ARGS)

# Snapshots (dump, load) against pg_dump/pg_restore, mariadb-dump and sqlite3 on 3M rows;
# SNAPSHOT_ARGS="--engine sqlite --rows 100000" for a quick one.
SNAPSHOT_ARGS ?= --engine all
bench-snapshot: build
	@bash bench/snapshot.sh $(SNAPSHOT_ARGS)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
