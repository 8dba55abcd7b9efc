# expertnet — build, demo, test.
#
#   make          build libexpertnet, expertnet-broker, expertnet-node, expertnet
#   make demo     install missing Debian packages the demo needs, build, run the demo
#   make test     install what the tests need; unit tests (cmocka) + integration tests
#   make bench    benchmarks in tests/bench (ratios against same-run baselines)
#   make install  install binaries, configs and systemd units (PREFIX, DESTDIR)
#   make fuzz     build the libFuzzer harnesses (tests/fuzz, clang) and run
#                 each for FUZZ_SECONDS (default 30) under ASan + UBSan
#   make test SANITIZE=1   everything built with -fsanitize=address,undefined

CC      ?= cc
PKGS    := libczmq libzmq libsodium sqlite3 jansson libmicrohttpd libcurl liboath
CFLAGS  ?= -O2 -g
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter \
           -Werror=implicit-function-declaration -Iinclude \
           $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
override CFLAGS += $(BASE_CFLAGS)
override LDLIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm

# SANITIZE=1: AddressSanitizer + UndefinedBehaviorSanitizer (gcc has both).
# Undefined behaviour aborts (no recovery), so a test that meets it fails.
SANITIZE ?=
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
ifeq ($(SANITIZE),1)
override CFLAGS += $(SAN_FLAGS)
endif

PREFIX  ?= /usr/local
BUILD   := build
# Objects depend on the compiler and flags they were built with, so that
# `make test SANITIZE=1` and a plain `make test` never mix objects.
FLAGS_STAMP := $(BUILD)/.cflags
$(shell mkdir -p $(BUILD); echo '$(CC) $(CFLAGS)' | cmp -s - $(FLAGS_STAMP) || echo '$(CC) $(CFLAGS)' > $(FLAGS_STAMP))
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
# One libFuzzer harness per decoder (tests/fuzz/fuzz_NAME.c). make test
# replays each committed corpus (tests/fuzz/corpus/NAME) through the harness
# built with the normal compiler and tests/fuzz/replay.c as main.
FUZZ_SRC  := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_NAMES:= $(FUZZ_SRC:tests/fuzz/fuzz_%.c=%)
REPLAY_BINS := $(FUZZ_NAMES:%=$(BUILD)/tests/test_fuzz_%)

.PHONY: all deps deps-demo deps-bench demo test unit integration bench install clean check-deps fuzz fuzz-corpus unit-bins

all: check-deps $(BINS)

check-deps:
	@pkg-config --exists $(PKGS) || { echo "missing build dependencies: run 'make deps' (as root) or see README.md" >&2; exit 1; }

deps:
	@deploy/deps.sh test

deps-demo:
	@deploy/deps.sh demo

deps-bench:
	@deploy/deps.sh bench

$(BUILD)/%.o: %.c $(FLAGS_STAMP)
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
# Compiled and linked in one step, their header dependencies go to
# build/tests/.deps (beside the binaries they would match test_*).
TEST_LINK := $(filter-out %/broker_main.o,$(BROKER_OBJ)) $(filter-out %/node_main.o,$(NODE_OBJ))
$(BUILD)/tests/test_%: tests/unit/test_%.c $(TEST_LINK) $(LIBEN)
	@mkdir -p $(dir $@) $(BUILD)/tests/.deps
	@echo "  TEST    $@"
	@$(CC) $(CFLAGS) -MMD -MP -MF $(BUILD)/tests/.deps/$(notdir $@).d -Ibroker -Inode -o $@ $< $(TEST_LINK) $(LIBEN) $(LDLIBS) -lcmocka

# Test tools for the integration tests (tests/integration/*.c), e.g. probe.
$(TOOL_BINS): $(BUILD)/tests/%: tests/integration/%.c $(TEST_LINK) $(LIBEN)
	@mkdir -p $(dir $@) $(BUILD)/tests/.deps
	@echo "  TOOL    $@"
	@$(CC) $(CFLAGS) -MMD -MP -MF $(BUILD)/tests/.deps/$(notdir $@).d -Ibroker -Inode -o $@ $< $(TEST_LINK) $(LIBEN) $(LDLIBS)

# Corpus replays: the harness with replay.c as main, normal compiler.
# fuzz_router and fuzz_node drive the broker's and the node's own modules:
# those are linked in too.
$(REPLAY_BINS): $(BUILD)/tests/test_fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c tests/fuzz/fuzz.h $(LIBEN)
	@mkdir -p $(dir $@)
	@echo "  REPLAY  $@"
	@$(CC) $(CFLAGS) -DFUZZ_CORPUS='"tests/fuzz/corpus/$*"' -Ibroker -Inode -Itests/unit -o $@ $< tests/fuzz/replay.c \
	    $(filter %.o,$^) $(LIBEN) $(LDLIBS)
