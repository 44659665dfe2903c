# onebox: one binary for a memcached cache, a Redis store, an AMQP broker and
# an ORM.  `make run` and `make test` are all a fresh Debian 12 machine needs:
# both install missing Debian packages first (make deps), then build in a
# sub-make, so that pkg-config is asked only once the -dev packages exist.
#
#   make            build bin/onebox
#   make run        install deps, build, run the server on its defaults
#   make test       install deps, build, run unit + integration tests
#   make asan       the same tests, built with ASan + UBSan (bin/asan/)
#   make test-real  the integration tests against the real engines
#   make fuzz       libFuzzer over the parsers (FUZZ_SECONDS each)
#   make check-headers   compile every header on its own

# Debian packages: to build, to test.
DEPS_BUILD := gcc make pkg-config libevent-dev libjansson-dev libsqlite3-dev liblzf-dev \
              check libsubunit-dev libxxhash-dev librabbitmq-dev
DEPS_TEST  := python3 python3-pytest curl procps memcached libmemcached-tools \
              python3-memcache python3-pymemcache \
              redis-server redis-tools python3-redis \
              rabbitmq-server amqp-tools python3-pika python3-kombu python3-amqp
DEPS       := $(DEPS_BUILD) $(DEPS_TEST)

PKGS   := libevent jansson libxxhash
PYTHON := /usr/bin/python3

ifeq ($(SANITIZE),1)
BUILD  := build/asan
BIN    := bin/asan
OPT    := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
          -fno-sanitize-recover=all -DOB_DEBUG_ARENA
else
BUILD  := build/release
BIN    := bin
OPT    := -O2 -g
endif

# Recursive (=) so that pkg-config runs only when a recipe needs the flags.
CFLAGS  = -std=c11 -D_GNU_SOURCE $(OPT) -Wall -Wextra -Werror -Wshadow \
          -Wstrict-prototypes -pthread -I. -Icore $(shell pkg-config --cflags $(PKGS))
LDFLAGS = $(OPT)
# -pthread: helper threads (ob_wakeup) hand work back to the reactor.
LDLIBS  = $(shell pkg-config --libs $(PKGS)) -llzf -pthread
CHECK_LIBS = $(shell pkg-config --libs check)

