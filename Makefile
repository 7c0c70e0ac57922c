# make demo: install everything and run the system on a simulated office (UI on http://127.0.0.1:8000)
# make test: install everything and run every test
# make test-fast: the unit and web tests only (no end-to-end, browser or fuzz tests, nothing marked slow)
# make upgrade: refresh requirements.lock to today's releases, reinstall and run every test
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_DIR := demo
DEMO_MINUTES ?= 3
# 54 minutes of kiosk tickets at 3 minutes a loop (the demo's feed accepts times up to an hour ahead), in the
# simulated office's time zone, dated this many seconds ahead: from the ticket import to the cameras' first frame
DEMO_LOOPS ?= 18
DEMO_TZ := Asia/Ho_Chi_Minh
DEMO_LEAD_S := 8

LOCK := requirements.lock
PIP_TOOLS := pip-tools==7.6.2

.PHONY: demo test test-fast upgrade lock system-deps venv clean-demo

system-deps:
	@sh scripts/system-deps.sh

# every dependency, direct or not, at the version in the lock; then the project itself without resolving again
$(BIN)/onestop: pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-virtualenv -r $(LOCK)
	$(BIN)/pip install --quiet --require-virtualenv --no-deps --no-build-isolation -e .
	$(BIN)/pip check
	@touch $@

venv: $(BIN)/onestop

$(DEMO_DIR)/cameras.yaml: | venv
	$(BIN)/onestop simulate --out $(DEMO_DIR) --minutes $(DEMO_MINUTES) --seed 1

# the demo admin's password: random, made once per demo folder (clean-demo removes it with the database)
$(DEMO_DIR)/admin-password.txt: | $(DEMO_DIR)/cameras.yaml
	@umask 077 && $(BIN)/python -c "import secrets; print(secrets.token_urlsafe(12))" > $@

# the kiosk's tickets of the next hour of loops, dated from now in the office's time zone, numbered from the minute
# of the day so a second demo the same day adds new tickets (one started within the same minute: its lines are refused)
demo: system-deps venv $(DEMO_DIR)/cameras.yaml $(DEMO_DIR)/admin-password.txt
	$(BIN)/onestop check-config -c $(DEMO_DIR)/cameras.yaml
	$(BIN)/onestop users add admin --role admin --password-stdin --exists-ok -c $(DEMO_DIR)/cameras.yaml < $(DEMO_DIR)/admin-password.txt
	$(BIN)/onestop tickets from-truth $(DEMO_DIR)/truth.json -o $(DEMO_DIR)/tickets.csv --loops $(DEMO_LOOPS) \
		--start "$$(TZ=$(DEMO_TZ) date -d '+$(DEMO_LEAD_S) seconds' +%Y-%m-%dT%H:%M:%S)" --first "$$(( $$(TZ=$(DEMO_TZ) date +%-H) * 60000 + $$(TZ=$(DEMO_TZ) date +%-M) * 1000 + 1 ))"
	-$(BIN)/onestop tickets import $(DEMO_DIR)/tickets.csv --mapping kiosk -c $(DEMO_DIR)/cameras.yaml
	@echo "demo login on http://127.0.0.1:8000 -> user: admin  password: $$(cat $(DEMO_DIR)/admin-password.txt)"
	$(BIN)/onestop run -c $(DEMO_DIR)/cameras.yaml --host 127.0.0.1 --port 8000

# four test processes on two cores, one test file each at a time: most end-to-end tests wait on real
# time, not the CPU (measured: 7 min 44 s with three, 9 min 42 s with two; later, with more tests,
# 9 min 16 s with three and 8 min 51 s with four, pytest alone)
test: system-deps venv
	$(BIN)/pytest -q -ra -n 4 --dist loadfile

# what to run after each change; make test before a commit that others will build on
test-fast: venv
	$(BIN)/pytest -q -ra -n 2 --dist loadfile -m "not slow" tests/unit tests/web

# the lock: every package pyproject.toml needs (with the test extra and the build requirements), pinned;
# pip-compile runs from a venv of its own, so a dependency just added to pyproject.toml needs no install first
LOCK_VENV := .venv-lock
lock:
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/pip install --quiet $(PIP_TOOLS)
	$(LOCK_VENV)/bin/pip-compile --quiet --extra test --all-build-deps --strip-extras --allow-unsafe --no-emit-find-links \
		--no-emit-index-url --no-emit-trusted-host $(UPGRADE) -o $(LOCK) pyproject.toml

upgrade:
	$(MAKE) lock UPGRADE=--upgrade
	$(MAKE) test

clean-demo:
	rm -rf $(DEMO_DIR)
