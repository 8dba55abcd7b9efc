# expertnet — build, demo, test.
#
#   make          build libexpertnet, expertnet-broker, expertnet-node, expertnet
#   make demo     install missing Debian packages the demo needs, build, run the demo
#   make test     install what the tests need; unit tests (cmocka) + integration tests
#   make bench    benchmarks in tests/bench (ratios against same-run baselines)
#   make install  install binaries, configs and systemd units (PREFIX, DESTDIR)

CC      ?= cc
PKGS    := libczmq libzmq libsodium sqlite3 jansson libmicrohttpd libcurl liboath
CFLAGS  ?= -O2 -g
override CFLAGS += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter \
           -Werror=implicit-function-declaration -Iinclude \
           $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
override LDLIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm

PREFIX  ?= /usr/local
BUILD   := build
LIB_SRC := $(wildcard lib/*.c)
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
LIBEN   := $(BUILD)/libexpertnet.a

BROKER_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(wildcard broker/*.c))
NODE_OBJ   := $(patsubst %.c,$(BUILD)/%.o,$(filter-out node/expertnet.c,$(wildcard node/*.c)))
CLI_OBJ    := $(BUILD)/node/expertnet.o

BINS := $(BUILD)/bin/expertnet-broker $(BUILD)/bin/expertnet-node $(BUILD)/bin/expertnet

UNIT_SRC  := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
TOOL_SRC  := $(wildcard tests/integration/*.c)
TOOL_BINS := $(TOOL_SRC:tests/integration/%.c=$(BUILD)/tests/%)
BENCH_SRC := $(wildcard tests/bench/bench_*.c)
BENCH_BINS:= $(BENCH_SRC:tests/bench/%.c=$(BUILD)/bench/%)

.PHONY: all deps deps-demo demo test unit integration bench install clean check-deps

all: check-deps $(BINS)

check-deps:
	@pkg-config --exists $(PKGS) || { echo "missing build dependencies: run 'make deps' (as root) or see README.md" >&2; exit 1; }

deps:
	@deploy/deps.sh test

deps-demo:
	@deploy/deps.sh demo

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(LIBEN): $(LIB_OBJ)
	@ar rcs $@ $^

$(BUILD)/bin/expertnet-broker: $(BROKER_OBJ) $(LIBEN)
	@mkdir -p $(dir $@)
	@echo "  LINK    $@"
	@$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bin/expertnet-node: $(NODE_OBJ) $(LIBEN)
	@mkdir -p $(dir $@)
	@echo "  LINK    $@"
	@$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bin/expertnet: $(CLI_OBJ) $(LIBEN)
	@mkdir -p $(dir $@)
	@echo "  LINK    $@"
	@$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# Unit tests link the broker's and node's own modules (not their main()).
TEST_LINK := $(filter-out %/broker_main.o,$(BROKER_OBJ)) $(filter-out %/node_main.o,$(NODE_OBJ))
$(BUILD)/tests/%: tests/unit/%.c $(TEST_LINK) $(LIBEN)
	@mkdir -p $(dir $@)
	@echo "  TEST    $@"
	@$(CC) $(CFLAGS) -Ibroker -Inode -o $@ $< $(TEST_LINK) $(LIBEN) $(LDLIBS) -lcmocka

# Test tools for the integration tests (tests/integration/*.c), e.g. probe.
$(TOOL_BINS): $(BUILD)/tests/%: tests/integration/%.c $(TEST_LINK) $(LIBEN)
	@mkdir -p $(dir $@)
	@echo "  TOOL    $@"
	@$(CC) $(CFLAGS) -Ibroker -Inode -o $@ $< $(TEST_LINK) $(LIBEN) $(LDLIBS)

$(BUILD)/bench/%: tests/bench/%.c tests/bench/bench_util.h $(TEST_LINK) $(LIBEN)
	@mkdir -p $(dir $@)
	@echo "  BENCH   $@"
	@$(CC) $(CFLAGS) -Ibroker -Inode -o $@ $< $(TEST_LINK) $(LIBEN) $(LDLIBS)

# The demo installs only what it needs (no prometheus, no chromium)
demo: deps-demo
	@$(MAKE) --no-print-directory all
	@deploy/demo.sh

test: deps
	@$(MAKE) --no-print-directory all unit-bins
	@tests/run.sh

unit-bins: $(UNIT_BINS) $(TOOL_BINS)

bench: all $(BENCH_BINS)
	@tests/bench/run.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)/etc/expertnet $(DESTDIR)/lib/systemd/system
	install -m 0755 $(BINS) $(DESTDIR)$(PREFIX)/bin/
	@# configs: installed once, never over an operator's edited file
	@for f in deploy/etc/*.cfg; do \
	    t=$(DESTDIR)/etc/expertnet/$$(basename $$f); \
	    if [ -e $$t ]; then echo "  keep    $$t (exists; new example in $$f)"; \
	    else install -m 0644 $$f $$t && echo "  install $$t"; fi; \
	done
	sed 's#@PREFIX@#$(PREFIX)#g' deploy/systemd/expertnet-broker.service > $(DESTDIR)/lib/systemd/system/expertnet-broker.service
	sed 's#@PREFIX@#$(PREFIX)#g' deploy/systemd/expertnet-node.service > $(DESTDIR)/lib/systemd/system/expertnet-node.service

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
