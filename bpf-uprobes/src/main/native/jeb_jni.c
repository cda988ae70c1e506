// SPDX-License-Identifier: Apache-2.0
// The JNI binding of libbpf-bundled.so: the native methods of dev.jvmebpf.bpf.libbpf.LibbpfNative.
//
// Each method only converts between Java and C (arrays copied in and out, strings as modified
// UTF-8, pointers as Java longs) and calls libbpf or the shim (jeb_shim.c). Calls that create a
// libbpf object (a BPF object, a link, a ring reader) return its address, or the negative errno:
// user-space addresses are positive longs. Nothing here throws into Java, except OutOfMemoryError
// when the JVM cannot make a callback's array; callbacks' own exceptions are cleared.
//
// Why JNI and not a generic FFI library: measured on this project's machines, loading jnr-ffi and
// binding this surface cost about 0.5 CPU-seconds and 30 MB of the host's memory at every start
// (runtime code generation, its own native stub); this file costs nothing measurable.
#include <jni.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "jeb_shim.h"

#define JNI_FN(name) Java_dev_jvmebpf_bpf_libbpf_LibbpfNative_##name

static JavaVM *jvm;
static jclass native_class;	/* LibbpfNative, a global reference */
static jmethodID on_log;	/* static void onLog(int, byte[]) */
static jmethodID on_sample;	/* int deliver(byte[]) of the ring's Java reader */

JNIEXPORT jint JNICALL JNI_OnLoad(JavaVM *vm, void *reserved)
{
	JNIEnv *env;

	(void)reserved;
	if ((*vm)->GetEnv(vm, (void **)&env, JNI_VERSION_1_8) != JNI_OK)
		return JNI_ERR;
	jvm = vm;
	return JNI_VERSION_1_8;
}

/* The calling thread's JNIEnv, or NULL when it is not a Java thread (then nothing is called). */
static JNIEnv *current_env(void)
{
	JNIEnv *env = NULL;

	if (!jvm || (*jvm)->GetEnv(jvm, (void **)&env, JNI_VERSION_1_8) != JNI_OK)
		return NULL;
	return env;
}

static jbyteArray bytes_of(JNIEnv *env, const void *data, size_t size)
{
	jbyteArray array = (*env)->NewByteArray(env, (jsize)size);

	if (array)
		(*env)->SetByteArrayRegion(env, array, 0, (jsize)size, (const jbyte *)data);
	return array;
}

/* A copy of a Java byte array in C memory (free it); NULL for a null array or without memory. */
static void *copy_in(JNIEnv *env, jbyteArray array, jsize *length)
{
	jsize n;
	void *copy;

	if (!array)
		return NULL;
	n = (*env)->GetArrayLength(env, array);
	copy = malloc(n > 0 ? (size_t)n : 1);
	if (copy)
		(*env)->GetByteArrayRegion(env, array, 0, n, copy);
	if (length)
		*length = n;
	return copy;
}

/* Strings as modified UTF-8, released by release_string. NULL for null. */
static const char *chars_of(JNIEnv *env, jstring s)
{
	return s ? (*env)->GetStringUTFChars(env, s, NULL) : NULL;
}

static void release_string(JNIEnv *env, jstring s, const char *chars)
{
	if (s && chars)
		(*env)->ReleaseStringUTFChars(env, s, chars);
}

/*
 * Messages that arrive while the calling thread must not run Java code (its signals blocked
 * around a load, see objectLoad): kept here as "level byte, text, NUL" and handed over after.
 */
static __thread char *deferred;
static __thread size_t deferred_len, deferred_cap;
static __thread int deferring;

static void defer_log(int level, const char *message)
{
	size_t n = strlen(message) + 2;

	if (deferred_len + n > deferred_cap) {
		size_t cap = deferred_cap ? deferred_cap * 2 : 4096;
		char *grown;

		while (cap < deferred_len + n)
			cap *= 2;
		grown = realloc(deferred, cap);
		if (!grown)
			return; /* a message lost, never the load */
		deferred = grown;
		deferred_cap = cap;
	}
	deferred[deferred_len] = (char)level;
	memcpy(deferred + deferred_len + 1, message, n - 1);
	deferred_len += n;
}

static void log_to_java(int level, const char *message);

