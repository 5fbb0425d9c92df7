# The README's commands.  CMake does the building; this file only strings
# the steps together:
#   make run     set up, build, run the main job: the echo server on
#                127.0.0.1:1234, every core, until Ctrl-C (make demo: the tutorial demo)
#   make test    set up, build, run every test, then again under ASan+UBSan,
#                then the cross-shard tests (label "smp") under ThreadSanitizer
#   make bench   set up, build, run the benchmarks
#   make install install the library, headers and pkg-config file (PREFIX=/usr/local)

BUILD      ?= build
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
PREFIX     ?= /usr/local
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all setup build build-asan build-tsan run demo test test-asan test-tsan bench install clean

all: build

setup:
	@scripts/setup.sh

build: setup
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

build-asan: setup
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSEA_SANITIZE=ON -DSEA_BUILD_BENCH=OFF >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)

build-tsan: setup
	@cmake -S . -B $(TSAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSEA_TSAN=ON -DSEA_BUILD_BENCH=OFF >/dev/null
	@cmake --build $(TSAN_BUILD) -j $(JOBS)

run: build
	@echo "== sea-memcached on 127.0.0.1:11211, every core; try: memcstat --servers=127.0.0.1:11211, or"
	@echo "   memccp --servers=127.0.0.1:11211 FILE; memccat --servers=127.0.0.1:11211 FILE. Ctrl-C stops it"
	@./$(BUILD)/apps/sea-memcached -l 127.0.0.1 -p 11211

demo: build
	@./$(BUILD)/apps/sea-demo

test: build
	@echo "== test suite ($(BUILD))"
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	@$(MAKE) --no-print-directory test-asan
	@$(MAKE) --no-print-directory test-tsan

test-asan: build-asan
	@echo "== test suite under AddressSanitizer+UndefinedBehaviorSanitizer ($(ASAN_BUILD))"
	@cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
		ctest --output-on-failure -j $(JOBS)

# Only the tests that run several shards at once (ctest label "smp"): that
# is where threads share memory.
test-tsan: build-tsan
	@echo "== cross-shard tests under ThreadSanitizer ($(TSAN_BUILD))"
	@cd $(TSAN_BUILD) && TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
		ctest --output-on-failure -j $(JOBS) -L smp

bench: build
	@for b in $(BUILD)/bench/*; do \
		if [ -f "$$b" ] && [ -x "$$b" ]; then echo "== $$b"; "$$b" || exit 1; fi; \
	done

install: build
	@cmake --install $(BUILD) --prefix $(PREFIX)

clean:
	@rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD)
