# Set-up, tests and the demo. `make test` and `make demo` are all a fresh machine needs.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The venv is rebuilt only when the pinned requirements change.
REQ_HASH := $(shell cat requirements.txt requirements-dev.txt | sha256sum | cut -c1-16)
STAMP := $(VENV)/.installed-$(REQ_HASH)
# Paper mirrors: ../shared/papers where it exists, plus whatever the caller set.
SHARED_PAPERS := $(abspath $(wildcard ../shared/papers))
export XRAG_PAPER_MIRRORS := $(subst $(eval) ,:,$(strip $(XRAG_PAPER_MIRRORS) $(SHARED_PAPERS)))
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False
PORT ?= 8501
PYTEST_ARGS ?=

.PHONY: venv test test-fast demo ingest train app lock lint bench eval browser-deps clean

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -r requirements-dev.txt
	@rm -f $(VENV)/.installed-*
	@touch $@

# Debian's Chromium for the real-browser test (never `playwright install`: it downloads).
browser-deps:
	@if [ ! -x /usr/bin/chromium ]; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; \
	fi

test: venv browser-deps
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

# Everything but the real-browser and the slow tests: the inner loop while developing.
test-fast: venv
	$(BIN)/python -m pytest -q -m "not slow and not browser" $(PYTEST_ARGS)

ingest: venv
	$(BIN)/python -m ingest

# The language model (pre-training, 4.6 min), then the xLSTM token reader that scores the
# evidence of every answer (two readers side by side, averaged; 4 min with reading the corpus
# and encoding it):
# `make train` stays within 10 minutes on 2 cores.
TRAIN_LM := $(BIN)/python -m xlstm_model.train --corpus default --out default --qa none \
  --max-minutes 4.6
TRAIN_READER := $(BIN)/python -m xlstm_model.token_reader_train --corpus default \
  --model-dir default --members 2 --max-minutes 4.0

train: venv
	$(TRAIN_LM)
	$(TRAIN_READER)

app: venv
	$(BIN)/streamlit run app/streamlit_app.py --server.address 127.0.0.1 --server.port $(PORT) \
	  --server.headless true --browser.gatherUsageStats false

# Fetch and ingest the default paper, train the default model if missing, start the UI.
demo: venv
	$(BIN)/python -m ingest
	$(TRAIN_LM) --if-missing
	$(TRAIN_READER) --if-missing
	$(MAKE) app

bench: venv
	$(BIN)/python -m bench.ingest_speed
	$(BIN)/python -m bench.model

eval: venv
	$(BIN)/python -m app.evaluate --questions app/questions/xlstm_v2.jsonl --out eval-out

lint: venv
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

# Re-pin requirements*.txt from requirements*.in (torch pinned without the local +cpu label).
lock:
	$(BIN)/pip-compile --no-emit-index-url --no-emit-find-links --allow-unsafe --strip-extras \
	  -q -o requirements.txt requirements.in
	sed -i 's/^torch==\([0-9.]*\)+cpu/torch==\1/' requirements.txt
	$(BIN)/pip-compile --no-emit-index-url --no-emit-find-links --allow-unsafe --strip-extras \
	  -q -o requirements-dev.txt requirements-dev.in
	sed -i 's/^torch==\([0-9.]*\)+cpu/torch==\1/' requirements-dev.txt

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
