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

demo: install
	$(BIN)/sparkify etl --songs $(SAMPLE)/song_data --logs $(SAMPLE)/log_data --warehouse $(WAREHOUSE)
	$(BIN)/sparkify status --warehouse $(WAREHOUSE)

test: install
	$(BIN)/pytest

clean:
	rm -rf $(VENV) $(WAREHOUSE) demo-data
