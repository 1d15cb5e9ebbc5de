# The two commands: `make demo` and `make test`. Everything else is CMake's.
#   make test SANITIZE=1        AddressSanitizer + UndefinedBehaviorSanitizer (CPU-only build)
#   make test SANITIZE=thread   ThreadSanitizer (CPU-only build)
#   make install PREFIX=/opt/ppengine
#   make fuzz FUZZ_SECONDS=600      every parser under libFuzzer
SHELL := /bin/bash
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
PREFIX ?= /usr/local
SANITIZE ?=
BUILD_TYPE ?= Release

ifeq ($(SANITIZE),1)
  BUILD ?= build-asan
  CMAKE_FLAGS += -DPP_SANITIZE=address -DPP_CUDA=OFF
  BUILD_TYPE := RelWithDebInfo
else ifeq ($(SANITIZE),thread)
  BUILD ?= build-tsan
  CMAKE_FLAGS += -DPP_SANITIZE=thread -DPP_CUDA=OFF
  BUILD_TYPE := RelWithDebInfo
  # TSan checks the threaded parts: the executor's, the API's and the batcher's stress
  # programs, and ppserve under load (cli_serve)
  # (OpenBLAS's own threads are not instrumented, so they run single-threaded).
  CTEST_FLAGS += -R '^(stress_|cli_serve$$)'
  export OPENBLAS_NUM_THREADS := 1
else
  BUILD ?= build
endif

.PHONY: all deps configure build test demo install clean fixtures fuzz

all: build

# `make demo` installs only what the demo needs; everything else the tests too.
DEPS_SET := $(if $(filter demo,$(MAKECMDGOALS)),demo,test)

deps:
	@bash .ci/deps.sh $(DEPS_SET)

configure: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DCMAKE_INSTALL_PREFIX=$(PREFIX) $(CMAKE_FLAGS)

build: configure
	cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) $(CTEST_FLAGS)

demo: build
	@bash examples/digits/demo.sh $(BUILD)

install: build
	cmake --install $(BUILD)

# Every parser under libFuzzer for FUZZ_SECONDS each (default 60); crashes land in
# tests/fuzz/crashes/ and fail the target. docs/fuzzing.md.
fuzz:
	bash tests/fuzz/run.sh $(or $(FUZZ_SECONDS),60)

# Regenerates the committed PyTorch fixtures (needs python3-torch; not part of test).
fixtures:
	/usr/bin/python3 tests/fixtures/gen/gen_models.py tests/fixtures/models
	/usr/bin/python3 tests/fixtures/gen/gen_npy.py tests/fixtures/npy

clean:
	rm -rf build build-asan build-tsan
