#!/bin/bash
# tests/deb.sh - make deb's package: contents, control fields, install into
# a scratch root with dpkg --root (no real install), run it, remove it.
# Skipped (with a message) when dpkg-deb or dpkg is not installed.
set -u
DEB=${DEB:?set DEB to the .deb to test}
fail=0
ok() { echo "ok - $*"; }
bad() { echo "FAIL - $*"; fail=1; }
command -v dpkg-deb >/dev/null && command -v dpkg >/dev/null ||
	{ echo "deb: dpkg-deb not installed; skipped"; exit 0; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

dpkg-deb -c "$DEB" >"$tmp/contents" && [ -s "$tmp/contents" ] || bad "dpkg-deb -c $DEB"
for f in ./usr/bin/triage ./usr/share/man/man1/triage.1.gz \
	./usr/share/man/man5/triage-playbook.5.gz ./usr/share/man/man5/triage-bundle.5.gz \
	./usr/share/man/man7/triage-model.7.gz ./usr/share/doc/triage/copyright \
	./usr/share/triage/samples/field-laptop.log; do
	grep -q " $f\$" "$tmp/contents" && ok "contains $f" || bad "missing $f"
done
n=$(grep -c '/usr/share/triage/playbooks/.*\.json$' "$tmp/contents")
want=$(ls ../share/playbooks/*.json 2>/dev/null | wc -l)
[ "$n" -gt 0 ] && [ "$n" -eq "$want" ] && ok "all $n shipped playbooks" ||
	bad "playbooks: $n in package, $want shipped"
grep -v ' root/root ' "$tmp/contents" | grep -q . && bad "files not owned by root" ||
	ok "owned by root"

dpkg-deb -I "$DEB" >"$tmp/info" || bad "dpkg-deb -I"
for lib in libjansson libpcre2-8 libarchive libgpgme libncursesw readline; do
	grep -q "^ Depends:.*$lib" "$tmp/info" && ok "depends on $lib" || bad "no dependency on $lib"
done
grep -q '^ Package: triage$' "$tmp/info" && ok "package name" || bad "package name"

# A scratch dpkg database and root: the package's dependencies are not in
# it, so they are forced; everything else is a real dpkg run.
root=$tmp/root
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates"
: >"$root/var/lib/dpkg/status"; : >"$root/var/lib/dpkg/available"
dpkg --root="$root" --force-not-root --force-depends --force-script-chrootless \
	--log=/dev/null -i "$DEB" >"$tmp/i.out" 2>&1 && ok "dpkg -i into scratch root" ||
	{ bad "dpkg -i"; cat "$tmp/i.out"; }
[ -x "$root/usr/bin/triage" ] && ok "binary installed" || bad "binary not installed"
v=$("$root/usr/bin/triage" --version 2>&1) && ok "installed binary runs: $v" || bad "installed binary: $v"
out=$(TRIAGE_DATADIR=$root/usr/share/triage XDG_DATA_HOME=$tmp/xdg XDG_CONFIG_HOME=$tmp/xdg \
	XDG_STATE_HOME=$tmp/xdg "$root/usr/bin/triage" analyze --color=never \
	"$root/usr/share/triage/samples/field-laptop.log" 2>&1); rc=$?
[ $rc -eq 0 ] && ok "installed playbooks find cards in the installed sample" ||
	bad "analyze with the installed data: rc $rc"
dpkg --root="$root" --force-not-root --force-script-chrootless --log=/dev/null \
	-r triage >"$tmp/r.out" 2>&1 && ok "dpkg -r" || { bad "dpkg -r"; cat "$tmp/r.out"; }
left=$(find "$root/usr" -type f 2>/dev/null | head -3)
[ -z "$left" ] && ok "remove leaves no files" || bad "left behind: $left"

if command -v lintian >/dev/null; then
	echo "lintian:"; lintian "$DEB" 2>&1 | sed 's/^/  /'
else
	echo "lintian not installed; not run"
fi
[ $fail -eq 0 ] && echo "deb: all checks passed"
exit $fail
