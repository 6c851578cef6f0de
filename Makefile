# Two commands: `make demo` and `make test`. Both create .venv and install the project first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SAMPLE := ../shared/data/sparkify-sample
WAREHOUSE ?= sparkify.duckdb

.PHONY: demo test install clean

$(BIN)/sparkify: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@

install: $(BIN)/sparkify

# Demo data is generated once (fixed seed: ~100 k events, 2 k songs, 30 days) into a temporary
# folder renamed at the end, so an interrupted run never leaves half a dataset behind.
DEMO_DATA := demo-data

$(DEMO_DATA): | install
	rm -rf $(DEMO_DATA).tmp
	$(BIN)/sparkify generate --out $(DEMO_DATA).tmp --songs 2000 --users 1000 --days 30 --seed 42
	mv $(DEMO_DATA).tmp $(DEMO_DATA)

# The summary fits one screen: the load, the tables, the top songs; the whole report goes to a page.
demo: install $(DEMO_DATA)
	$(BIN)/sparkify etl --songs $(DEMO_DATA)/song_data --logs $(DEMO_DATA)/log_data --warehouse $(WAREHOUSE)
	$(BIN)/sparkify status --warehouse $(WAREHOUSE)
	$(BIN)/sparkify query top_songs --limit 5 --warehouse $(WAREHOUSE)
	$(BIN)/sparkify report --html demo-report.html --warehouse $(WAREHOUSE)
	@echo "The whole report: demo-report.html. Next: . $(VENV)/bin/activate; sparkify --help"

test: install
	$(BIN)/pytest

clean:
	rm -rf $(VENV) $(WAREHOUSE) $(DEMO_DATA) $(DEMO_DATA).tmp demo-report.html
