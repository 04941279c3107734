# Quercus: the two commands a person needs are `make up` and `make test` (see README.md).
SWIFT ?= swift
TARGET ?= fuzz-wire-reader
SECONDS ?= 600

.PHONY: up test bench fuzz format peers build help

help:
	@echo "make up      build everything and run quercus up (every service on loopback)"
	@echo "make test    install missing peer programs, then format check, build, unit and interop"
	@echo "             tests, a short run of every fuzz target and every benchmark in smoke mode"
	@echo "make bench   the side-by-side benchmarks (ours against the peer, with ratios)"
	@echo "make fuzz    one fuzz target for a while: make fuzz TARGET=fuzz-wire-reader SECONDS=600"
	@echo "make format  reformat the sources with swift format"

up: build
	.build/debug/quercus up

build:
	@scripts/require-toolchain
	$(SWIFT) build

test:
	@scripts/test

bench:
	@scripts/require-toolchain
	Benchmarks/run

fuzz:
	@scripts/require-toolchain
	scripts/fuzz run $(TARGET) $(SECONDS)

format:
	$(SWIFT) format format -i -r Package.swift Sources Tests Benchmarks Plugins Fuzz/Package.swift Fuzz/Sources

peers:
	scripts/ensure-peers