/* Hands the deferred messages over, in order, and forgets them. */
static void flush_deferred(void)
{
	size_t at = 0;

	while (at < deferred_len) {
		int level = deferred[at];
		const char *text = deferred + at + 1;

		log_to_java(level, text);
		at += strlen(text) + 2;
	}
	free(deferred);
	deferred = NULL;
	deferred_len = deferred_cap = 0;
}

/* libbpf's messages, already formatted by the shim, to LibbpfNative.onLog on the calling thread. */
static void log_to_java(int level, const char *message)
{
	JNIEnv *env;
	jbyteArray bytes;

	if (deferring) {
		defer_log(level, message);
		return;
	}
	env = current_env();
	if (!env || !on_log)
		return;
	bytes = bytes_of(env, message, strlen(message));
	if (bytes) {
		(*env)->CallStaticVoidMethod(env, native_class, on_log, (jint)level, bytes);
		(*env)->DeleteLocalRef(env, bytes);
	}
	(*env)->ExceptionClear(env);
}

JNIEXPORT jint JNICALL JNI_FN(init)(JNIEnv *env, jclass cls)
{
	native_class = (*env)->NewGlobalRef(env, cls);
	if (!native_class)
		return -ENOMEM;
	on_log = (*env)->GetStaticMethodID(env, cls, "onLog", "(I[B)V");
	if (!on_log)
		return -EINVAL;
	jeb_set_log(log_to_java);
	return 0;
}

JNIEXPORT void JNICALL JNI_FN(setLogLevel)(JNIEnv *env, jclass cls, jint max_level)
{
	(void)env;
	(void)cls;
	jeb_set_log_level(max_level);
}

JNIEXPORT void JNICALL JNI_FN(shareKernelBtf)(JNIEnv *env, jclass cls, jboolean share)
{
	(void)env;
	(void)cls;
	jeb_share_vmlinux_btf(share);
}

/* A ring reader: libbpf's, and its Java side for the duration of one consume. */
struct ring_context {
	struct ring_buffer *rb;
	jobject reader;		/* global reference to the Java RingBuffer */
	JNIEnv *env;		/* set by consume, on the thread that consumes */
};

static int sample_to_java(void *ctx, void *data, size_t size)
{
	struct ring_context *ring = ctx;
	JNIEnv *env = ring->env;
	jbyteArray record;
	jint rc;

	if (!env)
		return 0;
	record = bytes_of(env, data, size);
	if (!record) {
		(*env)->ExceptionClear(env);
		return -ENOMEM; /* stops this consume; the record is read again next time */
	}
	rc = (*env)->CallIntMethod(env, ring->reader, on_sample, record);
	(*env)->DeleteLocalRef(env, record);
	if ((*env)->ExceptionCheck(env)) {
		(*env)->ExceptionClear(env);
		return 0;
	}
	return rc;
}

JNIEXPORT jlong JNICALL JNI_FN(ringOpen)(JNIEnv *env, jclass cls, jint map_fd, jobject reader)
{
	struct ring_context *ring;
	struct ring_buffer *rb;
	jclass reader_class;
	int err;

	(void)cls;
	reader_class = (*env)->GetObjectClass(env, reader);
	on_sample = (*env)->GetMethodID(env, reader_class, "deliver", "([B)I");
	if (!on_sample)
		return -EINVAL;
	ring = calloc(1, sizeof(*ring));
	if (!ring)
		return -ENOMEM;
	ring->reader = (*env)->NewGlobalRef(env, reader);
	rb = ring_buffer__new(map_fd, sample_to_java, ring, NULL);
	err = errno;
	if (!rb) {
		(*env)->DeleteGlobalRef(env, ring->reader);
		free(ring);
		return -(err ? err : EINVAL);
	}
	ring->rb = rb;
	return (jlong)(uintptr_t)ring;
}

JNIEXPORT jint JNICALL JNI_FN(ringConsume)(JNIEnv *env, jclass cls, jlong handle)
{
	struct ring_context *ring = (struct ring_context *)(uintptr_t)handle;
	int rc;

	(void)cls;
	ring->env = env;
	rc = ring_buffer__consume(ring->rb);
	ring->env = NULL;
	return rc;
}

JNIEXPORT jint JNICALL JNI_FN(ringWait)(JNIEnv *env, jclass cls, jlong handle, jint wake_fd, jint timeout_ms)
{
	struct ring_context *ring = (struct ring_context *)(uintptr_t)handle;

	(void)env;
	(void)cls;
	return jeb_ring_wait(ring->rb, wake_fd, timeout_ms);
}

