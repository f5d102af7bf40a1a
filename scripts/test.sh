#!/usr/bin/env bash
# Runs every test project of the solution and prints one summary line: "N passed, N failed[, N skipped]".
# Installs (apt-get and npm, as root) and starts what the tests need: OpenBLAS, and PostgreSQL, RabbitMQ and Azurite on 127.0.0.1 for the
# cluster-mode tests (scripts/services.sh; they stay up afterwards for fast re-runs: scripts/services.sh down stops them).
set -uo pipefail
cd "$(dirname "$0")/.."

log=$(mktemp)
trap 'rm -f "$log"' EXIT

# The model multiplies matrices with OpenBLAS (Debian's libopenblas0-pthread) and falls back to a slower
# managed kernel without it; install it when we can, so the tests cover what users run.
if ! ldconfig -p 2>/dev/null | grep -q 'libopenblas.so.0'; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing OpenBLAS (libopenblas0-pthread)..."
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libopenblas0-pthread) >/dev/null 2>&1 \
      || echo "warning: could not install libopenblas0-pthread; model tests use the managed matrix kernel"
  else
    echo "warning: libopenblas0-pthread is not installed; model tests use the managed matrix kernel"
  fi
fi

echo "Building the solution (Release)..."
if ! dotnet build Recsys.Orleans.sln -c Release -nologo -clp:ErrorsOnly 2>&1 | tee -a "$log"; then
  echo "Build failed."
  echo "0 passed, 1 failed"
  exit 1
fi

echo "Starting PostgreSQL, RabbitMQ and Azurite on 127.0.0.1 (scripts/services.sh)..."
if settings=$(./scripts/services.sh up); then
  eval "$settings"
else
  echo "error: PostgreSQL, RabbitMQ or Azurite could not be started; the cluster-mode tests will fail"
fi

echo "Validating the deployment files (scripts/validate-deploy.sh; the tests check it too)..."
./scripts/validate-deploy.sh || echo "warning: deployment validation failed; Recsys.Deploy.Tests will report it"

echo "Running the tests..."
# A hung test fails its run with a dump and the name of the test instead of eating the CI time budget.
dotnet test Recsys.Orleans.sln -c Release --no-build -nologo --blame-hang-timeout 5m 2>&1 | tee -a "$log"
status=${PIPESTATUS[0]}

# VSTest prints one line per test assembly: "Passed!  - Failed: 0, Passed: 34, Skipped: 0, Total: 34, ..."
sum() { grep -E '^(Passed|Failed)!' "$log" | grep -oE "$1: +[0-9]+" | awk '{s += $2} END {print s + 0}'; }
passed=$(sum Passed)
failed=$(sum Failed)
skipped=$(sum Skipped)
assemblies=$(grep -cE '^(Passed|Failed)!' "$log")

if [ "$assemblies" -eq 0 ]; then
  echo "No test assembly reported results."
  failed=$((failed + 1))
elif [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  echo "dotnet test exited with $status although no test failed (a crashed test host?)."
  failed=1
fi

summary="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && summary="$summary, $skipped skipped"
echo "$summary"
[ "$failed" -eq 0 ]
