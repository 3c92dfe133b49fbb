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

# Print the benchmark figures (pipeline throughput, fan-out, pure core).
bench:
    {{venv}}/python -m livesim.benchmarks.pipeline
    {{venv}}/python -m livesim.benchmarks.core

# Static checks.
lint:
    {{venv}}/ruff check src tests
    {{venv}}/mypy

# Follow a session's events in the terminal.
watch session:
    {{venv}}/livesim watch {{session}}

# A fault soak: sessions under database restarts, kills and freezes; prints the counts.
chaos minutes="10":
    {{venv}}/python -m tests.fault.chaos --minutes {{minutes}}
