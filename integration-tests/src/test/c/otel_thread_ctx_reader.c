// SPDX-License-Identifier: Apache-2.0
/*
 * A test-only reader of OpenTelemetry Thread Context (OTEP 4947), written from the OTEP's text and
 * the ELF and x86-64 TLS ABI, nothing of the agent: it stops one thread of a process, finds the
 * libraries in /proc/<pid>/maps that export the TLS symbol otel_thread_ctx_v1 in .dynsym, finds
 * the thread's instance of it through the library's TLSDESC relocation (the descriptor's argument:
 * a thread pointer offset for static TLS, or a {module, offset} pair for dynamic TLS, then the
 * thread's dynamic thread vector), and prints the record it points at:
 *
 *   RECORD <library> valid=<n> flags=<n> trace=<32 hex> span=<16 hex>    or    RECORD <library> none
 *
 * Then, from OpenTelemetry Process Context (OTEP 4719) and its reading protocol, the process's
 * OTEL_CTX mapping: header (signature, version 2, non-zero publication time), payload, header
 * again, unchanged:
 *
 *   PROCESS_CONTEXT version=<n> published_at_ns=<n> payload=<hex>    or    PROCESS_CONTEXT none
 *
 * usage: otel_thread_ctx_reader PID TID
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

static int mem_fd;

static int peek(uint64_t address, void *out, size_t size)
{
	return pread(mem_fd, out, size, (off_t)address) == (ssize_t)size ? 0 : -1;
}

/* The symbol's TLS offset and the GOT slot of its TLSDESC relocation (relative to the load base). */
static int tls_symbol(const char *path, uint64_t *value, uint64_t *got)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	int found = -1;

	if (fd < 0 || fstat(fd, &st) < 0)
		return -1;
	unsigned char *elf = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (elf == MAP_FAILED)
		return -1;
	size_t size = (size_t)st.st_size;
	Elf64_Ehdr *eh = (Elf64_Ehdr *)elf;
	if (size < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64
	    || eh->e_shoff + (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr) > size) {
		munmap(elf, size);
		return -1; /* not a 64-bit ELF file: a data file mapped by the process */
	}
	Elf64_Shdr *sh = (Elf64_Shdr *)(elf + eh->e_shoff);
	for (int i = 0; i < eh->e_shnum; i++) {
		if (sh[i].sh_type != SHT_NOBITS && sh[i].sh_offset + sh[i].sh_size > size) {
			munmap(elf, size);
			return -1;
		}
	}
	Elf64_Sym *dynsym = NULL;
	const char *dynstr = NULL;
	size_t nsyms = 0;
	for (int i = 0; i < eh->e_shnum; i++) {
		if (sh[i].sh_type == SHT_DYNSYM) {
			dynsym = (Elf64_Sym *)(elf + sh[i].sh_offset);
			nsyms = sh[i].sh_size / sizeof(Elf64_Sym);
			dynstr = (const char *)(elf + sh[sh[i].sh_link].sh_offset);
		}
	}
	size_t index = 0;
	for (size_t i = 0; dynsym && i < nsyms; i++) {
		if (ELF64_ST_TYPE(dynsym[i].st_info) == STT_TLS && dynsym[i].st_shndx != SHN_UNDEF
		    && strcmp(dynstr + dynsym[i].st_name, "otel_thread_ctx_v1") == 0) {
			index = i;
			*value = dynsym[i].st_value;
		}
	}
	for (int i = 0; index && i < eh->e_shnum; i++) {
		if (sh[i].sh_type != SHT_RELA)
			continue;
		Elf64_Rela *rela = (Elf64_Rela *)(elf + sh[i].sh_offset);
		for (size_t r = 0; r < sh[i].sh_size / sizeof(Elf64_Rela); r++) {
			if (ELF64_R_TYPE(rela[r].r_info) != R_X86_64_TLSDESC)
				continue;
			/* Against the symbol, or (bound locally) against none with the symbol's offset as addend. */
			if (ELF64_R_SYM(rela[r].r_info) == index
			    || (ELF64_R_SYM(rela[r].r_info) == 0 && (uint64_t)rela[r].r_addend == *value)) {
				*got = rela[r].r_offset;
				found = 0;
			}
		}
	}
	munmap(elf, size);
	return found;
}

struct process_context_header {
	char signature[8];
	uint32_t version;
	uint32_t payload_size;
	uint64_t published_at_ns;
	uint64_t payload;
};

