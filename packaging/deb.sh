#!/bin/sh
# packaging/deb.sh BINARY OUTDIR VERSION - build triage_VERSION_ARCH.deb
# from a binary compiled with PREFIX=/usr (make deb does that).  Stages the
# same files as `make install`, writes DEBIAN/control with the shared
# libraries' packages as dependencies (dpkg-shlibdeps, or ldd + dpkg -S),
# and builds with dpkg-deb --root-owner-group so no fakeroot is needed.
set -eu
bin=$1 out=$2 version=$3
top=$(cd "$(dirname "$0")/.." && pwd)
command -v dpkg-deb >/dev/null || { echo "deb: dpkg-deb not found" >&2; exit 2; }
[ -x "$bin" ] || { echo "deb: $bin: not an executable" >&2; exit 2; }
arch=$(dpkg --print-architecture)
mkdir -p "$out"
stage=$(cd "$out" && pwd)/deb-root
rm -rf "$stage"
mkdir -p "$stage/DEBIAN" "$stage/usr/bin" "$stage/usr/share/man/man1" \
	"$stage/usr/share/man/man5" "$stage/usr/share/man/man7" \
	"$stage/usr/share/triage/playbooks" "$stage/usr/share/triage/samples" \
	"$stage/usr/share/doc/triage"
install -m 755 "$bin" "$stage/usr/bin/triage"
strip --strip-unneeded --remove-section=.comment --remove-section=.note \
	"$stage/usr/bin/triage" 2>/dev/null || true
for m in "$top"/man/*.[1-9]; do
	s=${m##*.}
	gzip -9n <"$m" >"$stage/usr/share/man/man$s/${m##*/}.gz"
done
install -m 644 "$top"/share/playbooks/*.json "$stage/usr/share/triage/playbooks/"
install -m 644 "$top"/share/samples/* "$stage/usr/share/triage/samples/"
cat >"$stage/usr/share/doc/triage/copyright" <<COPY
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: triage
Source: the triage source tree (offline distribution)

Files: *
Copyright: 2026 the triage authors
License: MIT
 Permission is hereby granted, free of charge, to any person obtaining a
 copy of this software and associated documentation files (the "Software"),
 to deal in the Software without restriction, including without limitation
 the rights to use, copy, modify, merge, publish, distribute, sublicense,
 and/or sell copies of the Software, and to permit persons to whom the
 Software is furnished to do so, subject to the following conditions:
 .
 The above copyright notice and this permission notice shall be included
 in all copies or substantial portions of the Software.
 .
 THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
 IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
 FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT.  IN NO EVENT SHALL
 THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
 LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING
 FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER
 DEALINGS IN THE SOFTWARE.
COPY
maint=${DEB_MAINTAINER:-triage maintainers <triage@example.org>}
printf 'triage (%s) stable; urgency=medium\n\n  * Package built from the source tree with make deb.\n\n -- %s  %s\n' \
	"$version" "$maint" "$(date -R -u -d @"${SOURCE_DATE_EPOCH:-0}")" |
	gzip -9n >"$stage/usr/share/doc/triage/changelog.gz"

# Dependencies: what the binary links, as Debian packages.
deps=
if command -v dpkg-shlibdeps >/dev/null; then
	tmp=$(mktemp -d)
	mkdir -p "$tmp/debian"
	printf 'Source: triage\n\nPackage: triage\nArchitecture: any\n' >"$tmp/debian/control"
	deps=$(cd "$tmp" && dpkg-shlibdeps -O "$stage/usr/bin/triage" 2>/dev/null |
		sed -n 's/^shlibs:Depends=//p') || deps=
	rm -rf "$tmp"
fi
if [ -z "$deps" ]; then
	deps=$(ldd "$stage/usr/bin/triage" | awk '$3 ~ /^\// {print $3}' |
		while read -r lib; do
			dpkg -S "$lib" 2>/dev/null || dpkg -S "$(readlink -f "$lib")" 2>/dev/null
		done | cut -d: -f1 | sort -u |
		while read -r p; do
			printf '%s (>= %s), ' "$p" "$(dpkg-query -W -f '${Version}' "$p")"
		done | sed 's/, $//')
fi
[ -n "$deps" ] || { echo "deb: could not derive dependencies of $bin" >&2; exit 2; }
size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
cat >"$stage/DEBIAN/control" <<CTL
Package: triage
Version: $version
Architecture: $arch
Maintainer: $maint
Installed-Size: $size
Depends: $deps
Section: admin
Priority: optional
Homepage: https://example.org/triage
Description: offline log triage for field technicians
 triage reads log files and prints a troubleshooting card for each known
 problem it finds: what was found, how often and when, the log lines that
 prove it, likely causes, checks, fixes and when to escalate.  Unknown
 warning and error lines are grouped into templates.  It can ask a local
 GGUF language model about a log, on the CPU, and installs signed playbook
 and model bundles from USB.  It uses no network.
CTL
find "$stage" -type d -exec chmod 755 {} +
(cd "$stage" && find usr -type f -print0 | sort -z | xargs -0 md5sum >DEBIAN/md5sums)
deb=$out/triage_${version}_$arch.deb
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >/dev/null
echo "$deb"
