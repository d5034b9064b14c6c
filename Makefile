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
PKGS     = jansson libpcre2-8 libarchive libgcrypt gpgme ncursesw readline
TEST_PKGS = cmocka
SYSLIBS  = -lm -pthread

ifeq ($(SANITIZE),1)
B        = build/asan
SANFLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
else
B        = build/rel
SANFLAGS =
endif

# Quiet builds: "CC file.o" per file; V=1 echoes every command.
ifeq ($(V),1)
Q    =
say  =
else
Q    = @
say  = @echo "  $(1)	$(2)";
endif

OPT     ?= -O2 -g
WARN     = -Wall -Wextra -Wshadow -Wpointer-arith -Wstrict-prototypes -Wformat=2
CFLAGS_ALL = -std=c11 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 $(OPT) $(WARN) $(SANFLAGS) \
	-MMD -MP $(shell $(PKG_CONFIG) --cflags $(PKGS)) $(CFLAGS)
LDLIBS_ALL = $(shell $(PKG_CONFIG) --libs $(PKGS)) $(SYSLIBS) $(LDLIBS)
LDFLAGS_ALL = $(SANFLAGS) $(LDFLAGS)

PB_SRC   = $(wildcard playbooks/*.c)
ENG_SRC  = $(wildcard engine/*.c)
BDL_SRC  = $(wildcard bundles/*.c)
TUI_SRC  = $(wildcard tui/*.c)
TEST_SRC = $(wildcard tests/test-*.c)
PB_OBJ   = $(PB_SRC:%.c=$(B)/%.o)
ENG_OBJ  = $(ENG_SRC:%.c=$(B)/%.o)
BDL_OBJ  = $(BDL_SRC:%.c=$(B)/%.o)
TUI_OBJ  = $(TUI_SRC:%.c=$(B)/%.o)
TESTS    = $(TEST_SRC:tests/%.c=$(B)/tests/%)
TOOLS    = $(B)/tests/tmpl-eval $(B)/tests/loggen $(B)/tests/jsonget $(B)/tests/runstat \
	$(patsubst tests/%.c,$(B)/tests/%,$(wildcard tests/tool-*.c))
LIBPB    = $(B)/libplaybooks.a
LIBENG   = $(B)/libengine.a
LIBBDL   = $(if $(BDL_SRC),$(B)/libbundles.a)
# Order matters for static linking: users before what they use.
LIBS     = $(LIBBDL) $(LIBENG) $(LIBPB)
INCS     = -Iplaybooks -Iengine -Ibundles
# Fuzz harnesses (tests/fuzz/fuzz-*.c): built with clang+libFuzzer by
# `make fuzz`; `make check` replays their corpus with a plain driver.
FUZZ_SRC = $(wildcard tests/fuzz/fuzz-*.c)
FUZZ_REPLAY = $(FUZZ_SRC:tests/fuzz/%.c=$(B)/tests/fuzz/replay-%)
MANPAGES = $(wildcard man/*.[1-9])

.PHONY: all run check bench eval eval-model install uninstall clean deps unit kern-paths cli screen bundle-cli gen lint-man lint-playbooks fuzz fuzz-replay hostile deb deb-check stats-cli doctor-cli erase-cli

all: triage

# The default build is ./triage; SANITIZE=1 builds build/asan/triage only.
ifeq ($(SANITIZE),1)
triage: $(B)/triage
else
triage: $(B)/triage
	cp $(B)/triage $@
endif

$(B)/triage: $(TUI_OBJ) $(LIBS)
	$(call say,LD,$@)$(CC) $(LDFLAGS_ALL) -o $@ $(TUI_OBJ) $(LIBS) $(LDLIBS_ALL)

# The UI's objects minus main.o, so tests/test-tui-*.c can link them.
LIBTUI   = $(B)/libtui.a
$(LIBTUI): $(filter-out $(B)/tui/main.o,$(TUI_OBJ))
	$(call say,AR,$@)rm -f $@ && ar rcs $@ $^

$(LIBPB): $(PB_OBJ)
	$(call say,AR,$@)rm -f $@ && ar rcs $@ $^

$(LIBENG): $(ENG_OBJ)
	$(call say,AR,$@)rm -f $@ && ar rcs $@ $^

$(B)/libbundles.a: $(BDL_OBJ)
	$(call say,AR,$@)rm -f $@ && ar rcs $@ $^

# SIMD variants are compiled for their instruction set only; kern.c picks
# one at run time from cpuid, so the binary still runs on any x86-64.
$(B)/engine/kern-avx2.o: CFLAGS_ALL += -mavx2 -mfma -mf16c
$(B)/engine/kern-avx512.o: CFLAGS_ALL += -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx2 -mfma -mf16c
$(B)/engine/kern-avx512-vnni.o: CFLAGS_ALL += -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512vnni -mavx2 -mfma -mf16c
$(B)/engine/kern-avx2-vnni.o: CFLAGS_ALL += -mavx2 -mfma -mf16c -mavxvnni
$(B)/engine/att-avx2.o: CFLAGS_ALL += -mavx2 -mfma -mf16c
$(B)/engine/att-avx512.o: CFLAGS_ALL += -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx2 -mfma -mf16c

# DATADIR is compiled into paths.o only; rebuild it when PREFIX changes.
$(B)/tui/paths.o: $(B)/.prefix
$(B)/.prefix: FORCE
	@mkdir -p $(B)
	@echo '$(DATADIR)' | cmp -s - $@ || echo '$(DATADIR)' > $@
FORCE:

$(B)/%.o: %.c
	@mkdir -p $(@D)
	$(call say,CC,$@)$(CC) $(CFLAGS_ALL) -DTRIAGE_VERSION='"$(VERSION)"' -DDATADIR='"$(DATADIR)"' -c -o $@ $<

# Test helpers shared by several tests (tests/lib-*.c) link into each test.
TESTLIB_SRC = $(wildcard tests/lib-*.c)
TESTLIB_OBJ = $(TESTLIB_SRC:%.c=$(B)/%.o)

$(B)/tests/test-%: tests/test-%.c $(TESTLIB_OBJ) $(LIBS)
	@mkdir -p $(@D)
	$(call say,CC,$@)$(CC) $(CFLAGS_ALL) $(shell $(PKG_CONFIG) --cflags $(TEST_PKGS)) $(INCS) -o $@ $< \
		$(TESTLIB_OBJ) $(LIBS) $(LDFLAGS_ALL) $(LDLIBS_ALL) $(shell $(PKG_CONFIG) --libs $(TEST_PKGS))

$(B)/tests/test-tui-%: tests/test-tui-%.c $(TESTLIB_OBJ) $(LIBTUI) $(LIBS)
	@mkdir -p $(@D)
	$(call say,CC,$@)$(CC) $(CFLAGS_ALL) $(shell $(PKG_CONFIG) --cflags $(TEST_PKGS)) $(INCS) -Itui -o $@ $< \
		$(TESTLIB_OBJ) $(LIBTUI) $(LIBS) $(LDFLAGS_ALL) $(LDLIBS_ALL) $(shell $(PKG_CONFIG) --libs $(TEST_PKGS))

# The assistant's bench drives tui/assist.c, so it links the UI's objects.
$(B)/tests/tool-assist-bench: tests/tool-assist-bench.c $(LIBTUI) $(LIBS)
	@mkdir -p $(@D)
	$(call say,CC,$@)$(CC) $(CFLAGS_ALL) $(INCS) -Itui -o $@ $< $(LIBTUI) $(LIBS) $(LDFLAGS_ALL) $(LDLIBS_ALL)

$(B)/tests/fuzz/replay-%: tests/fuzz/%.c tests/fuzz/replay.c $(LIBS)
	@mkdir -p $(@D)
	$(call say,CC,$@)$(CC) $(CFLAGS_ALL) $(INCS) -o $@ $< tests/fuzz/replay.c $(LIBS) $(LDFLAGS_ALL) $(LDLIBS_ALL)

$(B)/tests/%: tests/%.c $(TESTLIB_OBJ) $(LIBS)
	@mkdir -p $(@D)
	$(call say,CC,$@)$(CC) $(CFLAGS_ALL) $(INCS) -o $@ $< $(TESTLIB_OBJ) $(LIBS) $(LDFLAGS_ALL) $(LDLIBS_ALL)

$(B)/tests/lib-%.o: tests/lib-%.c
	@mkdir -p $(@D)
	$(call say,CC,$@)$(CC) $(CFLAGS_ALL) $(INCS) -c -o $@ $<

# libFuzzer builds (clang only; not part of check).  Run e.g.
#   build/fuzz/fuzz-gguf tests/fuzz/corpus-gguf -max_total_time=60
# FUZZ_B=build/<name>/fuzz builds elsewhere (helpers share the checkout).
FUZZ_B ?= build/fuzz
FUZZ_CC ?= clang
FUZZ_FLAGS = -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer-no-link,address,undefined \
	-fno-sanitize-recover=all $(INCS) $(shell $(PKG_CONFIG) --cflags $(PKGS))
fuzz:
	@command -v $(FUZZ_CC) >/dev/null || { echo "fuzz: $(FUZZ_CC) not found"; exit 1; }
	@mkdir -p $(FUZZ_B)/obj
	@for f in $(ENG_SRC) $(BDL_SRC) $(PB_SRC); do o=$(FUZZ_B)/obj/$$(basename $$f .c).o; x=; \
		case $$f in *avx2*) x="-mavx2 -mfma -mf16c";; \
		*avx512*) x="-mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx2 -mfma -mf16c";; esac; \
		$(FUZZ_CC) $(FUZZ_FLAGS) $$x -c -o $$o $$f || exit 1; done
	@for f in $(FUZZ_SRC); do n=$$(basename $$f .c); \
		echo "$(FUZZ_CC) $$f -> $(FUZZ_B)/$$n"; \
		$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer -o $(FUZZ_B)/$$n $$f $(FUZZ_B)/obj/*.o \
			$(shell $(PKG_CONFIG) --libs $(PKGS)) $(SYSLIBS) || exit 1; \
	done

deps:
	@sh .ci/deps

run: deps
	@$(MAKE) --no-print-directory all
	./triage share/samples/field-laptop.log

# Every suite runs even when one fails; the last line sums them up.
check: deps
	@$(MAKE) --no-print-directory $(B)/triage $(TESTS) $(TOOLS) $(FUZZ_REPLAY)
	@MAKE="$(MAKE)" bash tests/check.sh unit kern-paths cli hostile screen bundle-cli gen fuzz-replay lint-man lint-playbooks deb-check stats-cli doctor-cli erase-cli

# Tests read models and vectors from ../shared beside the clone.
SHARED  ?= $(abspath $(CURDIR)/../shared)
export SHARED

# The assistant's tests count answers (tui/metrics.c): into the build
# directory, never the developer's own metrics.
unit: $(TESTS)
	@pass=0; fail=0; for t in $(TESTS); do \
		if (cd tests && XDG_STATE_HOME=$(CURDIR)/$(B)/tests/state ../$$t); then pass=$$((pass+1)); else fail=$$((fail+1)); echo "FAILED: $$t"; fi; \
	done; echo "unit test binaries: $$pass passed, $$fail failed"; test $$fail -eq 0

# Replays every corpus file through each harness: no crash, no leak.
fuzz-replay: $(FUZZ_REPLAY)
	@for r in $(FUZZ_REPLAY); do n=$${r##*/replay-fuzz-}; \
		$$r tests/fuzz/corpus-$$n || exit 1; done

