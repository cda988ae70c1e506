# The two commands of the README: `make demo` (the main job) and `make test` (what CI runs).
# Both install what they need on a fresh Debian 12 machine first (apt packages as root, Maven
# dependencies through Maven itself).

SHELL := /bin/bash
MVN ?= mvn -B -ntp
AGENT_JAR := agent/target/jvm-ebpf-agent.jar

# command -> Debian package that provides it
TOOLS := java:openjdk-17-jdk-headless javac:openjdk-17-jdk-headless mvn:maven gcc:gcc make:make \
         clang:clang llvm-strip:llvm bpftool:bpftool dpkg-source:dpkg-dev readelf:binutils \
         runuser:util-linux curl:curl patch:patch

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

# Overhead benchmarks (not tests), as root. The default, the suite, runs real workloads side by side
# with the OpenTelemetry Java agent and JFR and writes benchmarks/RESULTS.md and results.csv; it
# needs wrk, GNU time and a JDK 18+ with src.zip (BENCH_JDK). Others: allocation, socket.
BENCH ?= suite
BENCH_JDK ?= /usr/lib/jvm/temurin-25-jdk-amd64
OTEL_JAVAAGENT_VERSION := 2.31.0
bench: build
	@missing=""; \
	command -v wrk >/dev/null 2>&1 || missing="$$missing wrk"; \
	[ -x /usr/bin/time ] || missing="$$missing time"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" != 0 ]; then echo "make bench: missing packages:$$missing (install them as root)" >&2; exit 1; fi; \
	  echo "make bench: installing$$missing"; \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	fi
	$(MVN) -q -N dependency:copy -Dartifact=io.opentelemetry.javaagent:opentelemetry-javaagent:$(OTEL_JAVAAGENT_VERSION) \
	  -DoutputDirectory=benchmarks/target/tools -Dmdep.stripVersion=true
	java -Dbench.jdk=$(BENCH_JDK) -cp benchmarks/target/classes dev.jvmebpf.bench.Benchmarks $(BENCH)

clean:
	$(MVN) -q clean
