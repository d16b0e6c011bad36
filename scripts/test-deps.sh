#!/usr/bin/env bash
# What `npm test` needs beyond Node: the real OpenSSH tools sshkit is judged against, and the other SSH
# implementations of the interop suites, all from Debian's packages. As root they are installed with
# apt-get (the packages' own daemons are kept from starting); otherwise one line names what is missing.
set -euo pipefail

# command-or-path → Debian package
checks=(
  "ssh-keygen openssh-client" "ssh openssh-client" "/usr/sbin/sshd openssh-server"
  "plink putty-tools" "pscp putty-tools" "puttygen putty-tools"
  "dbclient dropbear-bin" "/usr/sbin/dropbear dropbear-bin" "dropbearkey dropbear-bin" "/usr/lib/dropbear/dropbearconvert dropbear-bin"
  "py:paramiko python3-paramiko" "py:asyncssh python3-asyncssh" "conch3 python3-twisted"
  "go golang-go" "/usr/share/gocode/src/golang.org/x/crypto/ssh golang-golang-x-crypto-dev"
  "/usr/include/libssh/libssh.h libssh-dev" "pkg-config pkg-config" "cc gcc"
  "git git" "ssh-audit ssh-audit" "haproxy haproxy"
)
need=()
for c in "${checks[@]}"; do
  what=${c% *}; pkg=${c##* }
  case $what in
    py:*) /usr/bin/python3 -c "import ${what#py:}" >/dev/null 2>&1 || need+=("$pkg") ;;
    /*) [ -e "$what" ] || need+=("$pkg") ;;
    *) command -v "$what" >/dev/null 2>&1 || need+=("$pkg") ;;
  esac
done
[ "${#need[@]}" -eq 0 ] && exit 0
pkgs=$(printf '%s\n' "${need[@]}" | sort -u | tr '\n' ' ')
if [ "$(id -u)" -ne 0 ]; then
  echo "sshkit tests: missing Debian packages: ${pkgs}(run: sudo apt-get install -y --no-install-recommends ${pkgs% })" >&2
  exit 1
fi
echo "sshkit tests: installing ${pkgs% } ..." >&2
export DEBIAN_FRONTEND=noninteractive
# policy-rc.d keeps the packages from starting a system sshd/dropbear/haproxy
made_policy=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; made_policy=1
fi
trap '[ "$made_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d' EXIT
apt-get update -qq >/dev/null
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $pkgs >/dev/null