# OpenBLAS, if installed, only for the prefill comparison tool (make bench).
BLAS_LIBS := $(shell $(PKG_CONFIG) --libs openblas 2>/dev/null)
$(B)/tests/tool-prefill-blas: CFLAGS += $(shell $(PKG_CONFIG) --cflags openblas 2>/dev/null) $(if $(BLAS_LIBS),-DHAVE_OPENBLAS)
$(B)/tests/tool-prefill-blas: LDLIBS += $(BLAS_LIBS)

# The engine tests again with each kernel variant the CPU has forced.
kern-paths: $(B)/tests/test-kern $(B)/tests/test-forward $(B)/tests/test-engine $(B)/tests/test-kv
	@B=$(B) bash tests/kern-paths.sh

# The synthetic-model generator must write the same bytes on every machine.
gen: $(B)/tests/tool-gguf-gen
	@B=$(B) bash tests/gen.sh

cli: $(B)/triage
	@TRIAGE=$(CURDIR)/$(B)/triage B=$(B) bash tests/cli.sh

# Every command with hostile file names, metadata, playbook and manifest
# fields, key user ids and environment: the output stays clean.
hostile: $(B)/triage $(B)/tests/jsonget
	@TRIAGE=$(CURDIR)/$(B)/triage B=$(B) bash tests/hostile.sh

