#!/usr/bin/env bash
# Prints the path of a peer tool from the workplace's shared tools
# (qemu9p, diod/serve.sh, fstests): the `shared/tools` folder beside the
# checkout when there is one, else /work/shared/tools.
#
#   scripts/shared-tools.sh qemu9p        ->  /…/shared/tools/qemu9p
set -euo pipefail
rel=${1:?usage: shared-tools.sh RELATIVE_PATH}
repo=$(cd "$(dirname "$0")/.." && pwd)
for base in "$repo/../shared/tools" /work/shared/tools; do
    if [ -e "$base/$rel" ]; then
        echo "$(cd "$(dirname "$base/$rel")" && pwd)/$(basename "$rel")"
        exit 0
    fi
done
echo "shared-tools: $rel not found beside the checkout nor in /work/shared/tools" >&2
echo "/work/shared/tools/$rel"
