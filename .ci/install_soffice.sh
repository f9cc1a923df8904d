#!/usr/bin/env bash
# Install LibreOffice headless (Calc, no GUI) + the system UNO bridge + CJK fonts + poppler,
# needed by tests/soffice.py / tests/lo/uno_tool.py (real-client harness).
# Idempotent: does nothing when `soffice` and the system python's `import uno` already work.
# Debian 12 (bookworm): the whole install took ~21 s on the dev machine (apt-get update included).
set -euo pipefail

have_all() {
    command -v soffice >/dev/null 2>&1 \
        && /usr/bin/python3 -c 'import uno' >/dev/null 2>&1 \
        && command -v pdftoppm >/dev/null 2>&1 \
        && ls /usr/lib/libreoffice/program/libswlo.so >/dev/null 2>&1 \
        && command -v pdfinfo >/dev/null 2>&1 \
        && fc-list : family 2>/dev/null | grep -i 'Noto Sans CJK' >/dev/null
}

if have_all; then
    echo "install_soffice: LibreOffice, python3-uno, CJK fonts and poppler already present; skipping"
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
    libreoffice-calc-nogui libreoffice-writer-nogui python3-uno fonts-noto-cjk poppler-utils

soffice --version
/usr/bin/python3 -c 'import uno; print("python3-uno OK")'