$(BUILD)/tests/test_fuzz_router: $(filter-out %/broker_main.o,$(BROKER_OBJ)) tests/unit/test_drift.h
$(BUILD)/tests/test_fuzz_node: $(filter-out %/node_main.o,$(NODE_OBJ))

$(BUILD)/bench/%: tests/bench/%.c tests/bench/bench_util.h $(TEST_LINK) $(LIBEN)
	@mkdir -p $(dir $@)
	@echo "  BENCH   $@"
	@mkdir -p $(BUILD)/tests/.deps && $(CC) $(CFLAGS) -MMD -MP -MF $(BUILD)/tests/.deps/$(notdir $@).d -Ibroker -Inode -o $@ $< $(TEST_LINK) $(LIBEN) $(LDLIBS)

# The demo installs only what it needs (no prometheus, no chromium)
demo: deps-demo
	@$(MAKE) --no-print-directory all
	@deploy/demo.sh

test: deps
	@$(MAKE) --no-print-directory all unit-bins
	@tests/run.sh

# A broker with the control verb "fault" (arms en_db's fault countdown), for
# tests/integration/test_faults.sh only: en_ops.c (the control verbs) built
# with -DEN_FAULTS.
FAULT_BROKER := $(BUILD)/tests/faults/expertnet-broker
$(BUILD)/tests/faults/en_ops.o: broker/en_ops.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  CC      $< (EN_FAULTS)"
	@$(CC) $(CFLAGS) -DEN_FAULTS -MMD -MP -c $< -o $@

$(FAULT_BROKER): $(BUILD)/tests/faults/en_ops.o $(filter-out %/en_ops.o,$(BROKER_OBJ)) $(LIBEN)
	@echo "  LINK    $@"
	@$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

unit-bins: $(UNIT_BINS) $(TOOL_BINS) $(REPLAY_BINS) $(FAULT_BROKER)

# make fuzz: the harnesses built by clang with libFuzzer, ASan and UBSan,
# into their own directory (the library is compiled again, instrumented).
# Needs clang and libclang-rt-14-dev: deploy/deps.sh fuzz.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 30
FUZZ_DIR     := $(BUILD)/fuzz
FUZZ_CFLAGS  := -g -O1 $(BASE_CFLAGS) $(SAN_FLAGS)
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=$(FUZZ_DIR)/%.o)
FUZZ_BINS    := $(FUZZ_NAMES:%=$(FUZZ_DIR)/fuzz_%)
.SECONDARY: $(FUZZ_LIB_OBJ)

$(FUZZ_DIR)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  FUZZCC  $<"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZ_LIB_OBJ)
	@echo "  FUZZ    $@"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -Ibroker -Inode -Itests/unit -o $@ $< $(filter %.o,$^) $(LDLIBS)
FUZZ_BROKER_OBJ := $(patsubst %.c,$(FUZZ_DIR)/%.o,$(filter-out broker/broker_main.c,$(wildcard broker/*.c)))
.SECONDARY: $(FUZZ_BROKER_OBJ)
$(FUZZ_DIR)/fuzz_router: $(FUZZ_BROKER_OBJ) tests/unit/test_drift.h
FUZZ_NODE_OBJ := $(patsubst %.c,$(FUZZ_DIR)/%.o,$(filter-out node/node_main.c node/expertnet.c,$(wildcard node/*.c)))
.SECONDARY: $(FUZZ_NODE_OBJ)
$(FUZZ_DIR)/fuzz_node: $(FUZZ_NODE_OBJ)

# Seed corpora (committed): `make fuzz-corpus` writes them again.
$(BUILD)/tests/gen_corpus: tests/fuzz/gen_corpus.c tests/fuzz/fuzz.h $(LIBEN)
	@mkdir -p $(dir $@)
	@$(CC) $(CFLAGS) -o $@ $< $(LIBEN) $(LDLIBS)

fuzz-corpus: $(BUILD)/tests/gen_corpus
	@$(BUILD)/tests/gen_corpus tests/fuzz/corpus

fuzz: check-deps
	@deploy/deps.sh fuzz
	@$(MAKE) --no-print-directory $(FUZZ_BINS)
	@FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run.sh $(FUZZ_NAMES)

# The benchmarks install what they add (Mosquitto and the NATS server, run
# beside the broker as peers) the way `make test` installs its tools.
bench: deps-bench
	@$(MAKE) --no-print-directory all $(BENCH_BINS)
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