CORE_SRC   := $(filter-out core/main.c,$(wildcard core/*.c))
MODULE_SRC := $(wildcard cache/*.c store/*.c mq/*.c orm/*.c)
LIB_OBJ    := $(patsubst %.c,$(BUILD)/%.o,$(CORE_SRC) $(MODULE_SRC))
MAIN_OBJ   := $(BUILD)/core/main.o
UNIT_SRC   := $(wildcard tests/unit/*.c)
UNIT_OBJ   := $(patsubst %.c,$(BUILD)/%.o,$(UNIT_SRC))
HEADERS    := $(wildcard core/*.h cache/*.h store/*.h mq/*.h orm/*.h)

.PHONY: all deps run test test-real unit integration asan fuzz check-headers clean

all: $(BIN)/onebox

$(BIN)/onebox: $(MAIN_OBJ) $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BIN)/check_onebox: $(UNIT_OBJ) $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(CHECK_LIBS)

# bench/mq.sh's AMQP load generator (rabbitmq-c: librabbitmq-dev).
bin/mq_perf: bench/mq_perf.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< -lrabbitmq -pthread

$(BUILD)/tests/unit/%.o: tests/unit/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(shell pkg-config --cflags check) -MMD -MP -c -o $@ $<

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

-include $(LIB_OBJ:.o=.d) $(MAIN_OBJ:.o=.d) $(UNIT_OBJ:.o=.d)

# Installs only what is missing; does nothing when everything is there.
deps:
	@missing=""; for p in $(DEPS); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' \
	    || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "make deps: installing$$missing"; \
	  sudo=""; [ "$$(id -u)" -eq 0 ] || sudo=sudo; \
	  $$sudo apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq \
	    --no-install-recommends $$missing; \
	fi

run: deps
	$(MAKE) --no-print-directory all
	exec $(BIN)/onebox $(ARGS)

test: deps
	$(MAKE) --no-print-directory unit integration

# The unit tests fork per test (CK_FORK), so a crash fails one test only.
unit: $(BIN)/check_onebox
	$(BIN)/check_onebox

# pytest exits 5 when it collects nothing; that is a failure here too.
integration: $(BIN)/onebox
	ONEBOX_BIN=$(abspath $(BIN)/onebox) ONEBOX_SANITIZE=$(SANITIZE) \
	  $(PYTHON) -m pytest -q -p no:cacheprovider tests/integration $(PYTEST_ARGS)

# The same integration tests against the real engines (memcached ...), to
# prove that they test the protocol and not onebox's quirks.
test-real: deps
	$(PYTHON) -m pytest -q -p no:cacheprovider tests/integration --target real $(PYTEST_ARGS)

asan: deps
	$(MAKE) --no-print-directory SANITIZE=1 unit integration

# libFuzzer over each parser (clang from Debian; not needed for anything
# else).  Runs FUZZ_SECONDS per harness from the seeds in tests/fuzz/corpus;
# what it finds is written to build/fuzz/ as a crash-* file.
FUZZ_SECONDS ?= 60
FUZZ_FLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -I. -Icore -Icache \
              -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all

# The harnesses and what each links: the pure parser alone, or the whole
# request path (core and the cache, without main).
FUZZ_SRC_cache_proto    := cache/cache_proto.c
FUZZ_SRC_cache_requests := $(CORE_SRC) $(wildcard cache/*.c store/*.c mq/*.c)
FUZZ_SRC_store_resp     := store/store_resp.c
FUZZ_SRC_store_requests := $(CORE_SRC) $(wildcard cache/*.c store/*.c mq/*.c)
FUZZ_SRC_store_rdb      := $(CORE_SRC) $(wildcard cache/*.c store/*.c mq/*.c)
FUZZ_SRC_mq_frame       := mq/mq_frame.c mq/mq_method.c mq/mq_props.c mq/mq_table.c \
                           mq/mq_topic.c mq/mq_wire_err.c
FUZZ_SRC_mq_requests    := $(CORE_SRC) $(wildcard cache/*.c store/*.c mq/*.c)
FUZZ_HARNESSES          := cache_proto cache_requests store_resp store_requests store_rdb \
                           mq_frame mq_requests

fuzz:
	@$(MAKE) --no-print-directory deps DEPS="clang libclang-rt-14-dev"
	@set -e; for h in $(FUZZ_HARNESSES); do \
	  mkdir -p build/fuzz/corpus-$$h; \
	  case $$h in \
	    cache_proto)    src="$(FUZZ_SRC_cache_proto)" ;; \
	    cache_requests) src="$(FUZZ_SRC_cache_requests)" ;; \
	    store_resp)     src="$(FUZZ_SRC_store_resp)" ;; \
	    store_requests) src="$(FUZZ_SRC_store_requests)" ;; \
	    store_rdb)      src="$(FUZZ_SRC_store_rdb)" ;; \
	    mq_frame)       src="$(FUZZ_SRC_mq_frame)" ;; \
	    mq_requests)    src="$(FUZZ_SRC_mq_requests)" ;; \
	  esac; \
	  clang $(FUZZ_FLAGS) $$(pkg-config --cflags $(PKGS)) -o build/fuzz/fuzz_$$h \
	    tests/fuzz/fuzz_$$h.c $$src \
	    $$(pkg-config --libs $(PKGS)) -llzf -pthread; \
	  build/fuzz/fuzz_$$h -max_total_time=$(FUZZ_SECONDS) -max_len=65536 \
	    -artifact_prefix=build/fuzz/ build/fuzz/corpus-$$h tests/fuzz/corpus/$$h; \
	done

check-headers:
	@for h in $(HEADERS); do \
	  echo "#include \"$$h\"" | $(CC) $(CFLAGS) -I. -x c -fsyntax-only - || exit 1; \
	done; echo "check-headers: $(words $(HEADERS)) headers compile on their own"

clean:
	rm -rf build bin