JNIEXPORT void JNICALL JNI_FN(ringFree)(JNIEnv *env, jclass cls, jlong handle)
{
	struct ring_context *ring = (struct ring_context *)(uintptr_t)handle;

	(void)cls;
	ring_buffer__free(ring->rb);
	(*env)->DeleteGlobalRef(env, ring->reader);
	free(ring);
}

JNIEXPORT jint JNICALL JNI_FN(ringCreate)(JNIEnv *env, jclass cls, jint bytes)
{
	(void)env;
	(void)cls;
	return jeb_ring_create((unsigned int)bytes);
}

JNIEXPORT jint JNICALL JNI_FN(eventfd)(JNIEnv *env, jclass cls)
{
	(void)env;
	(void)cls;
	return jeb_eventfd();
}

JNIEXPORT jint JNICALL JNI_FN(eventfdSignal)(JNIEnv *env, jclass cls, jint fd)
{
	(void)env;
	(void)cls;
	return jeb_eventfd_signal(fd);
}

JNIEXPORT jint JNICALL JNI_FN(close)(JNIEnv *env, jclass cls, jint fd)
{
	(void)env;
	(void)cls;
	return jeb_close(fd);
}

JNIEXPORT jint JNICALL JNI_FN(exitHandoff)(JNIEnv *env, jclass cls)
{
	(void)env;
	(void)cls;
	return jeb_exit_handoff();
}

JNIEXPORT jint JNICALL JNI_FN(arrayCreate)(JNIEnv *env, jclass cls, jstring name, jint value_size, jint entries)
{
	const char *n = chars_of(env, name);
	int rc;

	(void)cls;
	rc = jeb_array_create(n, (unsigned int)value_size, (unsigned int)entries);
	release_string(env, name, n);
	return rc;
}

JNIEXPORT jbyteArray JNICALL JNI_FN(tlsObjects)(JNIEnv *env, jclass cls)
{
	char out[16 * 1024]; /* about 100 paths */
	long used;

	(void)cls;
	used = jeb_tls_objects(out, sizeof(out));
	return bytes_of(env, out, used > 0 ? (size_t)used : 0);
}

JNIEXPORT jlong JNICALL JNI_FN(tlsThreadPointerOffset)(JNIEnv *env, jclass cls, jstring path, jstring symbol)
{
	const char *p = chars_of(env, path), *s = chars_of(env, symbol);
	long offset = p && s ? jeb_tls_tp_offset(p, s) : 0;

	(void)cls;
	release_string(env, path, p);
	release_string(env, symbol, s);
	return offset;
}

JNIEXPORT jint JNICALL JNI_FN(elfSymbols)(JNIEnv *env, jclass cls, jstring path, jint type, jboolean defined_only,
					  jobjectArray names, jlongArray out, jbooleanArray found)
{
	const char *chars[64];
	jstring strings[64];
	jsize count = (*env)->GetArrayLength(env, names);
	const char *p;
	jlong *o;
	jboolean *f;
	int rc = -EINVAL, n = 0;

	(void)cls;
	if (count > 64 || (*env)->GetArrayLength(env, out) < 4 * count || (*env)->GetArrayLength(env, found) < count)
		return -EINVAL;
	p = chars_of(env, path);
	for (; p && n < count; n++) {
		strings[n] = (jstring)(*env)->GetObjectArrayElement(env, names, n);
		chars[n] = chars_of(env, strings[n]);
		if (!chars[n])
			break;
	}
	if (p && n == count) {
		o = (*env)->GetLongArrayElements(env, out, NULL);
		f = (*env)->GetBooleanArrayElements(env, found, NULL);
		if (o && f)
			rc = jeb_elf_symbols(p, (unsigned int)type, defined_only, chars, count,
					     (unsigned long long *)o, (unsigned char *)f);
		if (f)
			(*env)->ReleaseBooleanArrayElements(env, found, f, 0);
		if (o)
			(*env)->ReleaseLongArrayElements(env, out, o, 0);
	}
	for (int i = 0; i < n && i < count; i++) {
		release_string(env, strings[i], chars[i]);
		(*env)->DeleteLocalRef(env, strings[i]);
	}
	release_string(env, path, p);
	return rc;
}

