# triage - plain make + pkg-config.  Targets: all run check bench install clean
#   make check SANITIZE=1   the same tests on an ASan+UBSan build

VERSION  = 0.1.0
PREFIX  ?= /usr/local
DESTDIR ?=
BINDIR   = $(PREFIX)/bin
MANDIR   = $(PREFIX)/share/man
DATADIR  = $(PREFIX)/share/triage

CC      ?= cc
PKG_CONFIG ?= pkg-config
PKGS     = jansson libpcre2-8 libarchive
TEST_PKGS = cmocka

ifeq ($(SANITIZE),1)
B        = build/asan
SANFLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
else
B        = build/rel
SANFLAGS =
endif

OPT     ?= -O2 -g
WARN     = -Wall -Wextra -Wshadow -Wpointer-arith -Wstrict-prototypes -Wformat=2
CFLAGS_ALL = -std=c11 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 $(OPT) $(WARN) $(SANFLAGS) \
	-MMD -MP $(shell $(PKG_CONFIG) --cflags $(PKGS)) $(CFLAGS)
LDLIBS_ALL = $(shell $(PKG_CONFIG) --libs $(PKGS)) $(LDLIBS)
LDFLAGS_ALL = $(SANFLAGS) $(LDFLAGS)

PB_SRC   = $(wildcard playbooks/*.c)
TUI_SRC  = $(wildcard tui/*.c)
TEST_SRC = $(wildcard tests/test-*.c)
PB_OBJ   = $(PB_SRC:%.c=$(B)/%.o)
TUI_OBJ  = $(TUI_SRC:%.c=$(B)/%.o)
TESTS    = $(TEST_SRC:tests/%.c=$(B)/tests/%)
TOOLS    = $(B)/tests/tmpl-eval $(B)/tests/loggen $(B)/tests/jsonget $(B)/tests/runstat
LIBPB    = $(B)/libplaybooks.a
MANPAGES = $(wildcard man/*.[1-9])

.PHONY: all run check bench install uninstall clean deps unit cli lint-man lint-playbooks

all: triage

# The default build is ./triage; SANITIZE=1 builds build/asan/triage only.
ifeq ($(SANITIZE),1)
triage: $(B)/triage
else
triage: $(B)/triage
	cp $(B)/triage $@
endif

$(B)/triage: $(TUI_OBJ) $(LIBPB)
	$(CC) $(LDFLAGS_ALL) -o $@ $(TUI_OBJ) $(LIBPB) $(LDLIBS_ALL)

$(LIBPB): $(PB_OBJ)
	rm -f $@
	ar rcs $@ $^

# DATADIR is compiled into paths.o only; rebuild it when PREFIX changes.
$(B)/tui/paths.o: $(B)/.prefix
$(B)/.prefix: FORCE
	@mkdir -p $(B)
	@echo '$(DATADIR)' | cmp -s - $@ || echo '$(DATADIR)' > $@
FORCE:

$(B)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -DTRIAGE_VERSION='"$(VERSION)"' -DDATADIR='"$(DATADIR)"' -c -o $@ $<

$(B)/tests/test-%: tests/test-%.c $(LIBPB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) $(shell $(PKG_CONFIG) --cflags $(TEST_PKGS)) -Iplaybooks -o $@ $< \
		$(LIBPB) $(LDFLAGS_ALL) $(LDLIBS_ALL) $(shell $(PKG_CONFIG) --libs $(TEST_PKGS))

$(B)/tests/%: tests/%.c $(LIBPB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -Iplaybooks -o $@ $< $(LIBPB) $(LDFLAGS_ALL) $(LDLIBS_ALL)

deps:
	@sh .ci/deps

run: deps
	@$(MAKE) --no-print-directory all
	./triage analyze share/samples/field-laptop.log; test $$? -le 1

check: deps
	@$(MAKE) --no-print-directory $(B)/triage $(TESTS) $(TOOLS)
	@$(MAKE) --no-print-directory unit cli lint-man lint-playbooks

unit: $(TESTS)
	@pass=0; fail=0; for t in $(TESTS); do \
		if (cd tests && ../$$t); then pass=$$((pass+1)); else fail=$$((fail+1)); echo "FAILED: $$t"; fi; \
	done; echo "unit test binaries: $$pass passed, $$fail failed"; test $$fail -eq 0

cli: $(B)/triage
	@TRIAGE=$(CURDIR)/$(B)/triage B=$(B) bash tests/cli.sh

lint-man:
	@mandoc -Tlint -W warning $(MANPAGES) && echo "man pages: mandoc -Tlint clean"

lint-playbooks: $(B)/triage
	@$(B)/triage playbook lint share/playbooks && echo "shipped playbooks: lint clean ($$(ls share/playbooks/*.json | wc -l) files)"

bench: deps
	@$(MAKE) --no-print-directory $(B)/triage $(TOOLS)
	@TRIAGE=$(CURDIR)/$(B)/triage B=$(B) bash tests/bench.sh

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(DATADIR)/playbooks $(DESTDIR)$(DATADIR)/samples
	install -m 755 triage $(DESTDIR)$(BINDIR)/triage
	install -m 644 man/*.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 644 man/*.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 644 share/playbooks/*.json $(DESTDIR)$(DATADIR)/playbooks/
	install -m 644 share/samples/* $(DESTDIR)$(DATADIR)/samples/

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/triage $(DESTDIR)$(MANDIR)/man1/triage.1 \
		$(DESTDIR)$(MANDIR)/man5/triage-playbook.5
	rm -rf $(DESTDIR)$(DATADIR)

clean:
	rm -rf build triage

-include $(PB_OBJ:.o=.d) $(TUI_OBJ:.o=.d)
