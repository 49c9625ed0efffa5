#!/usr/bin/env bash
# Vendor Microsoft's Web Chat bundle (npm package botframework-webchat, MIT) for the local /chat page.
#
#   scripts/update_webchat.sh            # the pinned version below
#   scripts/update_webchat.sh 4.18.2     # another one: then update WEBCHAT_VERSION here and in
#                                        # src/btassist/webchat/page.py, run the browser test and
#                                        # scripts/card_gallery.py, and commit all of it together
#
# npm checks the tarball against the registry's integrity hash. The bundle is served from
# /chat/static/: no CDN, so the page works offline.
set -euo pipefail
cd "$(dirname "$0")/.."

WEBCHAT_VERSION="${1:-4.18.1}"
target=src/btassist/webchat/static
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

(cd "$work" && npm pack --silent "botframework-webchat@${WEBCHAT_VERSION}" >/dev/null && tar xzf ./*.tgz)
license="$(node -p "require('$work/package/package.json').license")"
if [ "$license" != "MIT" ]; then
    echo "botframework-webchat@${WEBCHAT_VERSION} is licensed '$license', not MIT: not vendored" >&2
    exit 1
fi
cp "$work/package/dist/webchat.js" "$target/webchat.js"
cp "$work/package/dist/webchat.js.LICENSE.txt" "$target/webchat.js.LICENSE.txt"
echo "vendored botframework-webchat@${WEBCHAT_VERSION} into $target ($(wc -c <"$target/webchat.js") bytes)"
