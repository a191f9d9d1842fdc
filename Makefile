# The toolchain: one non-recursive Makefile.
#   make            build every program into $(B)/bin
#   make demo       install missing packages, build, run the main jobs on sample data
#   make check      install missing packages, build, run every test
#   make asan       the same tests on an AddressSanitizer+UBSan build
#   make fuzz       run each libFuzzer target for FUZZTIME seconds
#   make bench      benchmarks against their peers (bench/RESULTS.md)
#   make install    PREFIX, DESTDIR, BINDIR, LIBDIR, MANPREFIX honoured

VERSION = 0.1.0

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib/toolchain
MANPREFIX ?= $(PREFIX)/share/man
# the cron jobs, rules and plotting scripts (crontab.example names them
# here: /usr/local/share/toolchain/cron/...)
SHAREDIR ?= $(PREFIX)/share/toolchain

B ?= build
CC ?= cc
CXX ?= c++
CFLAGS ?= -O2 -g
CXXFLAGS ?= -O2 -g
WARN = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wno-unused-parameter
ALL_CFLAGS = -std=gnu11 $(WARN) $(CFLAGS)
ALL_CPPFLAGS = -Ilib -D_GNU_SOURCE -DTOOLCHAIN_VERSION='"$(VERSION)"' -MMD -MP $(CPPFLAGS)

PKG_CONFIG ?= pkg-config
AV_PKGS = libavformat libavcodec libswscale libavutil libavdevice
AV_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(AV_PKGS) 2>/dev/null)
AV_LIBS := $(shell $(PKG_CONFIG) --libs $(AV_PKGS) 2>/dev/null || \
	echo -lavdevice -lavformat -lavcodec -lswscale -lavutil)
# Debian's split OpenCV -dev packages ship no .pc file: fall back to the
# installed headers and the modules we use.
OPENCV_CFLAGS := $(shell $(PKG_CONFIG) --cflags opencv4 2>/dev/null || \
	echo -I/usr/include/opencv4)
OPENCV_LIBS := $(shell $(PKG_CONFIG) --libs opencv4 2>/dev/null || \
	echo -lopencv_video -lopencv_objdetect -lopencv_dnn \
	-lopencv_imgproc -lopencv_core)
CSV_LIBS = -lcsv
# NLopt for lib/ets's fitting (a program that does not fit one links
# nothing of it)
NLOPT_LIBS := $(shell $(PKG_CONFIG) --libs nlopt 2>/dev/null || echo -lnlopt)
LIBS = $(CSV_LIBS) $(NLOPT_LIBS) $(ZLIB_LIBS) -lm -pthread

# Per-program link flags: LIBS_<program>.
LIBS_frames = $(AV_LIBS)
CFLAGS_frames = $(AV_CFLAGS)
LIBS_clips = $(AV_LIBS) $(CRYPTO_LIBS)
CFLAGS_clips = $(AV_CFLAGS)
CFLAGS_avinput = $(AV_CFLAGS)
# The B-spline sampling loops are short fixed-stride loops over floats that
# -O2 leaves scalar; vectorized they cost a third (per-file flags go by the
# second path component, so lib/subpix.c gets CFLAGS_subpix).
CFLAGS_subpix = -O3
# ets's least-squares sums run down columns: vectorised at -O3
CFLAGS_ets = -O3
LIBS_motionpts = $(OPENCV_LIBS) -lstdc++
LIBS_people = $(OPENCV_LIBS) -lstdc++
FFTW_LIBS := $(shell $(PKG_CONFIG) --libs fftw3 2>/dev/null || echo -lfftw3)
LIBS_spectrum = $(FFTW_LIBS)
SQLITE_LIBS := $(shell $(PKG_CONFIG) --libs sqlite3 2>/dev/null || echo -lsqlite3)
ZLIB_LIBS := $(shell $(PKG_CONFIG) --libs zlib 2>/dev/null || echo -lz)
CRYPTO_LIBS := $(shell $(PKG_CONFIG) --libs libcrypto 2>/dev/null || echo -lcrypto)
PQ_CFLAGS := $(shell $(PKG_CONFIG) --cflags libpq 2>/dev/null || \
	echo -I/usr/include/postgresql)
PQ_LIBS := $(shell $(PKG_CONFIG) --libs libpq 2>/dev/null || echo -lpq)
CFLAGS_tsstore = $(PQ_CFLAGS)
LIBS_tsstore = $(SQLITE_LIBS) $(ZLIB_LIBS) $(CRYPTO_LIBS) $(PQ_LIBS)
JANSSON_LIBS := $(shell $(PKG_CONFIG) --libs jansson 2>/dev/null || echo -ljansson)
CURL_LIBS := $(shell $(PKG_CONFIG) --libs libcurl 2>/dev/null || echo -lcurl)
LIBS_alertsend = $(SQLITE_LIBS) $(JANSSON_LIBS) $(CURL_LIBS)
NATS_LIBS := $(shell $(PKG_CONFIG) --libs libnats 2>/dev/null || echo -lnats)
LIBS_bus = $(NATS_LIBS) $(CRYPTO_LIBS)

