# mmrenal: `make run` and `make test` each set up .venv/ themselves.
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: run test bench soak hil lint clean setup

setup: $(STAMP)

$(STAMP): pyproject.toml scripts/setup-venv.sh
	@bash scripts/setup-venv.sh $(VENV)
	@touch $(STAMP)

run: $(STAMP)
	@$(VENV)/bin/mmrenal demo
	@$(VENV)/bin/mmrenal sim --serve

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/python -m mmrenal.tablegen --check
	$(VENV)/bin/python -m mmrenal.fontgen --check
	$(VENV)/bin/python -m mmrenal.boardgen --check
	$(VENV)/bin/pytest -q
	$(VENV)/bin/python -m mmrenal.trace --check

bench: $(STAMP)
	$(VENV)/bin/python -m mmrenal.bench --out docs/benchmarks.md

soak: $(STAMP)
	MMRENAL_SOAK=1 $(VENV)/bin/pytest -q
	$(VENV)/bin/python -m mmrenal.trace --check

# Hardware-in-the-loop on a real board: make hil PORT=/dev/ttyACM0
hil: $(STAMP)
	$(VENV)/bin/pytest -q tests/hil --port $(or $(PORT),auto) --require-board

lint: $(STAMP)
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
