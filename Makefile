# The two commands of the README:  `make run` (install, then run the demo console on the
# embedded SQLite default) and `make test` (install test needs, then lint and the suite on SQLite and
# PostgreSQL). Everything installs into .venv from nothing.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_DIR ?= instance-demo
PORT ?= 8600
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
PYTEST_ARGS ?=
# Two workers (this machine has 2 cores; most tests wait on servers, crawls or Chromium);
# whole files go to one worker so module-scoped fixtures are built once.
PYTEST_PARALLEL ?= -n 2 --dist loadfile
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test test-clock-ahead install install-test lint bench bench-smoke bench-docs clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV) || { $(SUDO) apt-get update && $(SUDO) apt-get install -y python3-venv && $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/python -m pip install -q -e '.[test]'
	[ -x /usr/bin/chromium ] || { $(SUDO) apt-get update && $(SUDO) apt-get install -y chromium; }
	# the crawl-queue tests run against a real Redis on 127.0.0.1:6379
	command -v redis-server >/dev/null || { $(SUDO) apt-get update && $(SUDO) apt-get install -y redis-server; }
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

# The demo: a local news/Weibo/留言板 site on 127.0.0.1, the real crawl -> analyze -> route ->
# notify pipeline on SQLite in $(DEMO_DIR), and the console; it prints the address and logins.
run: install
	$(BIN)/yuqing demo --dir $(DEMO_DIR) --port $(PORT)

lint: install-test
	$(BIN)/ruff check .

test: lint
	$(BIN)/python -m pytest -q $(PYTEST_PARALLEL) $(PYTEST_ARGS)
	YUQING_TEST_DATABASE_URL=$(PG_URL) $(BIN)/python -m pytest -q $(PYTEST_PARALLEL) $(PYTEST_ARGS)

# Files whose tests wait on child processes or servers: libfaketime breaks those waits
# (EINVAL from sleep, waits that never end), whatever the date.
CHILD_PROCESS_TESTS = tests/yuqing/test_run.py tests/yuqing/test_demo.py \
	tests/yuqing/test_cli_import.py tests/yuqing/test_crash_routing.py \
	tests/yuqing/test_search_command.py tests/yuqing/test_crawling.py tests/yuqing/test_roles.py \
	tests/yuqing/test_bench_command.py \
	tests/yuqing/test_settings.py tests/routing/test_scheme_push.py \
	tests/yuqing/test_crawl_workers.py \
	tests/webui/test_admin_sources.py \
	tests/crawlers/test_crawl_html.py::test_bad_pages_are_recorded_with_their_url_and_skipped \
	tests/yuqing/test_report_replies_cli.py::test_an_imported_board_export_gives_the_reply_report_as_json

# The suite must not depend on today's date: run it (SQLite) with the clock a year ahead.
# libfaketime breaks timed waits in child servers and Chromium, so those few tests are left out.
test-clock-ahead: install-test
	command -v faketime >/dev/null || { $(SUDO) apt-get update && $(SUDO) apt-get install -y faketime; }
	FAKETIME_DONT_FAKE_MONOTONIC=1 faketime -f "+365d" $(BIN)/python -m pytest -q $(PYTEST_PARALLEL) \
		-m "not browser" $(foreach f,$(CHILD_PROCESS_TESTS),--deselect $(f)) $(PYTEST_ARGS)

# Every bench/bench_*.py through `yuqing bench` (a table; figures against baselines measured in
# the same run). BENCH_ARGS e.g. "--only latency" or "--json".
BENCH_SIZE ?= full
BENCH_ARGS ?=
bench: install-test
	$(BIN)/yuqing bench --size $(BENCH_SIZE) $(BENCH_ARGS)

# CI's smoke run (.ci/run, after `make test`): every benchmark at the small size must finish,
# whatever its figures; a module stuck past the timeout counts as failed.
bench-smoke: install-test
	$(BIN)/yuqing bench --size small --json --timeout 240

# docs/PERFORMANCE.md is written by the command, never by hand.
bench-docs: install-test
	$(BIN)/yuqing bench --size full --markdown

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
