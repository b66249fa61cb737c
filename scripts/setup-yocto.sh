#!/usr/bin/env bash
# Installs, from Debian's packages, what `make yocto-check` needs to run
# BitBake (poky scarthgap) on this machine: the host tools of the Yocto
# Project's "build host packages" list that check-layer.sh uses, and the
# en_US.UTF-8 locale BitBake insists on. Safe to run again.
set -euo pipefail

pkgs=(build-essential chrpath diffstat lz4 zstd gawk python3-pexpect python3-git python3-jinja2
  python3-subunit file cpio git locales texinfo unzip xz-utils socat iputils-ping debianutils)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then sudo="sudo"; else
    echo "setup-yocto: need root to install: apt-get install -y ${missing[*]}; locale-gen en_US.UTF-8" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup-yocto: installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if ! locale -a 2>/dev/null | grep -qi '^en_US\.utf8$'; then
  echo "setup-yocto: generating the en_US.UTF-8 locale"
  $sudo sed -i 's/^# *\(en_US.UTF-8 UTF-8\)/\1/' /etc/locale.gen
  grep -q '^en_US.UTF-8 UTF-8' /etc/locale.gen || echo 'en_US.UTF-8 UTF-8' | $sudo tee -a /etc/locale.gen >/dev/null
  $sudo locale-gen >/dev/null
fi
