# The two commands of the quick start:
#   make run   install what is missing, build, start a node with demo data
#   make test  install what is missing, build, run every test (ctest)
# make ui builds the web UI (web/, npm from the registry with the committed
# lock file) into web/dist; the C++ build alone never needs Node.
BUILD ?= build
DATA ?= data
LISTEN ?= 127.0.0.1:8080
JOBS ?= $(shell nproc)

.PHONY: run test build ui deps bench clean

deps:
	@bash scripts/install-deps.sh

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

# npm ci only when the lock file changed since the last install.
web/node_modules/.package-lock.json: web/package-lock.json
	cd web && npm ci --no-audit --no-fund

ui: deps web/node_modules/.package-lock.json
	cd web && npm run build

run: deps ui $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS) --target crs
	@echo "Starting OpenCRS with demo data in $(DATA) (Ctrl-C stops it); the web UI is at http://$(LISTEN)/"
	$(BUILD)/crs serve --data $(DATA) --listen $(LISTEN) --demo --ui web/dist

test: build ui
	cd $(BUILD) && CRS_UI_REQUIRED=1 ctest --output-on-failure -j $(JOBS) --timeout 900

bench: build
	CRS_WITH_BENCH=1 bash scripts/install-deps.sh
	bash bench/run.sh

clean:
	rm -rf $(BUILD) web/dist
