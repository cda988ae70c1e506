package dev.jvmebpf.agent;

import dev.jvmebpf.bpf.events.SpanEvents;
import dev.jvmebpf.bpf.events.ThreadContextLocator;
import dev.jvmebpf.bpf.libbpf.BpfException;
import dev.jvmebpf.otel.KernelSpans;

/**
 * The daemon thread that reads the span ring buffer every {@link #READ_MILLIS} (events.h's
 * EVENTS_READ_MILLIS: the probes do not wake it, so that it never takes the CPU from a thread in
 * the middle of a GC pause; a ring more than half full does), and hands each event to
 * {@link KernelSpans}; every {@link #REFRESH_MILLIS} it measures the clock offset again. Until a
 * library exporting the OpenTelemetry thread context pointer of another writer is found (one the
 * application loads, which takes precedence over ours), it looks for one at start and then every
 * second (which costs nothing while the dynamic loader loads nothing new). {@link #close}
 * wakes it, lets it read what is left, and waits for it (bounded), so that the last spans reach
 * the SDK before its final flush; the thread closes the ring itself.
 */
final class SpanReader implements AutoCloseable {

  static final int READ_MILLIS = 200;
  static final int REFRESH_MILLIS = 10_000;
  static final int LOCATE_MILLIS = 1_000;
  private static final long JOIN_MILLIS = 1_000;

  private final SpanEvents events;
  private final KernelSpans spans;
  private final AgentLog log;
  private final Thread thread;
  private final Object lock = new Object();
  private volatile boolean stopping;
  private boolean ringClosed; // guarded by lock
  private boolean located; // another writer's is read; set before the thread starts, then the thread's
  private ThreadContextLocator.Location reading; // likewise

  private final Runnable everySecond;

  private SpanReader(SpanEvents events, KernelSpans spans, AgentLog log, Runnable everySecond) {
    this.everySecond = everySecond;
    this.events = events;
    this.spans = spans;
    this.log = log;
    this.thread = new Thread(() -> run(), "jvm-ebpf-agent-spans"); // a lambda: made a class at build time
    this.thread.setDaemon(true);
  }

  /**
   * Starts reading; the first look for a thread context writer happens before it returns.
   * {@code everySecond} (or null) runs on the reader's thread about once a second.
   */
  static SpanReader start(SpanEvents events, KernelSpans spans, AgentLog log, Runnable everySecond) {
    SpanReader reader = new SpanReader(events, spans, log, everySecond);
    reader.located = reader.locateThreadContext();
    reader.thread.start();
    return reader;
  }

  /**
   * Looks for thread context writers loaded since the last look; true once the programs read
   * another writer's (then nothing can change any more). Says in the debug log which one is read.
   */
  private boolean locateThreadContext() {
    try {
      ThreadContextLocator.Location found = events.locateThreadContext().orElse(null);
      if (found != null && !found.equals(reading)) {
        reading = found;
        log.debug("thread context (OTEP 4947) from " + found.library() + ", TLS module " + found.module()
            + (found.threadPointerOffset() != 0 ? ", static TLS at the thread pointer - " + found.threadPointerOffset()
                : ", dynamic TLS at offset " + found.offset()));
      }
      return events.foreignWriter();
    } catch (Exception e) {
      log.debug("looking for a thread context writer failed: " + e);
      return false;
    }
  }

  private void run() {
    try {
      long refreshed = System.nanoTime();
      long looked = refreshed;
      while (!stopping) {
        events.await(READ_MILLIS);
        events.read(spans::emit);
        long now = System.nanoTime();
        if (now - refreshed >= REFRESH_MILLIS * 1_000_000L) {
          spans.clock().refresh();
          refreshed = now;
        }
        if (!stopping && now - looked >= LOCATE_MILLIS * 1_000_000L) {
          looked = now;
          if (!located) {
            located = locateThreadContext();
          }
          if (everySecond != null) {
            try {
              everySecond.run();
            } catch (RuntimeException | LinkageError e) {
              log.debug("a periodic task of the span reader failed: " + e);
            }
          }
        }
      }
      events.read(spans::emit); // what arrived while stopping
    } catch (BpfException | RuntimeException e) {
      log.debug("reading the span ring buffer failed; no more spans: " + e);
    } finally {
      long undecodable = events.undecodable();
      if (undecodable > 0) {
        log.debug(undecodable + " span records could not be decoded");
      }
      synchronized (lock) {
        ringClosed = true;
        events.close();
      }
    }
  }

  @Override
  public void close() {
    stopping = true;
    synchronized (lock) {
      if (!ringClosed) {
        events.wake();
      }
    }
    boolean interrupted = false;
    long deadline = System.nanoTime() + JOIN_MILLIS * 1_000_000L;
    for (long left = JOIN_MILLIS; left > 0 && thread.isAlive(); left = (deadline - System.nanoTime()) / 1_000_000) {
      try {
        thread.join(Math.max(1, left));
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }
}