# Signed bundles and keys end to end, with crash tests (tests/bundle.sh).
bundle-cli: $(B)/triage $(B)/tests/jsonget
	@TRIAGE=$(CURDIR)/$(B)/triage B=$(B) bash tests/bundle.sh

# The full-screen interface driven in tmux (tests/screen.sh).
screen: $(B)/triage $(B)/tests/tool-gguf-gen $(B)/tests/jsonget
	@TRIAGE=$(CURDIR)/$(B)/triage B=$(B) bash tests/screen.sh

# Local metrics stay content-free; triage stats reads them (tests/stats.sh).
stats-cli: $(B)/triage $(B)/tests/jsonget $(B)/tests/tool-gguf-gen
	@TRIAGE=$(CURDIR)/$(B)/triage JSONGET=$(CURDIR)/$(B)/tests/jsonget GEN=$(CURDIR)/$(B)/tests/tool-gguf-gen bash tests/stats.sh

# triage sessions erase removes what it names and nothing else (tests/erase.sh).
erase-cli: $(B)/triage
	@TRIAGE=$(CURDIR)/$(B)/triage bash tests/erase.sh

# triage doctor's figures and advice (tests/doctor.sh).
doctor-cli: $(B)/triage $(B)/tests/jsonget
	@TRIAGE=$(CURDIR)/$(B)/triage JSONGET=$(CURDIR)/$(B)/tests/jsonget bash tests/doctor.sh

