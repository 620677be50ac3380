# Quick start: `make run` serves the site on http://127.0.0.1:8000; `make test` runs every test.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PORT ?= 8000
# Links in exports and emails point at the server `make run` starts, on whatever PORT it uses.
SITE_URL ?= http://127.0.0.1:$(PORT)

.PHONY: run test check bench-journey bench-upload bench-admin bench-export clean

# Debian ships python3 without venv/pip; install them when missing (as root on a fresh machine),
# and Chromium for the browser test (Playwright drives Debian's Chromium; it downloads nothing).
$(STAMP): pyproject.toml
	@python3 -c "import venv, ensurepip" 2>/dev/null || \
		(apt-get update -q && apt-get install -y -q python3-venv python3-pip)
	@command -v chromium >/dev/null || [ "$$(id -u)" != 0 ] || \
		(apt-get update -q && apt-get install -y -q chromium)
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $@

run: $(STAMP)
	DEBUG=1 $(PY) manage.py migrate --noinput
	@echo
	@echo "To review submissions, make a staff user: DEBUG=1 $(PY) manage.py createsuperuser"
	@echo "Serving on http://127.0.0.1:$(PORT)/ (SITE_URL=$(SITE_URL))"
	DEBUG=1 SITE_URL=$(SITE_URL) $(PY) manage.py runserver 127.0.0.1:$(PORT)

test: $(STAMP)
	$(PY) -m pytest -q

check: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DEBUG=1 $(PY) manage.py check
	DEBUG=1 $(PY) manage.py makemigrations --check --dry-run

# A gunicorn worker's peak memory while it receives 5 x 10 MB files (ports 8500-8599).
bench-upload: $(STAMP)
	$(PY) bench/bench_upload.py

# Complete journeys per second under gunicorn, driven by locust (ports 8600-8699, database cfe_bench).
JOURNEYS ?= 2000
bench-journey: $(STAMP)
	$(PY) -m pip install -q -e '.[bench]'
	$(PY) bench/bench_journey.py --journeys $(JOURNEYS)

# Admin list, search and change page with 100,000 submissions (database cfe_admin_bench).
bench-admin: $(STAMP)
	psql -h 127.0.0.1 -U postgres -tc "select 1 from pg_database where datname='cfe_admin_bench'" \
		| grep -q 1 || createdb -h 127.0.0.1 -U postgres cfe_admin_bench
	DATABASE_URL=postgres://postgres@127.0.0.1:5432/cfe_admin_bench $(PY) bench/bench_admin.py

# export_submissions against a plain COPY of the same columns, 100,000 rows (cfe_export_bench).
bench-export: $(STAMP)
	$(PY) bench/bench_export.py --rounds 5

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles
