# Parley: `make run` runs the stack, `make test` tests it. See README.md.

SERVICES	:= accounts friends messages poll calls sites uploads admin webhooks
# Every process with a systemd unit: the FastCGI services, the webhook
# dispatcher and the WebSocket gateway (a Kore module, built below).
UNITS		:= $(SERVICES) gateway
# The services with a route table: each one is generated from
# docs/openapi.json (x-parley-service, x-parley-handler) by
# scripts/routegen.c. The document's other operations are answered by
# the Kore gateway and by nginx itself.
ROUTED		:= accounts friends messages poll calls sites uploads admin
ROUTES_ELSEWHERE := gateway nginx
CC		?= cc
SAN		?= 0

WARN	:= -Wall -Wextra -Werror -Wstrict-prototypes -Wmissing-prototypes \
	   -Wshadow -Wpointer-arith -Wcast-qual -Wformat=2 -fno-common
CFLAGS_COMMON := -std=c11 -D_GNU_SOURCE $(WARN) -fstack-protector-strong \
	   -Ishared -I/usr/include/postgresql -pthread -g
LIBS	:= -lfcgi -lpq -ljansson -lsodium -pthread
# TURN credentials are HMAC-SHA1, which libsodium does not offer.
LIBS_calls := -lcrypto
# Webhook deliveries go out over HTTP(S) with libcurl.
LIBS_webhooks := -lcurl
# Uploads: types sniffed with libmagic, images re-encoded with libvips
# (its and glib's headers as system headers: our warnings are not theirs).
VIPS_CFLAGS := $(shell pkg-config --cflags-only-I vips 2>/dev/null | sed 's/-I/-isystem /g')
LIBS_uploads := -lmagic $(shell pkg-config --libs vips 2>/dev/null)

ifeq ($(SAN),1)
B	:= build/asan
CFLAGS_MODE := -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
	   -fno-sanitize-recover=undefined
LDFLAGS_MODE := -fsanitize=address,undefined
# Kore itself is not instrumented: ASan's runtime must be preloaded.
GATEWAY_PRELOAD := $(shell $(CC) -print-file-name=libasan.so)
else
B	:= build/release
CFLAGS_MODE := -O2 -D_FORTIFY_SOURCE=2
LDFLAGS_MODE :=
GATEWAY_PRELOAD :=
endif
# Generated route tables and handler prototypes: routes_<service>.[ch].
GEN	:= $(B)/gen
CFLAGS	:= $(CFLAGS_COMMON) $(CFLAGS_MODE) -I$(GEN)
# A build tool, the same for both modes: no sanitizer in the way.
ROUTEGEN := build/tools/routegen
ROUTEGEN_ARGS := $(patsubst %,-e %,$(ROUTES_ELSEWHERE)) docs/openapi.json

