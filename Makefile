# CallBox: the two commands a developer needs are `make run` and `make test`.
VENV     ?= .venv
PY       := $(VENV)/bin/python
STAMP    := $(VENV)/.callbox-installed
CSOURCES := $(shell find drivers dsp -name '*.c' -o -name '*.h' -o -name 'build_*.py') tools/cffi_build.py
VAR      ?= var
PORT     ?= 8080
RATE     ?= 6
PROMPTS  := build/prompts/.made

BOARD    ?= qemu-x86_64

.PHONY: all prompts run test asan fuzz bench bundle clean distclean

all: $(STAMP)

$(STAMP): pyproject.toml setup.py tools/setup-env.sh $(CSOURCES)
	VENV=$(VENV) tools/setup-env.sh
	touch $@

## prompts: the default spoken prompts (Mandarin and English) made with espeak-ng
prompts: $(PROMPTS)

$(PROMPTS): firmware/callbox/tools/make_prompts.py | $(STAMP)
	@if command -v espeak-ng >/dev/null; then \
		$(PY) -m callbox.tools.make_prompts --out build/prompts && touch $@; \
	else echo "prompts: espeak-ng is not installed (apt-get install espeak-ng); the box uses tone prompts"; fi

## run: the whole box in simulation (far-end exchange placing $(RATE) calls/min), web UI on localhost:$(PORT)
run: $(STAMP) $(PROMPTS)
	$(PY) -m callbox.daemons.supervisor --sim --data-dir $(VAR)/data --run-dir $(VAR)/run \
		--log-dir $(VAR)/log --web-port $(PORT) --rate $(RATE)

## test: every test tier that needs no hardware
test: $(STAMP)
	$(PY) -m pytest -q -ra

## asan: the line and DSP tests against C built with AddressSanitizer and UBSan
asan: $(STAMP)
	PY=$(PY) tools/asan_tests.sh -k "not talkoff"

## fuzz: coverage-guided fuzzing of the line layer's C for FUZZ_S seconds (needs clang)
FUZZ_S ?= 60
fuzz:
	drivers/fuzz/run.sh $(FUZZ_S)

## bench: benchmarks (figures as ratios against a named peer or the real-time budget)
bench: $(STAMP)
	$(PY) tools/bench.py

## bundle: a signed update bundle for BOARD (qemu-x86_64 or rpi4) from ROOTFS=<Buildroot rootfs.ext4>,
## or a development stand-in; signed with the key in KEYS (default build/keys, made on first use, never committed)
bundle: $(STAMP)
	$(PY) tools/make_bundle.py --board $(BOARD) $(if $(ROOTFS),--rootfs $(ROOTFS)) $(if $(KEYS),--key-dir $(KEYS))

clean:
	rm -rf build firmware/callbox/*.so firmware/*.egg-info *.egg-info .pytest_cache
	find . -name __pycache__ -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) $(VAR)