JNIEXPORT jint JNICALL JNI_FN(threadContextOpen)(JNIEnv *env, jclass cls, jstring path)
{
	const char *p = chars_of(env, path);
	int rc = p ? jeb_thread_ctx_open(p) : -EINVAL;

	(void)cls;
	release_string(env, path, p);
	return rc;
}

/* record: a direct buffer (its address is bound) or null (unbinds). */
JNIEXPORT jint JNICALL JNI_FN(threadContextBind)(JNIEnv *env, jclass cls, jobject record)
{
	void *address = record ? (*env)->GetDirectBufferAddress(env, record) : NULL;

	(void)cls;
	if (record && !address)
		return -EINVAL;
	return jeb_thread_ctx_bind(address);
}

JNIEXPORT jlong JNICALL JNI_FN(threadContextCurrent)(JNIEnv *env, jclass cls)
{
	(void)env;
	(void)cls;
	return (jlong)(uintptr_t)jeb_thread_ctx_current();
}

/* out: the record's first out.length bytes; 0 copied, 1 no record, -ENOENT no such library or symbol. */
JNIEXPORT jint JNICALL JNI_FN(threadContextRead)(JNIEnv *env, jclass cls, jstring library, jbyteArray out)
{
	const char *p = chars_of(env, library);
	jsize n = (*env)->GetArrayLength(env, out);
	char record[64];
	int rc;

	(void)cls;
	if (!p || n <= 0 || (size_t)n > sizeof(record)) {
		release_string(env, library, p);
		return -EINVAL;
	}
	rc = jeb_thread_ctx_read(p, record, (size_t)n);
	release_string(env, library, p);
	if (rc == 0)
		(*env)->SetByteArrayRegion(env, out, 0, n, (const jbyte *)record);
	return rc;
}

/* Up to out.length ports into out; the count, or the negative errno. */
JNIEXPORT jint JNICALL JNI_FN(listeningTcpPorts)(JNIEnv *env, jclass cls, jintArray out)
{
	jsize n = (*env)->GetArrayLength(env, out);
	jint *ports = malloc((n > 0 ? (size_t)n : 1) * sizeof(*ports));
	int count;

	(void)cls;
	if (!ports)
		return -ENOMEM;
	count = jeb_listening_tcp_ports((int *)ports, n);
	if (count > 0)
		(*env)->SetIntArrayRegion(env, out, 0, count, ports);
	free(ports);
	return count;
}

JNIEXPORT jlong JNICALL JNI_FN(loadedObjects)(JNIEnv *env, jclass cls)
{
	(void)env;
	(void)cls;
	return jeb_loaded_objects();
}

/* The mapping's address, its length in length[0]; or the negative errno. */
JNIEXPORT jlong JNICALL JNI_FN(processContextPublish)(JNIEnv *env, jclass cls, jbyteArray payload,
						     jlong published_at_ns, jlongArray length)
{
	jsize size = 0;
	void *data = copy_in(env, payload, &size);
	unsigned long len = 0;
	long address;
	jlong out;

	(void)cls;
	if (!data)
		return -ENOMEM;
	address = jeb_process_context_publish(data, (unsigned int)size, (unsigned long long)published_at_ns, &len);
	free(data);
	out = (jlong)len;
	(*env)->SetLongArrayRegion(env, length, 0, 1, &out);
	return address;
}

JNIEXPORT jint JNICALL JNI_FN(processContextDrop)(JNIEnv *env, jclass cls, jlong address, jlong length)
{
	(void)env;
	(void)cls;
	return jeb_process_context_drop((void *)(uintptr_t)address, (unsigned long)length);
}

/* The object's address, or the negative errno. */
JNIEXPORT jlong JNICALL JNI_FN(open)(JNIEnv *env, jclass cls, jbyteArray object, jstring name)
{
	jsize size = 0;
	void *data = copy_in(env, object, &size);
	const char *n = chars_of(env, name);
	struct bpf_object *obj = NULL;
	int rc;

	(void)cls;
	/* libbpf copies the object's bytes: the copy can go right after. */
	rc = data ? jeb_open(data, (size_t)size, n, &obj) : -ENOMEM;
	free(data);
	release_string(env, name, n);
	return rc == 0 ? (jlong)(uintptr_t)obj : rc;
}

