# Two commands matter: `make run` (install, then run the bot; with no BOT_TOKEN, the sandbox)
# and `make test` (install, then lint and run the whole test suite). Both only need
# Python 3.11+ and make; everything else is installed into .venv, at the exact versions and
# hashes of requirements-dev.txt (the lock; `make lock` refreshes it from pyproject.toml).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
LOCALES := locales
DOMAIN  := bot

.PHONY: install run test lint lock catalogs extract update-catalogs compile-catalogs clean browser

# Install exactly what the lock says, every package checked against its hash, nothing else
# (--no-deps: a dependency missing from the lock is an error, not a silent download). The
# bot itself is not installed: every command runs from this directory (python -m ...).
$(STAMP): requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP) compile-catalogs

# exec: the bot replaces the shell, so a SIGTERM that make passes on reaches the bot itself.
run: install
	exec $(BIN)/python -m bot

# Four workers (pytest-xdist) on two cores: most tests wait on the bot (outbox ticks, jobs, a
# killed process's restart) rather than compute, so the suite takes half the time it takes in
# one process. `make test TEST_WORKERS=0` runs it in one. loadgroup: the browser tests share
# one worker (tests/browser/conftest.py).
TEST_WORKERS ?= 4
test: install browser lint
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup

# The locks: requirements-dev.txt (the bot and its tests: what `make` installs) and
# requirements.txt (the bot alone, at the same versions: what a Procfile host installs).
# Run after changing dependencies in pyproject.toml, or to take newer releases; then
# `make test` and commit the locks with the change. Resolved for CPython 3.11 on Linux.
PIP_COMPILE := $(VENV)-lock/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-find-links --upgrade
lock:
	test -x $(VENV)-lock/bin/pip-compile || \
		($(PYTHON) -m venv $(VENV)-lock && $(VENV)-lock/bin/pip install --quiet 'pip-tools>=7.4,<8')
	$(PIP_COMPILE) --extra test -o requirements-dev.txt pyproject.toml
	$(PIP_COMPILE) -c requirements-dev.txt -o requirements.txt pyproject.toml

# Debian's Chromium for the browser tests (tests/browser drive it with Playwright; nothing is
# downloaded by Playwright itself). Installed when missing and we are root; otherwise the
# browser tests say what to install (and fail under CI=true instead of skipping).
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends chromium fonts-noto-color-emoji >/dev/null; \
	else \
		echo "chromium is missing and this is not root: the browser tests need" \
			"'apt-get install chromium' (Debian) or CHROMIUM_PATH"; \
	fi

lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy

# --- translations: extract → update → (translate the .po files) → compile -----------------
# Messages sorted by text, without source locations or creation dates: a catalog changes only
# where a message changes, so moving code or two branches adding strings do not collide.
# "Translators:" comments above a string in the code reach the catalogs as context.
UNDATE := sed -i '/^"POT-Creation-Date: /d'
extract: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg --no-wrap --sort-output --no-location \
		--add-comments=Translators: \
		--project="Community Sharing Bot" --copyright-holder="Community Sharing Bot authors" \
		-o $(LOCALES)/$(DOMAIN).pot .
	$(UNDATE) $(LOCALES)/$(DOMAIN).pot

# Serbian in Latin script is not translated but transliterated from the Cyrillic catalog.
update-catalogs: extract
	$(BIN)/pybabel update --no-wrap --ignore-obsolete --no-fuzzy-matching -i $(LOCALES)/$(DOMAIN).pot \
		-d $(LOCALES) -D $(DOMAIN)
	$(UNDATE) $(LOCALES)/*/LC_MESSAGES/$(DOMAIN).po
	$(BIN)/python -m tools.serbian_latin

compile-catalogs: $(STAMP)
	$(BIN)/pybabel compile --statistics -d $(LOCALES) -D $(DOMAIN)

clean:
	rm -rf $(VENV) $(VENV)-lock .pytest_cache .ruff_cache .mypy_cache
	find $(LOCALES) -name '*.mo' -delete
