# The two commands of the quick start:
#   make run   install what is missing, build, start a node with demo data
#   make test  install what is missing, build, run every test (ctest)
BUILD ?= build
DATA ?= data
LISTEN ?= 127.0.0.1:8080
JOBS ?= $(shell nproc)

.PHONY: run test build deps bench clean

deps:
	@bash scripts/install-deps.sh

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

run: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS) --target crs
	@echo "Starting OpenCRS with demo data in ./$(DATA) (Ctrl-C stops it)"
	$(BUILD)/crs serve --data $(DATA) --listen $(LISTEN) --demo

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 900

bench: build
	CRS_WITH_BENCH=1 bash scripts/install-deps.sh
	bash bench/run.sh

clean:
	rm -rf $(BUILD)
