package dev.jvmebpf.agent;

import com.sun.management.GarbageCollectionNotificationInfo;
import dev.jvmebpf.bpf.gc.GcCollectors;
import dev.jvmebpf.bpf.gc.GcSnapshot;
import dev.jvmebpf.bpf.hist.HistogramLayout;
import dev.jvmebpf.bpf.hist.HistogramRecorder;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryUsage;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import javax.management.ListenerNotFoundException;
import javax.management.Notification;
import javax.management.NotificationEmitter;
import javax.management.NotificationListener;
import javax.management.openmbean.CompositeData;

/**
 * Degraded mode without eBPF: {@code jvm.gc.duration} from the GC MXBeans' notifications (one
 * per collection, durations in whole milliseconds) and {@code jvm.memory.used_after_last_gc}
 * from the pools' collection usage, in the same snapshot type as the probes produce.
 */
final class JmxGcFallback implements AutoCloseable {

  private record Recorded(String action, HistogramRecorder durations) {}

  private final HistogramLayout layout;
  private final GcCollectors collectors;
  private final Map<String, Recorded> byCollector = new ConcurrentHashMap<>();
  private final Map<NotificationEmitter, NotificationListener> listeners = new LinkedHashMap<>();

  private JmxGcFallback(HistogramLayout layout, GcCollectors collectors) {
    this.layout = layout;
    this.collectors = collectors;
  }

  static JmxGcFallback start(HistogramLayout layout) {
    JmxGcFallback fallback = new JmxGcFallback(layout, GcCollectors.ofThisJvm());
    for (GarbageCollectorMXBean bean : ManagementFactory.getGarbageCollectorMXBeans()) {
      if (bean instanceof NotificationEmitter emitter) {
        NotificationListener listener = fallback::onNotification;
        emitter.addNotificationListener(listener,
            n -> GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(n.getType()), null);
        fallback.listeners.put(emitter, listener);
      }
    }
    return fallback;
  }

  private void onNotification(Notification notification, Object handback) {
    GarbageCollectionNotificationInfo info =
        GarbageCollectionNotificationInfo.from((CompositeData) notification.getUserData());
    byCollector.computeIfAbsent(info.getGcName(), name -> new Recorded(info.getGcAction(), new HistogramRecorder(layout)))
        .durations().record(Math.max(0, info.getGcInfo().getDuration()) * 1_000_000L);
  }

  GcSnapshot snapshot() {
    List<GcSnapshot.CollectorDurations> durations = new ArrayList<>();
    byCollector.forEach((name, r) ->
        durations.add(new GcSnapshot.CollectorDurations(name, r.action(), r.durations().snapshot())));
    List<GcSnapshot.PoolUsage> pools = new ArrayList<>();
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      MemoryUsage usage = pool.getCollectionUsage();
      boolean managed = collectors.collectors().stream().anyMatch(c -> c.pools().contains(pool.getName()));
      if (usage != null && managed) {
        pools.add(new GcSnapshot.PoolUsage(pool.getName(),
            pool.getType() == java.lang.management.MemoryType.HEAP ? "heap" : "non_heap",
            usage.getUsed(), usage.getCommitted()));
      }
    }
    return new GcSnapshot(durations, pools, List.of());
  }

  @Override
  public void close() {
    listeners.forEach((emitter, listener) -> {
      try {
        emitter.removeNotificationListener(listener);
      } catch (ListenerNotFoundException ignored) {
        // Already gone.
      }
    });
    listeners.clear();
  }
}
