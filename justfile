# livesim tasks. `just` lists them.

set dotenv-load := false

venv := ".venv/bin"

default:
    @just --list

# Serve the demo: embedded PostgreSQL unless DATABASE_URL is set, dev auth, DEMO-BTC market.
run:
    LIVESIM_AUTH="${LIVESIM_AUTH:-dev}" {{venv}}/livesim serve --demo

# Serve with the environment's settings (no demo market).
serve:
    {{venv}}/livesim serve

# The whole test suite against a real PostgreSQL (DATABASE_URL, else embedded).
test *args:
    {{venv}}/pytest {{args}}

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

# Static checks.
lint:
    {{venv}}/ruff check src tests
    {{venv}}/mypy

# Follow a session's events in the terminal.
watch session:
    {{venv}}/livesim watch {{session}}