JNIEXPORT jint JNICALL JNI_FN(setRodata)(JNIEnv *env, jclass cls, jlong object, jbyteArray image)
{
	jsize size = 0;
	void *data = copy_in(env, image, &size);
	int rc;

	(void)cls;
	rc = data ? jeb_set_rodata((struct bpf_object *)(uintptr_t)object, data, (size_t)size) : -ENOMEM;
	free(data);
	return rc;
}

JNIEXPORT jlong JNICALL JNI_FN(rodataSize)(JNIEnv *env, jclass cls, jlong object)
{
	(void)env;
	(void)cls;
	return jeb_rodata_size((struct bpf_object *)(uintptr_t)object);
}

/*
 * The verifier gives up with EAGAIN whenever a signal is pending for the loading thread, and
 * libbpf retries only a few times: in a process whose threads get frequent signals (a sampling
 * profiler's SIGPROF every millisecond, seen with async-profiler) no program of ours could load.
 * The asynchronous signals stay pending until the load is done. The synchronous ones (a fault)
 * are never blocked, and no Java code runs meanwhile: the JVM's own faults (compiled code's
 * safepoint polls, implicit null checks) are SIGSEGVs it must handle, and a blocked one kills the
 * process. So libbpf's messages during the load are kept and handed to Java after it.
 */
JNIEXPORT jint JNICALL JNI_FN(objectLoad)(JNIEnv *env, jclass cls, jlong object)
{
	static const int synchronous[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGSYS };
	sigset_t async, before;
	int rc, blocked;

	(void)env;
	(void)cls;
	sigfillset(&async);
	for (size_t i = 0; i < sizeof(synchronous) / sizeof(synchronous[0]); i++)
		sigdelset(&async, synchronous[i]);
	deferring = 1;
	blocked = pthread_sigmask(SIG_BLOCK, &async, &before) == 0;
	rc = bpf_object__load((struct bpf_object *)(uintptr_t)object);
	if (blocked)
		pthread_sigmask(SIG_SETMASK, &before, NULL);
	deferring = 0;
	flush_deferred();
	return rc < 0 ? rc : (rc > 0 ? -rc : 0);
}

JNIEXPORT void JNICALL JNI_FN(objectClose)(JNIEnv *env, jclass cls, jlong object)
{
	(void)env;
	(void)cls;
	bpf_object__close((struct bpf_object *)(uintptr_t)object);
}

/* 0 when absent. */
JNIEXPORT jlong JNICALL JNI_FN(findProgram)(JNIEnv *env, jclass cls, jlong object, jstring name)
{
	const char *n = chars_of(env, name);
	struct bpf_program *prog = n ? bpf_object__find_program_by_name((struct bpf_object *)(uintptr_t)object, n)
				     : NULL;

	(void)cls;
	release_string(env, name, n);
	return (jlong)(uintptr_t)prog;
}

/* 0 when absent. */
JNIEXPORT jlong JNICALL JNI_FN(findMap)(JNIEnv *env, jclass cls, jlong object, jstring name)
{
	const char *n = chars_of(env, name);
	struct bpf_map *map = n ? bpf_object__find_map_by_name((struct bpf_object *)(uintptr_t)object, n) : NULL;

	(void)cls;
	release_string(env, name, n);
	return (jlong)(uintptr_t)map;
}

JNIEXPORT jint JNICALL JNI_FN(programFd)(JNIEnv *env, jclass cls, jlong program)
{
	(void)env;
	(void)cls;
	return bpf_program__fd((struct bpf_program *)(uintptr_t)program);
}

JNIEXPORT jint JNICALL JNI_FN(useUprobeMulti)(JNIEnv *env, jclass cls, jlong program)
{
	(void)env;
	(void)cls;
	return jeb_use_uprobe_multi((struct bpf_program *)(uintptr_t)program);
}

/* what: 0 fd, 1 type, 2 key size, 3 value size, 4 max entries. */
JNIEXPORT jint JNICALL JNI_FN(mapInfo)(JNIEnv *env, jclass cls, jlong map, jint what)
{
	const struct bpf_map *m = (const struct bpf_map *)(uintptr_t)map;

	(void)env;
	(void)cls;
	switch (what) {
	case 0:
		return bpf_map__fd(m);
	case 1:
		return (jint)bpf_map__type(m);
	case 2:
		return (jint)bpf_map__key_size(m);
	case 3:
		return (jint)bpf_map__value_size(m);
	case 4:
		return (jint)bpf_map__max_entries(m);
	default:
		return -EINVAL;
	}
}

