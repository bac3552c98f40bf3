# Every target builds what it needs; nothing is installed by hand.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
CSS    := chalicelib/static/govuk-frontend.css
CHROMIUM := /usr/bin/chromium
# checkov pins a boto3 the app cannot use, so it has a venv of its own.
CHECKOV_VENV  := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed

export PREFECT_SERVER_ANALYTICS_ENABLED := false
# chalice package needs a region and must never look for real credentials.
export AWS_DEFAULT_REGION ?= eu-west-2

.PHONY: up postgresql down test test-fast lint check package bench bench-pipeline bench-cost bench-soak admin clean

$(STAMP): requirements.txt requirements-dev.txt constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	touch $(STAMP)

# GOV.UK Frontend's styles, compiled with a system font (see frontend/styles.scss), and axe-core.
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

$(CSS): $(NODE_STAMP) frontend/styles.scss
	mkdir -p $(dir $(CSS))
	npx --no-install sass --load-path=node_modules --style=compressed --no-source-map frontend/styles.scss $(CSS)

# Debian's Chromium for the browser tests (Playwright must never download its own).
$(CHROMIUM):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

# Debian's PostgreSQL for the local Prefect server, as production has one (root only: apt-get). Without it
# `make up` says so and the Prefect server uses SQLite, which answers "database is locked" under a surge.
postgresql:
	@test -n "$(wildcard /usr/lib/postgresql/*/bin/postgres)$(PG_BIN)" \
	  || { [ "$$(id -u)" = 0 ] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; } \
	  || echo "PostgreSQL is not installed and could not be (apt-get as root): the Prefect server will use SQLite"

## up: the whole local stack (moto, PostgreSQL, Prefect server and UI, the API); Ctrl-C stops it
up: $(STAMP) $(CSS) postgresql
	$(BIN)/python -m scripts.local_stack up

## down: stop a stack started by 'make up' from another terminal
down: $(STAMP)
	$(BIN)/python -m scripts.local_stack down

## test: every test, browser tests included, spread over the cores (TEST_WORKERS=0: one process)
TEST_WORKERS ?= auto
test: $(STAMP) $(CSS) $(CHROMIUM) postgresql
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup --durations=15

## test-fast: the domain, and services and the storage contract on in-memory fakes (no moto, Prefect or browser)
##   (only these folders are collected, so nothing else is even imported)
test-fast: $(STAMP)
	$(BIN)/python -m pytest -m fast -q tests/domain tests/contracts tests/services

$(CHECKOV_STAMP): requirements-checkov.txt
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
	touch $(CHECKOV_STAMP)

## lint: ruff and mypy (pyproject.toml states the rules and where mypy is strict); 0 findings, in seconds
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

## check: lint, then the security checks (CI runs them after the tests): bandit on the code, cfn-lint and checkov
##   on the packaged template and infra/prefect-host.json (offline), schemathesis against the running API's /openapi.json (about 2 minutes)
check: lint package $(CHECKOV_STAMP)
	$(BIN)/bandit -q -c pyproject.toml -r app.py chalicelib flows scripts
	$(BIN)/cfn-lint build/package/sam.json
	$(CHECKOV_VENV)/bin/checkov -f build/package/sam.json --framework cloudformation --skip-download --compact --quiet
	$(BIN)/cfn-lint infra/prefect-host.json
	$(CHECKOV_VENV)/bin/checkov -f infra/prefect-host.json --framework cloudformation --skip-download --compact --quiet
	$(BIN)/python -m scripts.check_api --max-examples $${CHECK_API_EXAMPLES:-25}

## package: the Lambda deployment package and its CloudFormation template (infra/resources.json merged in),
##   then botocore's models pruned to the services called and bytecode compiled (scripts/slim_package.py)
package: $(STAMP) $(CSS)
	rm -rf build/package
	$(BIN)/chalice package --stage prod --merge-template infra/resources.json build/package
	$(BIN)/python -m scripts.slim_package build/package

## admin: the operators' CLI against the running local stack, e.g.
##   make admin ARGS="--operator me strategic start --force northamptonshire"
##   make admin ARGS="login --username admin.derbyshire"   (an ID token for the admin API; demo operators only)
admin: $(STAMP)
	IAG_STAGE=local IAG_AWS_ENDPOINT=http://127.0.0.1:$${MOTO_PORT:-5000} IAG_PREFECT_API_URL=http://127.0.0.1:$${PREFECT_PORT:-4200}/api \
	IAG_PUBLIC_BASE_URL=http://127.0.0.1:$${API_PORT:-8000} AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local \
	AWS_DEFAULT_REGION=eu-west-2 IAG_OPERATOR_PASSWORD=Local-Operator-1 $(BIN)/python -m scripts.admin $(ARGS)

## bench: timing and size figures (prints, never fails on a number)
bench: package
	$(BIN)/python bench/intake.py
	$(BIN)/python bench/journey.py
	$(BIN)/python bench/reports.py
	$(BIN)/python bench/retention_reads.py 1000 20000

## bench-pipeline: a campaign surge through the whole local stack (N=200 by default; takes minutes)
N ?= 200
bench-pipeline: $(STAMP) $(CSS) postgresql
	$(BIN)/python bench/pipeline.py --n $(N)

SOAK_N ?= 2000
## bench-soak: a day of use (SOAK_N applications and their panel decisions, in batches), then a restart
bench-soak: $(STAMP) $(CSS) postgresql
	$(BIN)/python bench/soak.py --n $(SOAK_N)

## bench-cost: the AWS cost per 1,000 applications, from one application's calls on the local stack
bench-cost: $(STAMP) $(CSS)
	$(BIN)/python bench/cost.py

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) node_modules build .pytest_cache chalicelib/static