SHARED_OBJ := $(patsubst %.c,$(B)/obj/%.o,$(wildcard shared/*.c))
BINS	:= $(patsubst %,$(B)/bin/parley-%,$(SERVICES))
# The WebSocket gateway is a Kore module (a shared object Kore loads), so
# it and the few shared/ files it uses are compiled position-independent,
# with the feature flags Debian's Kore was built with (they change struct
# layouts in Kore's headers).
GATEWAY	:= $(B)/lib/parley-gateway.so
KORE_CFLAGS := $(shell cat /usr/share/kore/features 2>/dev/null)
GATEWAY_SRC := $(wildcard services/gateway/*.c) shared/db.c shared/log.c \
	   shared/metrics.c \
	   shared/config.c shared/token.c shared/nofile.c shared/stream.c
GATEWAY_OBJ := $(patsubst %.c,$(B)/pic/%.o,$(GATEWAY_SRC))
UNIT_BIN := $(B)/bin/unit-tests

.PHONY: all build deps run start stop status test unit fuzz bench clean \
	format-check format install deb gen routes lint-api

all: build

deps:
	@scripts/deps.sh

build: $(BINS) $(GATEWAY) $(B)/bin/parley-gateway $(B)/lib/gateway.conf.in

# Kore runs the module; this script starts Kore (see the script).
$(B)/bin/parley-gateway: services/gateway/parley-gateway.in
	@mkdir -p $(dir $@)
	@sed -e 's|@PRELOAD@|$(GATEWAY_PRELOAD)|' $< >$@.tmp
	@chmod 755 $@.tmp && mv $@.tmp $@

$(B)/lib/gateway.conf.in: services/gateway/gateway.conf.in
	@mkdir -p $(dir $@)
	@cp $< $@

$(ROUTEGEN): scripts/routegen.c
	@mkdir -p $(dir $@)
	@echo "CC $<"
	@$(CC) $(CFLAGS_COMMON) -O1 -o $@ $< -ljansson

# routegen rewrites only the files whose text changes, so an edit of the
# document's prose rebuilds nothing; the stamp records that it ran, and
# each generated file is then as new as its contents.
$(GEN)/.stamp: docs/openapi.json $(ROUTEGEN) Makefile
	@mkdir -p $(GEN)
	@echo "GEN $(GEN)/routes_*.[ch] from docs/openapi.json"
	@$(ROUTEGEN) $(ROUTEGEN_ARGS) $(GEN) $(ROUTED)
	@touch $@
$(patsubst %,$(GEN)/routes_%.c,$(ROUTED)) \
$(patsubst %,$(GEN)/routes_%.h,$(ROUTED)): $(GEN)/.stamp ;

gen: $(GEN)/.stamp

# Every route of the document: method, path, service, handler, auth.
routes: $(ROUTEGEN)
	@$(ROUTEGEN) -l $(ROUTEGEN_ARGS) $(ROUTED)

$(B)/obj/gen/%.o: $(GEN)/%.c | $(GEN)/.stamp
	@mkdir -p $(dir $@)
	@echo "CC $<"
	@$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(B)/pic/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "CC $< (PIC)"
	@$(CC) $(CFLAGS) $(KORE_CFLAGS) -fPIC -MMD -MP -c $< -o $@

$(GATEWAY): $(GATEWAY_OBJ)
	@mkdir -p $(dir $@)
	@echo "LD $@"
	@$(CC) $(LDFLAGS_MODE) -shared -o $@ $^ -lpq -ljansson -lsodium

$(B)/obj/services/uploads/%.o: CFLAGS += $(VIPS_CFLAGS)

# Order-only: the first build needs the generated headers before any
# compiler run has listed them in a .d file.
$(B)/obj/%.o: %.c | $(GEN)/.stamp
	@mkdir -p $(dir $@)
	@echo "CC $<"
	@$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(B)/libparley.a: $(SHARED_OBJ)
	@ar rcs $@ $^

define service_rule
$(B)/bin/parley-$(1): $(patsubst %.c,$(B)/obj/%.o,$(wildcard services/$(1)/*.c)) \
	    $(if $(filter $(1),$(ROUTED)),$(B)/obj/gen/routes_$(1).o) $(B)/libparley.a
	@mkdir -p $$(dir $$@)
	@echo "LD $$@"
	@$$(CC) $(LDFLAGS_MODE) -o $$@ $$^ $(LIBS) $(LIBS_$(1))
endef
$(foreach s,$(SERVICES),$(eval $(call service_rule,$(s))))

$(UNIT_BIN): $(patsubst %.c,$(B)/obj/%.o,$(wildcard tests/unit/*.c)) $(B)/libparley.a
	@mkdir -p $(dir $@)
	@echo "LD $@"
	@$(CC) $(LDFLAGS_MODE) -o $@ $^ $(LIBS)

-include $(shell find build -name '*.d' 2>/dev/null)

# The stack: foreground (run) or background (start/stop).
run: deps
	@$(MAKE) --no-print-directory build
	@scripts/parley run

start: deps
	@$(MAKE) --no-print-directory build
	@scripts/parley start

stop:
	@scripts/parley stop

status:
	@scripts/parley status

# Sanitizer build, C unit tests, then black-box tests against a real stack
# (own var dir and port, so a `make run` beside it is left alone).
test:
	@scripts/deps.sh test
	@$(MAKE) --no-print-directory SAN=1 build build/asan/bin/unit-tests
	@scripts/test.sh

# Several hosts on this machine (network namespaces: root only; without,
# it says why and exits 77, skipped). scripts/test.sh runs it as well.
.PHONY: test-cluster
test-cluster:
	@$(MAKE) --no-print-directory SAN=1 build
	@scripts/test-cluster.sh

unit:
	@$(MAKE) --no-print-directory SAN=1 build/asan/bin/unit-tests
	@build/asan/bin/unit-tests
	@node --test tests/unit/*.test.js

# libFuzzer drivers for every parser of client input (clang).
FUZZ_TIME ?= 20
# docs/openapi.json with Redocly's recommended rules (redocly.yaml;
# the few exceptions, with reasons, in .redocly.lint-ignore.yaml). Fails
# on any error or warning.
lint-api:
	@scripts/lint-api.sh

fuzz:
	@scripts/deps.sh test
	@scripts/fuzz.sh $(FUZZ_TIME)

# The production layout (README, "Debian package") under DESTDIR.
install: build
	@scripts/install.sh "$(DESTDIR)"

# build/deb/parley_<version>_<arch>.deb (debhelper), checked by lintian.
deb: deps
	@scripts/deb.sh

# Benchmark on a private stack (var/bench, ports 18200 and 18201): the
# figures, each beside a yardstick measured in the same run, as a table
# (var/bench/report.txt) and plotted (var/bench/report.html). See README.
bench: deps
	@$(MAKE) --no-print-directory build
	@bench/run.sh

# Every C file in the tree against .clang-format (scripts/test.sh runs it);
# `make format` rewrites them.
FORMAT_SRC = $(wildcard shared/*.[ch] services/*/*.[ch] tests/unit/*.[ch] \
	     tests/fuzz/*.[ch] bench/*.[ch] scripts/*.c)
format-check:
	@clang-format --dry-run --Werror $(FORMAT_SRC)

format:
	@clang-format -i $(FORMAT_SRC)

# The systemd units in dist/systemd (systemd-analyze verify and more; see
# scripts/check-units.sh, which scripts/test.sh runs as well).
.PHONY: check-units
check-units:
	@$(MAKE) --no-print-directory build
	@PARLEY_BIN=$(CURDIR)/$(B)/bin scripts/check-units.sh

clean:
	rm -rf build