JNIEXPORT jint JNICALL JNI_FN(mapSetMaxEntries)(JNIEnv *env, jclass cls, jlong map, jint entries)
{
	(void)env;
	(void)cls;
	return bpf_map__set_max_entries((struct bpf_map *)(uintptr_t)map, (__u32)entries);
}

JNIEXPORT jint JNICALL JNI_FN(mapReuseFd)(JNIEnv *env, jclass cls, jlong map, jint fd)
{
	(void)env;
	(void)cls;
	return bpf_map__reuse_fd((struct bpf_map *)(uintptr_t)map, fd);
}

/* The link's address, or the negative errno. */
static jlong link_or_error(int rc, struct bpf_link *link)
{
	return rc == 0 ? (jlong)(uintptr_t)link : rc;
}

JNIEXPORT jlong JNICALL JNI_FN(attachUsdt)(JNIEnv *env, jclass cls, jlong program, jint pid, jstring binary,
					   jstring provider, jstring name)
{
	const char *b = chars_of(env, binary), *p = chars_of(env, provider), *n = chars_of(env, name);
	struct bpf_link *link = NULL;
	int rc = b && p && n ? jeb_attach_usdt((struct bpf_program *)(uintptr_t)program, pid, b, p, n, &link)
			     : -EINVAL;

	(void)cls;
	release_string(env, binary, b);
	release_string(env, provider, p);
	release_string(env, name, n);
	return link_or_error(rc, link);
}

JNIEXPORT jlong JNICALL JNI_FN(attachUprobe)(JNIEnv *env, jclass cls, jlong program, jint pid, jstring binary,
					     jstring function, jlong offset, jboolean retprobe, jlong cookie)
{
	const char *b = chars_of(env, binary), *f = chars_of(env, function);
	struct bpf_link *link = NULL;
	int rc = b ? jeb_attach_uprobe((struct bpf_program *)(uintptr_t)program, pid, b, f, (size_t)offset,
				       retprobe ? 1 : 0, (unsigned long long)cookie, &link)
		   : -EINVAL;

	(void)cls;
	release_string(env, binary, b);
	release_string(env, function, f);
	return link_or_error(rc, link);
}

JNIEXPORT jlong JNICALL JNI_FN(attachUprobeMulti)(JNIEnv *env, jclass cls, jlong program, jint pid,
						  jstring binary, jstring function, jlongArray offsets,
						  jlongArray cookies, jboolean retprobe)
{
	const char *b = chars_of(env, binary), *f = chars_of(env, function);
	jsize count = offsets ? (*env)->GetArrayLength(env, offsets) : 0;
	unsigned long *o = calloc(count ? (size_t)count : 1, sizeof(*o));
	unsigned long long *c = calloc(count ? (size_t)count : 1, sizeof(*c));
	struct bpf_link *link = NULL;
	int rc = -ENOMEM;

	(void)cls;
	if (o && c && b) {
		for (jsize i = 0; i < count; i++) {
			jlong v;

			(*env)->GetLongArrayRegion(env, offsets, i, 1, &v);
			o[i] = (unsigned long)v;
			(*env)->GetLongArrayRegion(env, cookies, i, 1, &v);
			c[i] = (unsigned long long)v;
		}
		rc = jeb_attach_uprobe_multi((struct bpf_program *)(uintptr_t)program, pid, b, f, o, c,
					     (size_t)count, retprobe ? 1 : 0, &link);
	}
	free(o);
	free(c);
	release_string(env, binary, b);
	release_string(env, function, f);
	return link_or_error(rc, link);
}

JNIEXPORT jint JNICALL JNI_FN(linkDestroy)(JNIEnv *env, jclass cls, jlong link)
{
	(void)env;
	(void)cls;
	return bpf_link__destroy((struct bpf_link *)(uintptr_t)link);
}