# A Debian package (packaging/deb.sh) from a PREFIX=/usr build in its own
# directory; deb-check inspects it and installs it into a scratch root.
deb:
	@$(MAKE) --no-print-directory B=$(B)-deb PREFIX=/usr $(B)-deb/triage
	@sh packaging/deb.sh $(B)-deb/triage $(B)-deb $(VERSION)

deb-check:
	@if command -v dpkg-deb >/dev/null; then $(MAKE) --no-print-directory deb >/dev/null && \
		(DEB=$(CURDIR)/$$(ls $(B)-deb/triage_$(VERSION)_*.deb) && cd tests && DEB=$$DEB bash deb.sh); \
	else echo "deb: dpkg-deb not installed; skipped"; fi

lint-man:
	@mandoc -Tlint -W warning $(MANPAGES) && echo "man pages: mandoc -Tlint clean"

# The labelled corpus of real logs (tests/eval/README): a report, not a gate.
# From a clean tree the build is most of its time, so it builds on every core.
eval:
	@$(MAKE) --no-print-directory -j$$(getconf _NPROCESSORS_ONLN) $(B)/triage $(B)/tests/tool-eval
	@$(B)/tests/tool-eval $(CURDIR)/$(B)/triage tests/eval/cases $(SHARED)

# The same corpus through the model-card path: make eval-model MODEL=FILE.gguf
eval-model: $(B)/triage
	@TRIAGE=$(CURDIR)/$(B)/triage MODEL="$(MODEL)" SHARED=$(SHARED) bash tests/eval-model.sh

lint-playbooks: $(B)/triage
	@printf 'shipped playbooks: '; $(B)/triage playbook lint share/playbooks

bench: deps
	@$(MAKE) --no-print-directory $(B)/triage $(TOOLS)
	@TRIAGE=$(CURDIR)/$(B)/triage B=$(B) bash tests/bench.sh
	@TRIAGE=$(CURDIR)/$(B)/triage B=$(B) bash tests/bundle-bench.sh
	@TRIAGE=$(CURDIR)/$(B)/triage B=$(B) bash tests/engine-bench.sh
	@TRIAGE=$(CURDIR)/$(B)/triage B=$(B) bash tests/tui-bench.sh
	@TRIAGE=$(CURDIR)/$(B)/triage B=$(B) bash tests/assist-bench.sh
	@TRIAGE=$(CURDIR)/$(B)/triage B=$(B) bash tests/grammar-bench.sh

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(DATADIR)/playbooks $(DESTDIR)$(DATADIR)/samples
	install -m 755 triage $(DESTDIR)$(BINDIR)/triage
	install -m 644 man/*.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 644 man/*.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 644 man/*.7 $(DESTDIR)$(MANDIR)/man7/
	install -m 644 share/playbooks/*.json $(DESTDIR)$(DATADIR)/playbooks/
	install -m 644 share/samples/* $(DESTDIR)$(DATADIR)/samples/

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/triage $(DESTDIR)$(MANDIR)/man1/triage.1 \
		$(DESTDIR)$(MANDIR)/man5/triage-playbook.5 \
		$(DESTDIR)$(MANDIR)/man5/triage-bundle.5 \
		$(DESTDIR)$(MANDIR)/man7/triage-model.7
	rm -rf $(DESTDIR)$(DATADIR)

clean:
	rm -rf build triage

-include $(PB_OBJ:.o=.d) $(ENG_OBJ:.o=.d) $(BDL_OBJ:.o=.d) $(TUI_OBJ:.o=.d) $(TESTLIB_OBJ:.o=.d)
