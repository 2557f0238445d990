#!/usr/bin/env bash
# The README's first command: the main job on the embedded sandbox, from scratch.
#   1. start the cabinet emulator and three register hosts (real sshd on 127.0.0.1)
#   2. converge retail points and register bindings from inventories/sandbox      (changes)
#   3. converge again                                                             (changed=0 everywhere)
#   4. change the desired data as a pull request would, run --check --diff       (the plan, nothing written)
#   5. stop everything
# It installs what it needs (scripts/bootstrap.sh) and leaves nothing running.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

bash scripts/bootstrap.sh
PY="$ROOT/.venv/bin/python"
BIN="$ROOT/.venv/bin"

DATA="$ROOT/.sandbox/demo"
WORK="$ROOT/.tmp/demo"
INVENTORY_DIR="$ROOT/inventories/sandbox"
REGISTERS_INVENTORY="$INVENTORY_DIR/registers.generated.yml"

stop_sandbox() {
  "$PY" -m sandbox registers stop --data-dir "$DATA" >/dev/null 2>&1 || true
  "$PY" -m sandbox cabinet stop --data-dir "$DATA" >/dev/null 2>&1 || true
}
trap stop_sandbox EXIT

banner() { printf '\n==== %s ====\n' "$*"; }

# A demo starts from an empty cabinet so that its first converge shows the creates.
stop_sandbox
rm -rf "$DATA" "$WORK"
mkdir -p "$DATA" "$WORK/collections/ansible_collections/modulkassa"
ln -sfn "$ROOT" "$WORK/collections/ansible_collections/modulkassa/pos"

banner "Starting the sandbox: cabinet emulator and 3 register hosts"
URL=$("$PY" -m sandbox cabinet start --data-dir "$DATA" --port 0)
echo "cabinet: $URL"
"$PY" -m sandbox registers start --data-dir "$DATA" --count 3 --cabinet-url "$URL" --inventory "$REGISTERS_INVENTORY"

# Credentials come from the environment, as AWX or a CI secret store would inject them.
export MODULKASSA_URL="$URL" MODULKASSA_LOGIN="demo@example.com" MODULKASSA_PASSWORD="demo-password-1"
export ANSIBLE_COLLECTIONS_PATH="$WORK/collections"
export ANSIBLE_HOST_KEY_CHECKING=False ANSIBLE_RETRY_FILES_ENABLED=False ANSIBLE_PIPELINING=True
export ANSIBLE_SSH_ARGS="-o ControlMaster=auto -o ControlPersist=60s" ANSIBLE_SSH_CONTROL_PATH_DIR="$WORK/cp"
export ANSIBLE_LOCAL_TEMP="$WORK/tmp" ANSIBLE_FORCE_COLOR="${ANSIBLE_FORCE_COLOR:-1}"

recap_changed_total() {  # sum of changed= over the PLAY RECAP(s) of a log, colours stripped
  sed 's/\x1b\[[0-9;]*m//g' "$1" |
    awk '/PLAY RECAP/{r=1} r && /changed=/{for(i=1;i<=NF;i++) if($i ~ /^changed=/){split($i,a,"="); s+=a[2]}} END{print s+0}'
}

run() {  # run <log> <ansible-playbook args...>: show the output, keep a copy
  local log="$1"; shift
  "$BIN/ansible-playbook" "$@" 2>&1 | tee "$log"
  return "${PIPESTATUS[0]}"
}

banner "1/3 Converge: create the points, bind the registers"
run "$WORK/converge-1.log" -i "$INVENTORY_DIR" playbooks/site.yml

banner "2/3 Converge again: nothing to do"
run "$WORK/converge-2.log" -i "$INVENTORY_DIR" playbooks/site.yml
changed=$(recap_changed_total "$WORK/converge-2.log")
if [ "$changed" != "0" ]; then
  echo "DEMO FAILED: the second converge reported changed=$changed (expected 0)" >&2
  exit 1
fi
echo "second converge: changed=0 on every host"

banner "3/3 A pull request changes the data: check mode shows the plan, writes nothing"
# The change: a new phone for one shop, and the Kazan shop moves from reg03 to reg02.
cp -r "$INVENTORY_DIR" "$WORK/inventory-pr"
"$PY" - "$WORK/inventory-pr" <<'EOF'
import sys, yaml, pathlib
inv = pathlib.Path(sys.argv[1])
points_file = inv / "group_vars/all/retail_points.yml"
data = yaml.safe_load(points_file.read_text())
data["modulkassa_points"][0]["phone"] = "+7 495 765-43-21"
points_file.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
for host, points in (("reg02", ["Ромашка Санкт-Петербург Невский 28", "Ромашка Казань Баумана 5"]),
                     ("reg03", ["Ромашка Екатеринбург Ленина 50"])):
    (inv / "host_vars" / (host + ".yml")).write_text(yaml.safe_dump({"modulkassa_register_points": points}, allow_unicode=True))
EOF
counters() { "$PY" -c 'import sys, httpx; print(httpx.get(sys.argv[1] + "/api/_emu/counters").text)' "$URL"; }
before=$(counters)
run "$WORK/check.log" -i "$WORK/inventory-pr" playbooks/site.yml --check --diff
after=$(counters)
"$PY" - "$before" "$after" <<'EOF'
import json, sys
def writes(raw):
    counters = json.loads(raw or "{}")
    return sum(n for per in counters.values() for key, n in per.items() if key.split()[0] in ("POST", "PUT", "DELETE"))
delta = writes(sys.argv[2]) - writes(sys.argv[1])
print("cabinet writes during the check run: %d" % delta)
sys.exit(1 if delta else 0)
EOF
would=$(recap_changed_total "$WORK/check.log")
echo "check run: $would host task(s) would change (the phone, and reg02/reg03's bindings)"
[ "$would" -ge 1 ] || { echo "DEMO FAILED: the check run saw no drift" >&2; exit 1; }

banner "Demo finished: logs in $WORK; the sandbox is being stopped"
