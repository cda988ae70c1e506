// SPDX-License-Identifier: GPL-2.0 OR Apache-2.0
/*
 * Test-only program: runs the kernel-side bucket searches of common.bpf.h on a batch of values,
 * so a test can compare the kernel's choice with the OpenTelemetry SDK's indexer, and counts
 * them into one shared histogram with hist_add, as the probe families do. Driven by
 * BPF_PROG_TEST_RUN (SEC("syscall")); never shipped in the agent.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "hist.h"
#include "common.bpf.h"

#define HIST_TEST_BATCH 8192

char LICENSE[] SEC("license") = "Dual BSD/GPL";

const volatile struct hist_layout layout = {};

HIST_BUCKET_SEARCH(layout_bucket, layout)

struct hist_test_values {
	__u64 value[HIST_TEST_BATCH];
};

struct hist_test_buckets {
	__u32 bucket[HIST_TEST_BATCH];		/* hist_bucket's */
	__u32 near[HIST_TEST_BATCH];		/* hist_bucket_near's, guessing the previous value's */
	__u32 guess;				/* in the map: a guess on the stack would make the
						 * verifier follow every value it takes */
};

struct hist_test_args {
	__u32 count;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct hist_test_values);
} hist_test_values SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct hist_test_buckets);
} hist_test_buckets SEC(".maps");

/* Every value of every batch run so far, counted by hist_add. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct hist);
} hist_test_hist SEC(".maps");

struct batch {
	struct hist_test_values *values;
	struct hist_test_buckets *buckets;
	struct hist *hist;
};

static long bucket_of(__u32 i, struct batch *batch)
{
	if (i >= HIST_TEST_BATCH)
		return 1;
	batch->buckets->bucket[i] = hist_bucket(&layout, batch->values->value[i]);
	return 0;
}

/* A pass of its own: one search per callback keeps the verifier's paths few. */
static long near_bucket_of(__u32 i, struct batch *batch)
{
	if (i >= HIST_TEST_BATCH)
		return 1;
	batch->buckets->near[i] = hist_bucket_near(&layout, batch->values->value[i], &batch->buckets->guess);
	return 0;
}

static long count_of(__u32 i, struct batch *batch)
{
	if (i >= HIST_TEST_BATCH)
		return 1;
	hist_add(batch->hist, layout_bucket, batch->values->value[i]);
	return 0;
}

SEC("syscall")
int hist_test_run(struct hist_test_args *args)
{
	struct batch batch;
	__u32 key = 0;

	batch.values = bpf_map_lookup_elem(&hist_test_values, &key);
	batch.buckets = bpf_map_lookup_elem(&hist_test_buckets, &key);
	batch.hist = bpf_map_lookup_elem(&hist_test_hist, &key);
	if (!batch.values || !batch.buckets || !batch.hist)
		return -1;
	batch.buckets->guess = 0;
	if (bpf_loop(args->count, near_bucket_of, &batch, 0) != args->count)
		return -1;
	if (bpf_loop(args->count, count_of, &batch, 0) != args->count)
		return -1;
	return bpf_loop(args->count, bucket_of, &batch, 0);
}
