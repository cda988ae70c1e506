# The two commands of the README: `make demo` (the main job) and `make test` (what CI runs).
# Both install what they need on a fresh Debian 12 machine first (apt packages as root, Maven
# dependencies through Maven itself).

SHELL := /bin/bash
MVN ?= mvn -B -ntp
AGENT_JAR := agent/target/jvm-ebpf-agent.jar

# command -> Debian package that provides it
TOOLS := java:openjdk-17-jdk-headless javac:openjdk-17-jdk-headless mvn:maven gcc:gcc make:make \
         clang:clang llvm-strip:llvm bpftool:bpftool dpkg-source:dpkg-dev readelf:binutils \
         runuser:util-linux curl:curl

.PHONY: all deps build test demo doctor bench clean

all: build

deps:
	@missing=""; \
	for pair in $(TOOLS); do \
	  command -v "$${pair%%:*}" >/dev/null 2>&1 || missing="$$missing $${pair#*:}"; \
	done; \
	[ -f /usr/share/keyrings/debian-archive-keyring.gpg ] || missing="$$missing debian-archive-keyring"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" != 0 ]; then \
	    echo "make deps: missing packages:$$missing; run 'make deps' as root (it uses apt-get)" >&2; exit 1; \
	  fi; \
	  echo "make deps: installing$$missing"; \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	fi

build: deps
	$(MVN) -q package -DskipTests

# Unit tests, real-BPF tests and the end-to-end tests (which need the packaged agent: verify).
test: deps
	$(MVN) verify

# A 20 s allocation-heavy workload with loopback traffic and lookups, histograms on the console.
demo: build
	java -javaagent:$(AGENT_JAR)=exporter=console,interval=10s -Xmx256m -jar $(AGENT_JAR) demo

doctor: build
	java -jar $(AGENT_JAR) doctor

# Overhead benchmarks (not tests): workloads without and with the agent, side by side. As root.
BENCH ?= allocation
bench: build
	java -cp benchmarks/target/classes dev.jvmebpf.bench.Benchmarks $(BENCH)

clean:
	$(MVN) -q clean
