# Two commands matter: `make run` (install, then run the bot; with no BOT_TOKEN, the sandbox)
# and `make test` (install, then lint and run the whole test suite). Both only need
# Python 3.11+ and make; everything else is installed into .venv.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
LOCALES := locales
DOMAIN  := bot

.PHONY: install run test lint catalogs extract update-catalogs compile-catalogs clean browser

# Reinstall whenever the dependencies change.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP) compile-catalogs

run: install
	$(BIN)/python -m bot

test: install browser
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

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
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# --- translations: extract → update → (translate the .po files) → compile -----------------
extract: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg --no-wrap --sort-by-file \
		--project="Community Sharing Bot" --copyright-holder="Community Sharing Bot authors" \
		-o $(LOCALES)/$(DOMAIN).pot .

update-catalogs: extract
	$(BIN)/pybabel update --no-wrap --ignore-obsolete --no-fuzzy-matching -i $(LOCALES)/$(DOMAIN).pot \
		-d $(LOCALES) -D $(DOMAIN)

compile-catalogs: $(STAMP)
	$(BIN)/pybabel compile --statistics -d $(LOCALES) -D $(DOMAIN)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
	find $(LOCALES) -name '*.mo' -delete
