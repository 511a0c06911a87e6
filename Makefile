# dbinit: `make` builds build/dbinit; `make demo` and `make test` also install what is missing.
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc)
CMAKE_ARGS ?=

SOURCES = $(shell git ls-files '*.cpp' '*.h' 2>/dev/null || find src tests bench -name '*.cpp' -o -name '*.h')

.PHONY: all deps deps-test build demo test test-fast test-asan format check-format bench clean

all: build

deps:
	@bash scripts/install-deps build

deps-test:
	@bash scripts/install-deps test

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_ARGS) >/dev/null
	@cmake --build $(BUILD) -j$(JOBS) --target dbinit

demo: build
	@bash examples/demo.sh $(BUILD)/dbinit

# Every test: the optimised build, then the unit and SQLite suites again under ASan/UBSan.
test: deps-test check-format
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_ARGS)
	cmake --build $(BUILD) -j$(JOBS)
	cd $(BUILD) && ctest -j$(JOBS) --output-on-failure --timeout 600
	$(MAKE) test-asan

test-asan: deps-test
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DDBINIT_SANITIZE=address,undefined $(CMAKE_ARGS)
	cmake --build $(ASAN_BUILD) -j$(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 ctest -j$(JOBS) --output-on-failure --timeout 600 -L 'unit|sqlite'

format:
	clang-format -i $(SOURCES)

check-format:
	@clang-format --dry-run --Werror $(SOURCES)

# Every engine side by side with dbmate and each engine's shell; BENCH_ARGS="--engine sqlite" for one.
BENCH_ARGS ?= --engine all
bench: build
	@bash bench/run.sh $(BENCH_ARGS)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
