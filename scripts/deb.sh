#!/usr/bin/env bash
# `make deb`: builds build/deb/parley_<version>_<arch>.deb with debhelper
# (debian/), from the release build, then checks it with lintian: any
# error fails. Needs debhelper, lintian and, as a normal user, fakeroot
# (scripts/deps.sh deb installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh deb
rm -rf build/deb debian/parley debian/.debhelper debian/debhelper-build-stamp \
    debian/parley.substvars debian/files debian/parley.*.debhelper debian/*.log
mkdir -p build/deb
root=()
[ "$(id -u)" -eq 0 ] || root=(fakeroot)
# Not dpkg-buildpackage: it writes .changes and .buildinfo beside the
# checkout. debian/rules binary is the whole package build.
"${root[@]}" debian/rules binary
deb=$(ls build/deb/parley_*.deb)
# The package's own staging tree is not needed once the .deb exists.
rm -rf debian/parley debian/.debhelper debian/debhelper-build-stamp \
    debian/parley.substvars debian/files debian/parley.*.debhelper
echo "deb: $deb"
lintian --fail-on error --tag-display-limit 0 "$deb" | tee build/deb/lintian.txt
echo "deb: lintian: $(grep -c '^E:' build/deb/lintian.txt || true) errors, $(grep -c '^W:' build/deb/lintian.txt || true) warnings"
