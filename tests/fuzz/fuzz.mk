# Fuzzing with libFuzzer (clang, and its runtime from libclang-rt-<version>-dev on Debian).
# `make fuzz` builds each target and runs it for FUZZ_TIME seconds on a corpus kept in the build
# directory; a crash leaves its input there too (crash-*): run the target on that file to replay.
BUILD ?= build
FUZZ_CC ?= clang
FUZZ_TIME ?= 60
FUZZ_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	-I. -DHOST_TEST \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_DIR := $(BUILD)/fuzz

FUZZ_shell := tests/fuzz/fuzz_shell.c kernel/shell.c kernel/shell_cmds.c kernel/line_edit.c \
	kernel/fmt.c kernel/lib.c kernel/err.c vmx/vmx_names.c
# Seeds: one line per command and a console session, so the fuzzer starts from real use.
FUZZ_shell_SEEDS := 'help\r' 'help stop\r' 'list\r' 'info alpha\r' 'info 1\r' 'start 7\r' \
	'stop beta\r' 'restart 0\r' 'pause alpha\r' 'resume beta\r' 'log 2\r' 'mem\r' 'cpus\r' \
	'console beta\r\nhello\003\035list\r' 'list\r\033[A\033[B\033OA\r' 'stop al\003x\025\027\r'

.PHONY: fuzz fuzz-build fuzz-deps
fuzz-deps:
	@EXTRA_PACKAGES="clang libclang-rt-14-dev" scripts/install-deps.sh

fuzz-build: fuzz-deps $(FUZZ_DIR)/fuzz_shell

$(FUZZ_DIR)/fuzz_shell: $(FUZZ_shell) kernel/shell.h kernel/line_edit.h kernel/fmt.h kernel/lib.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $(FUZZ_shell)

fuzz: fuzz-build
	@mkdir -p $(FUZZ_DIR)/corpus_shell $(FUZZ_DIR)/seeds_shell
	@n=0; for s in $(FUZZ_shell_SEEDS); do n=$$((n + 1)); \
		printf "\125$$s" > $(FUZZ_DIR)/seeds_shell/seed$$n; done
	cd $(FUZZ_DIR) && ./fuzz_shell -max_total_time=$(FUZZ_TIME) -max_len=512 \
		-print_final_stats=1 corpus_shell seeds_shell