PROGS = $(notdir $(wildcard cmd/*))
LIB_OBJ = $(patsubst %.c,$(B)/%.o,$(wildcard lib/*.c)) \
	$(patsubst %.cpp,$(B)/%.o,$(wildcard lib/*.cpp))
LIBA = $(B)/libtoolchain.a
UNIT = $(patsubst tests/unit/%.c,$(B)/tests/unit/%,$(wildcard tests/unit/test_*.c))
TOOLS = $(patsubst tests/tools/%.c,$(B)/tests/tools/%,$(wildcard tests/tools/*.c))
MANS = $(wildcard man/*.[15])

.DEFAULT_GOAL := all

# tsstore's chunk decoder as a PostgreSQL function library (loaded by the
# server from where tsstore finds it: see tsstore(1)), built with the
# same lib/tschunk.c; when the server's headers are missing, not built.
PG_SERVER_INC := $(shell $(PKG_CONFIG) --variable=includedir_server libpq \
	2>/dev/null; pg_config --includedir-server 2>/dev/null)
PG_SERVER_INC := $(firstword $(wildcard $(addsuffix /postgres.h,$(PG_SERVER_INC))))
PGEXT_SRC = cmd/tsstore/pg/tsstore_pg.c lib/tschunk.c lib/decval.c lib/num.c \
	lib/xalloc.c
# not the sanitizers' flags: the server that loads it has no sanitizer
# runtime (make asan's tests load this same library)
PGEXT_CFLAGS = -O2 -g $(WARN)
ifneq ($(PG_SERVER_INC),)
PGEXT = $(B)/lib/toolchain/tsstore_pg.so
endif
$(B)/lib/toolchain/tsstore_pg.so: $(PGEXT_SRC) lib/tschunk.h lib/decval.h lib/num.h \
		lib/xalloc.h
	@mkdir -p $(@D)
	$(CC) -std=gnu11 -shared -fPIC $(PGEXT_CFLAGS) \
		-I$(dir $(PG_SERVER_INC)) -Ilib -o $@ $(PGEXT_SRC) $(ZLIB_LIBS)

all: $(PROGS:%=$(B)/bin/%) $(PGEXT)

$(B)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(CFLAGS_$(word 2,$(subst /, ,$*))) -c -o $@ $<

# The one C++ file: OpenCV behind lib/vision.h.
$(B)/%.o: %.cpp
	@mkdir -p $(@D)
	$(CXX) $(ALL_CPPFLAGS) $(OPENCV_CFLAGS) -std=c++17 -Wall -Wextra \
		$(CXXFLAGS) -c -o $@ $<

$(LIBA): $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

# One link rule per program, from the sources in its cmd/ folder.
define prog_rule
$(B)/bin/$(1): $(patsubst %.c,$(B)/%.o,$(wildcard cmd/$(1)/*.c)) $(LIBA)
	@mkdir -p $$(@D)
	$$(CC) $$(ALL_CFLAGS) $$(LDFLAGS) -o $$@ $$^ $$(LIBS_$(1)) $$(LIBS)
endef
$(foreach p,$(PROGS),$(eval $(call prog_rule,$(p))))

$(B)/tests/unit/%: $(B)/tests/unit/%.o $(LIBA)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)

# The tracker's test takes people's own track.c.
$(B)/tests/unit/test_track.o: ALL_CPPFLAGS += -Icmd/people
$(B)/tests/unit/test_track: $(B)/tests/unit/test_track.o \
		$(B)/cmd/people/track.o $(LIBA)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)

$(B)/tests/tools/%: $(B)/tests/tools/%.o $(LIBA)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)

test-progs: all $(UNIT) $(TOOLS)

# The installer is idempotent and quick when nothing is missing.
deps:
	scripts/install-deps

# The quick start: build quietly (the compiler's lines to a log), then
# the main jobs on the bundled data (scripts/demo), into demo/.
demo: deps
	@mkdir -p $(B)
	@echo "demo: building (compiler output in $(B)/build.log)"
	@$(MAKE) all > $(B)/build.log 2>&1 || { tail -n 30 $(B)/build.log; \
		echo "demo: the build failed: $(B)/build.log"; exit 1; }
	@scripts/demo $(B) demo

check: deps
	$(MAKE) test-progs
	tests/run --build $(B)

# The long fault sweeps; make check runs a short one of each.
FAULT_FLIPS ?= 200
faults: test-progs
	PATH=$(abspath $(B))/bin:$(abspath $(B))/tests/tools:$$PATH \
		tests/faults/tsstore-bitflip \
		-n $(FAULT_FLIPS) -p 3000000 -s 1

ASAN_FLAGS = -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
asan: deps
	$(MAKE) B=build/asan CFLAGS="$(ASAN_FLAGS)" CXXFLAGS="$(ASAN_FLAGS)" \
		LDFLAGS="$(ASAN_FLAGS)" test-progs
	ASAN_OPTIONS=detect_leaks=1 tests/run --build build/asan

# libFuzzer targets: clang only, one binary per tests/fuzz/fuzz_*.c.
FUZZTIME ?= 60
FUZZ_CC ?= clang
FUZZ_FLAGS = -O1 -g -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined -Ilib
FUZZ_BIN = $(patsubst tests/fuzz/%.c,$(B)/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))
# lib/ but its libav part (no fuzz target reads video)
FUZZ_LIB = $(filter-out lib/avinput.c,$(wildcard lib/*.c))
$(B)/fuzz/%: tests/fuzz/%.c $(wildcard lib/*.c lib/*.h)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $< $(FUZZ_LIB) $(LIBS) $(CRYPTO_LIBS)
# alertsend's intake: its sources but main.c.
ALERTSEND_FUZZ_SRC = $(filter-out cmd/alertsend/main.c,$(wildcard cmd/alertsend/*.c))
$(B)/fuzz/fuzz_alertsend: tests/fuzz/fuzz_alertsend.c $(ALERTSEND_FUZZ_SRC) \
		$(wildcard cmd/alertsend/*.h lib/*.c lib/*.h)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -D_GNU_SOURCE -Icmd/alertsend -o $@ $< \
		$(ALERTSEND_FUZZ_SRC) $(FUZZ_LIB) $(LIBS_alertsend) $(LIBS) \
		$(CRYPTO_LIBS)
# crowdagg's windows: its sources but main.c.
CROWDAGG_FUZZ_SRC = $(filter-out cmd/crowdagg/main.c,$(wildcard cmd/crowdagg/*.c))
$(B)/fuzz/fuzz_crowdagg: tests/fuzz/fuzz_crowdagg.c $(CROWDAGG_FUZZ_SRC) \
		$(wildcard cmd/crowdagg/*.h lib/*.c lib/*.h)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -D_GNU_SOURCE -Icmd/crowdagg -o $@ $< \
		$(CROWDAGG_FUZZ_SRC) $(FUZZ_LIB) $(LIBS) $(CRYPTO_LIBS)
fuzz-build: $(FUZZ_BIN)
fuzz: fuzz-build
	tests/fuzz/run --build $(B) --seconds $(FUZZTIME)

bench: test-progs
	bench/run --build $(B)

install: all
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANPREFIX)/man1 \
		$(DESTDIR)$(MANPREFIX)/man5
	for p in $(PROGS); do cp -f $(B)/bin/$$p $(DESTDIR)$(BINDIR)/; done
	if [ -n "$(PGEXT)" ]; then mkdir -p $(DESTDIR)$(LIBDIR) && \
		cp -f $(PGEXT) $(DESTDIR)$(LIBDIR)/; fi
	for m in $(MANS); do \
		s=$${m##*.}; cp -f $$m $(DESTDIR)$(MANPREFIX)/man$$s/; done
	mkdir -p $(DESTDIR)$(SHAREDIR)/cron $(DESTDIR)$(SHAREDIR)/rules \
		$(DESTDIR)$(SHAREDIR)/nats $(DESTDIR)$(SHAREDIR)/systemd
	cp -f scripts/cron/* $(DESTDIR)$(SHAREDIR)/cron/
	cp -f scripts/nats/* $(DESTDIR)$(SHAREDIR)/nats/
	cp -f scripts/rules/* $(DESTDIR)$(SHAREDIR)/rules/
	cp -f scripts/systemd/* $(DESTDIR)$(SHAREDIR)/systemd/
	cp -f scripts/plot-* scripts/report scripts/edge-vib scripts/edge-crowd \
		scripts/mqtt-plant $(DESTDIR)$(SHAREDIR)/

uninstall:
	for p in $(PROGS); do rm -f $(DESTDIR)$(BINDIR)/$$p; done
	rm -f $(DESTDIR)$(LIBDIR)/tsstore_pg.so
	for m in $(MANS); do \
		s=$${m##*.}; rm -f $(DESTDIR)$(MANPREFIX)/man$$s/$${m#man/}; done
	rm -rf $(DESTDIR)$(SHAREDIR)

clean:
	rm -rf build

.PHONY: all test-progs deps demo check asan fuzz fuzz-build bench install faults \
	uninstall clean
.PRECIOUS: $(B)/%.o

-include $(shell find $(B) -name '*.d' 2>/dev/null)
