#!/usr/bin/env bash
# Installs, idempotently, what the kiosk needs on a Debian machine: Debian packages with apt-get
# where missing, uv (pinned) in .tools/, then the Python packages from the committed uv.lock.
#
#   scripts/bootstrap.sh run    # what running the kiosk needs
#   scripts/bootstrap.sh demo   # the same, plus the virtual reader of training mode's card
#   scripts/bootstrap.sh test   # the same as run, plus the tools the test suite uses
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
purpose="${1:-run}"
demo=false
if [ "$purpose" = "demo" ]; then demo=true; purpose=run; fi

UV_VERSION="0.13.9"
# pcscd + libpcsclite: the PC/SC stack; gcc + libpcsclite-dev build pyscard (no Linux wheel);
# libpulse0, libgl1, libegl1, libxkbcommon0, libfontconfig1, libdbus-1-3: what Qt (and its
# virtual keyboard) loads at run time; the libxcb-* set: Qt's X11 platform plugin.
# Reading the CAN and the MRZ off a photo (docs/identity.md): tesseract-ocr and its English data
# for the CAN; fonts-ocr-b, the MRZ's typeface, whose glyphs the MRZ's cells are compared with
# (devices/ocr/ocrb.py; public domain and a permissive licence: its copyright file).
# Reading aloud (docs/accessibility.md): Qt TextToSpeech's speechd plugin loads libspeechd2 and
# talks to speech-dispatcher, which speaks through espeak-ng (French, English, Arabic, offline).
# Printing and scanning at the counter (docs/devices.md): cups-client's lp sends the receipts to
# CUPS, sane-utils' scanimage scans from a SANE scanner.
# Scanning the enrolment code's QR code with the camera (docs/sites.md): zbar-tools' zbarimg.
APT_RUN=(ca-certificates fonts-dejavu-core pcscd libpcsclite1 libpcsclite-dev gcc
  libpulse0 libgl1 libegl1 libxkbcommon0 libfontconfig1 libdbus-1-3
  libxcb-cursor0 libxkbcommon-x11-0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0
  libxcb-render-util0 libxcb-shape0 libxcb-randr0 libxcb-xinerama0 libxcb-xkb1 libxcb-xfixes0
  libxcb-sync1 libxcb-shm0 libx11-xcb1
  libspeechd2 speech-dispatcher speech-dispatcher-espeak-ng espeak-ng
  tesseract-ocr tesseract-ocr-eng fonts-ocr-b zbar-tools
  cups-client sane-utils)
# vsmartcard-vpcd: the virtual reader our card simulator plugs into, for the integration tests;
# postgresql: its initdb and pg_ctl start a throw-away server for the site-store tests
# (tests/postgres.py; the cluster Debian's package may create is not used);
# cups + printer-driver-cups-pdf: a throw-away cupsd with a virtual PDF printer (tests/cups.py;
# the server Debian's package may start is not used).
# The Debian package's dependencies beyond the run list (packaging/control, docs/packaging.md),
# so that tests/packaging/ finds them here and starts the installed kiosk in cage: Debian's
# python3 (the package's interpreter), cage and Xwayland, Qt's Wayland client libraries, the
# logind session.
APT_TEST=(poppler-utils sqlite3 vsmartcard-vpcd postgresql
  cups printer-driver-cups-pdf
  python3 cage xwayland libwayland-cursor0 libwayland-egl1 libpam-systemd dbus)

say() { printf '\033[1m[bootstrap]\033[0m %s\n' "$*" >&2; }

missing=()
wanted=("${APT_RUN[@]}")
[ "$purpose" = "test" ] && wanted+=("${APT_TEST[@]}")
# Training mode puts its simulated CNIe on vsmartcard-vpcd's virtual reader. Not installed to
# run for real: a virtual reader listed beside the counter's reader has no use there.
if $demo; then wanted+=(vsmartcard-vpcd); fi
# Debian's python3 only where no Python able to make a virtual environment is on PATH, and its
# headers where the Python found has none (pyscard compiles against them).
if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then wanted+=(python3 python3-venv); fi
if ! python3 -c 'import os, sys, sysconfig; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' >/dev/null 2>&1; then
  wanted+=(python3-dev)
fi
for pkg in "${wanted[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  say "paquets Debian manquants : ${missing[*]}"
  sudo_cmd=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo_cmd=(sudo -n); else
      say "installez-les en administrateur : apt-get install ${missing[*]}"; exit 1
    fi
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Python 3.11 or newer: Debian 12's python3, or any python3 already first on PATH.
python_bin="$(command -v python3 || true)"
if [ -z "$python_bin" ] || ! "$python_bin" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  say "Python 3.11 ou plus récent est nécessaire (python3 trouvé : ${python_bin:-aucun})."
  exit 1
fi
# The interpreter itself, not a shim in front of it: uv would otherwise rebuild .venv each time.
python_bin="$("$python_bin" -c 'import sys; print(sys.executable)')"

# uv, pinned, in a private virtual environment (never in the system's Python).
uv_bin="$here/.tools/uv/bin/uv"
if [ ! -x "$uv_bin" ] || [ "$("$uv_bin" --version 2>/dev/null | cut -d' ' -f2)" != "$UV_VERSION" ]; then
  say "installation de uv $UV_VERSION dans .tools/uv"
  rm -rf "$here/.tools/uv"
  "$python_bin" -m venv "$here/.tools/uv"
  "$here/.tools/uv/bin/python" -m pip install -q --disable-pip-version-check "uv==$UV_VERSION"
fi

export UV_PYTHON_DOWNLOADS=never   # only registries are reachable: use the machine's Python
export UV_PYTHON="$python_bin"
# Byte-code compiled at install time: a kiosk starts without compiling a thousand modules
# (and still starts fast where PYTHONDONTWRITEBYTECODE forbids writing them at run time).
# (Compiled once per lock file: the marker remembers which one.)
if [ "$purpose" = "test" ]; then
  "$uv_bin" sync --frozen --quiet
else
  # --inexact: running the kiosk on a developer's machine keeps the test tools installed.
  "$uv_bin" sync --frozen --no-dev --inexact --quiet
fi
marker="$here/.venv/.pn-bytecode"
lock_hash="$(sha256sum "$here/uv.lock" | cut -d' ' -f1)"
want="$purpose $lock_hash"
have="$(cat "$marker" 2>/dev/null || true)"
# The test set includes the run set: compiled for "test" is compiled for "run" too.
if [ "$have" != "$want" ] && [ "$have" != "test $lock_hash" ]; then
  "$here/.venv/bin/python" -m compileall -q -j 0 "$here/.venv/lib" >/dev/null 2>&1 || true
  echo "$want" > "$marker"
fi
"$here/.venv/bin/python" -m compileall -q -j 0 app kiosk ui devices sync >/dev/null