/* The program's return value in result[0]. */
JNIEXPORT jint JNICALL JNI_FN(testRun)(JNIEnv *env, jclass cls, jint prog_fd, jbyteArray context, jintArray result)
{
	jsize size = 0;
	void *data = copy_in(env, context, &size);
	int retval = 0, rc;

	(void)cls;
	rc = data ? jeb_prog_test_run(prog_fd, data, (unsigned int)size, &retval) : -ENOMEM;
	free(data);
	if (rc == 0) {
		jint out = retval;

		(*env)->SetIntArrayRegion(env, result, 0, 1, &out);
	}
	return rc;
}

/*
 * Map element calls, with the kernel's errno. Values are copied through C memory: a per-CPU
 * histogram value is a few kilobytes per CPU, too much for the stack.
 */
JNIEXPORT jint JNICALL JNI_FN(mapLookup)(JNIEnv *env, jclass cls, jint fd, jbyteArray key, jbyteArray value)
{
	void *k = copy_in(env, key, NULL);
	jsize n = (*env)->GetArrayLength(env, value);
	void *v = malloc(n > 0 ? (size_t)n : 1);
	int rc = -ENOMEM;

	(void)cls;
	if (k && v) {
		rc = bpf_map_lookup_elem(fd, k, v) == 0 ? 0 : -errno;
		if (rc == 0)
			(*env)->SetByteArrayRegion(env, value, 0, n, v);
	}
	free(k);
	free(v);
	return rc;
}

JNIEXPORT jint JNICALL JNI_FN(mapUpdate)(JNIEnv *env, jclass cls, jint fd, jbyteArray key, jbyteArray value,
					 jlong flags)
{
	void *k = copy_in(env, key, NULL), *v = copy_in(env, value, NULL);
	int rc = -ENOMEM;

	(void)cls;
	if (k && v)
		rc = bpf_map_update_elem(fd, k, v, (__u64)flags) == 0 ? 0 : -errno;
	free(k);
	free(v);
	return rc;
}

JNIEXPORT jint JNICALL JNI_FN(mapDelete)(JNIEnv *env, jclass cls, jint fd, jbyteArray key)
{
	void *k = copy_in(env, key, NULL);
	int rc = -ENOMEM;

	(void)cls;
	if (k)
		rc = bpf_map_delete_elem(fd, k) == 0 ? 0 : -errno;
	free(k);
	return rc;
}

/* key null: the first key. */
JNIEXPORT jint JNICALL JNI_FN(mapNextKey)(JNIEnv *env, jclass cls, jint fd, jbyteArray key, jbyteArray next)
{
	void *k = copy_in(env, key, NULL);
	jsize n = (*env)->GetArrayLength(env, next);
	void *out = malloc(n > 0 ? (size_t)n : 1);
	int rc = -ENOMEM;

	(void)cls;
	if (out && (k || !key)) {
		rc = bpf_map_get_next_key(fd, k, out) == 0 ? 0 : -errno;
		if (rc == 0)
			(*env)->SetByteArrayRegion(env, next, 0, n, out);
	}
	free(k);
	free(out);
	return rc;
}

JNIEXPORT jint JNICALL JNI_FN(possibleCpus)(JNIEnv *env, jclass cls)
{
	(void)env;
	(void)cls;
	return libbpf_num_possible_cpus();
}

JNIEXPORT jint JNICALL JNI_FN(probeProgLoad)(JNIEnv *env, jclass cls, jint type)
{
	(void)env;
	(void)cls;
	return jeb_probe_prog_load(type);
}

JNIEXPORT jint JNICALL JNI_FN(probeUprobeMulti)(JNIEnv *env, jclass cls)
{
	(void)env;
	(void)cls;
	return jeb_probe_uprobe_multi();
}

JNIEXPORT jint JNICALL JNI_FN(kill)(JNIEnv *env, jclass cls, jint pid, jint sig)
{
	(void)env;
	(void)cls;
	return jeb_kill(pid, sig);
}

/* libbpf_strerror's text, as bytes (empty when it has none). */
JNIEXPORT jbyteArray JNICALL JNI_FN(strerror)(JNIEnv *env, jclass cls, jint error)
{
	char text[256] = "";

	(void)cls;
	if (jeb_strerror(error, text, sizeof(text)) != 0)
		text[0] = 0;
	text[sizeof(text) - 1] = 0;
	return bytes_of(env, text, strlen(text));
}

JNIEXPORT jlong JNICALL JNI_FN(errnoThreadPointerOffset)(JNIEnv *env, jclass cls)
{
	(void)env;
	(void)cls;
	return jeb_errno_tp_offset();
}