/* The OTEP 4719 reading protocol on the mappings listed in maps. */
static void print_process_context(FILE *maps)
{
	char line[8192];

	rewind(maps);
	while (fgets(line, sizeof(line), maps)) {
		unsigned long start, end;
		char name[4096] = "";
		if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %4095s", &start, &end, name) < 3
		    || (strncmp(name, "/memfd:OTEL_CTX", 15) != 0 && strncmp(name, "[anon_shmem:OTEL_CTX]", 21) != 0))
			continue;
		for (int attempt = 0; attempt < 100; attempt++) {
			struct process_context_header header, again;
			if (peek(start, &header, sizeof(header)) < 0 || memcmp(header.signature, "OTEL_CTX", 8) != 0
			    || header.version != 2 || header.payload_size > (1 << 20))
				break; /* not a context: the next mapping */
			if (header.published_at_ns == 0)
				continue; /* being updated */
			unsigned char *payload = malloc(header.payload_size + 1);
			if (!payload || peek(header.payload, payload, header.payload_size) < 0
			    || peek(start, &again, sizeof(again)) < 0 || again.published_at_ns != header.published_at_ns) {
				free(payload);
				continue;
			}
			printf("PROCESS_CONTEXT version=%u published_at_ns=%llu payload=", header.version,
			       (unsigned long long)header.published_at_ns);
			for (uint32_t i = 0; i < header.payload_size; i++)
				printf("%02x", payload[i]);
			printf("\n");
			free(payload);
			return;
		}
	}
	printf("PROCESS_CONTEXT none\n");
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s PID TID\n", argv[0]);
		return 2;
	}
	pid_t pid = atoi(argv[1]), tid = atoi(argv[2]);
	char path[4096], line[8192];
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	mem_fd = open(path, O_RDONLY);
	if (mem_fd < 0 || ptrace(PTRACE_SEIZE, tid, 0, 0) < 0 || ptrace(PTRACE_INTERRUPT, tid, 0, 0) < 0) {
		perror("attach");
		return 1;
	}
	int status;
	if (waitpid(tid, &status, __WALL) < 0) {
		perror("waitpid");
		return 1;
	}
	struct user_regs_struct regs;
	if (ptrace(PTRACE_GETREGS, tid, 0, &regs) < 0) {
		perror("getregs");
		return 1;
	}
	uint64_t tp = regs.fs_base;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	FILE *maps = fopen(path, "r");
	static char seen[1024][512];
	int nseen = 0, printed = 0;
	while (maps && fgets(line, sizeof(line), maps)) {
		unsigned long start, end, offset;
		char perms[8], file[4096] = "";
		/* The loader's private mapping of the file's start is its load base (a shared one is
		   someone reading the file, not a loaded library). */
		if (sscanf(line, "%lx-%lx %7s %lx %*s %*s %4095s", &start, &end, perms, &offset, file) < 4
		    || file[0] != '/' || offset != 0 || perms[3] != 'p')
			continue;
		int again = 0;
		for (int i = 0; i < nseen; i++)
			again |= strcmp(seen[i], file) == 0;
		if (again || nseen == 1024)
			continue;
		snprintf(seen[nseen++], sizeof(seen[0]), "%s", file);
		uint64_t value = 0, got = 0, desc[2], variable, record_address = 0;
		if (tls_symbol(file, &value, &got) < 0)
			continue;
		/* start is the load base: the mapping at file offset 0 of a shared object. */
		if (peek(start + got, desc, sizeof(desc)) < 0)
			continue;
		if ((int64_t)desc[1] < 0) {
			variable = tp + desc[1]; /* static TLS: the descriptor returns its offset from the thread pointer */
		} else {
			uint64_t index[2], dtv, block; /* dynamic: arg -> {module, offset, generation} */
			if (peek(desc[1], index, sizeof(index)) < 0 || peek(tp + 8, &dtv, 8) < 0
			    || peek(dtv + 16 * index[0], &block, 8) < 0 || block == 0 || block == UINT64_MAX)
				continue;
			variable = block + index[1];
		}
		if (peek(variable, &record_address, 8) < 0)
			continue;
		printed = 1;
		if (!record_address) {
			printf("RECORD %s none\n", file);
			continue;
		}
		unsigned char record[28];
		if (peek(record_address, record, sizeof(record)) < 0)
			continue;
		printf("RECORD %s valid=%u flags=%u trace=", file, record[24], record[25]);
		for (int i = 0; i < 16; i++)
			printf("%02x", record[i]);
		printf(" span=");
		for (int i = 16; i < 24; i++)
			printf("%02x", record[i]);
		printf("\n");
	}
	if (maps)
		print_process_context(maps);
	ptrace(PTRACE_DETACH, tid, 0, 0);
	return printed ? 0 : 1;
}
