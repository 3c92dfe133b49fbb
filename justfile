# livesim tasks. `just` lists them.

set dotenv-load := false

venv := ".venv/bin"

default:
    @just --list

# Serve the demo: embedded PostgreSQL unless DATABASE_URL is set, dev auth, DEMO-BTC market.
# Ctrl-C stops livesim cleanly (and the embedded PostgreSQL it started).
run:
    LIVESIM_AUTH="${LIVESIM_AUTH:-dev}" {{venv}}/livesim serve --demo

# Serve with the environment's settings (no demo market).
serve:
    {{venv}}/livesim serve

# The whole test suite against a real PostgreSQL (DATABASE_URL, else embedded).
test *args:
    {{venv}}/pytest {{args}}

# The unit tests only: no database, no server (seconds).
test-unit *args:
    {{venv}}/pytest tests/unit {{args}}

# Stop the embedded PostgreSQL servers (app's and tests') if one was left running.
stop:
    {{venv}}/livesim db stop

# Stop them and delete their data (.livesim/: demo market, sessions, test schemas).
clean: stop
    rm -rf .livesim

# Apply pending migrations.
migrate:
    {{venv}}/livesim migrate

# Print the benchmark figures: ratio vs backtesting.py, pipeline throughput, pure core,
# paced sessions and subscribers at scale.  `just bench --quick`: fewer runs, smaller scale.
bench *args:
    {{venv}}/python -m livesim.benchmarks.versus {{args}}
    {{venv}}/python -m livesim.benchmarks.pipeline
    {{venv}}/python -m livesim.benchmarks.core
    {{venv}}/python -m livesim.benchmarks.paced {{args}}

# Price the write-path and wire options of issue 11 (COPY, synchronous_commit, decimals).
bench-prototypes *args:
    {{venv}}/python -m livesim.benchmarks.writepath {{args}}

# Import years of 1m candles through `livesim candles import`: time and peak memory.
bench-import years="5":
    {{venv}}/python -m livesim.benchmarks.imports --years {{years}}

# Static checks.
lint:
    {{venv}}/ruff check src tests
    {{venv}}/mypy

# Follow a session's events in the terminal.
watch session:
    {{venv}}/livesim watch {{session}}

# A fault soak: sessions under database restarts, kills and freezes; prints the counts.
chaos minutes="10":
    {{venv}}/python -m tests.integration.fault.chaos --minutes {{minutes}}

# Build the page (web/ -> web/dist, served by the app at /): npm ci, then vite.
web:
    cd web && npm ci --no-audit --no-fund && npm run build

# Figures of the page during a "max" replay of 100k candles (needs a built page, Chromium).
bench-desk:
    {{venv}}/python -m tests.integration.browser.bench_desk

# Order round trip: 100 bots trading manual sessions at speed 200 on 1m candles.
bench-orders sessions="100":
    {{venv}}/python -m livesim.benchmarks.orders --sessions {{sessions}}
