package dev.jvmebpf.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmebpf.it.workload.LogManagerApp;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.invoke.MethodType;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent's relocated libraries log through the agent's own Logger, never java.util.logging:
 * in the packaged agent every logging member they call exists, and an application that chooses
 * its LogManager after the agent has been on and exporting still gets the one it chose.
 */
class SdkLoggingIT {

  private static final String LOGGER = "dev/jvmebpf/agent/sdklog/Logger";
  private static final String LEVEL = "dev/jvmebpf/agent/sdklog/Level";

  @TempDir
  Path tmp;

  @Test
  void everyLoggingMemberTheRelocatedLibrariesUseIsDeclared() throws Exception {
    Path impl = tmp.resolve("agent-impl.jar");
    try (JarFile agent = new JarFile(Fixtures.agentJar().toFile());
        InputStream in = agent.getInputStream(agent.getJarEntry("inst/agent-impl.jar"))) {
      Files.copy(in, impl);
    }
    Set<String> used = new TreeSet<>(); // "owner.name:descriptor", fields with an F prefix
    List<String> julLeft = new ArrayList<>();
    int classes = 0;
    try (JarFile jar = new JarFile(impl.toFile())) {
      for (Enumeration<JarEntry> e = jar.entries(); e.hasMoreElements(); ) {
        JarEntry entry = e.nextElement();
        if (!entry.getName().endsWith(".class") || entry.getName().startsWith("META-INF/")
            || entry.getName().startsWith("dev/jvmebpf/agent/sdklog/")) { // what they use, not what they are
          continue;
        }
        classes++;
        try (InputStream in = jar.getInputStream(entry)) {
          references(new DataInputStream(in), entry.getName(), used, julLeft);
        }
      }
    }
    assertTrue(classes > 1000, classes + " classes read");
    assertTrue(julLeft.isEmpty(), "classes still referring to java.util.logging: " + julLeft);
    assertTrue(used.contains("M" + LOGGER + ".getLogger:(Ljava/lang/String;)L" + LOGGER + ";"), used.toString());
    try (URLClassLoader loader = new URLClassLoader(new URL[] {impl.toUri().toURL()}, ClassLoader.getPlatformClassLoader())) {
      for (String member : used) {
        String owner = member.substring(1, member.indexOf('.')).replace('/', '.');
        String name = member.substring(member.indexOf('.') + 1, member.indexOf(':'));
        String descriptor = member.substring(member.indexOf(':') + 1);
        Class<?> type = Class.forName(owner, false, loader);
        boolean found = false;
        if (member.charAt(0) == 'F') {
          for (Field f : type.getDeclaredFields()) {
            found |= f.getName().equals(name) && Modifier.isPublic(f.getModifiers())
                && descriptor.equals(f.getType().descriptorString());
          }
        } else {
          for (Method m : type.getDeclaredMethods()) {
            found |= m.getName().equals(name) && Modifier.isPublic(m.getModifiers())
                && descriptor.equals(MethodType.methodType(m.getReturnType(), m.getParameterTypes()).toMethodDescriptorString());
          }
        }
        assertTrue(found, "the relocated libraries use " + member + ", which the agent's Logger or Level lacks");
      }
    }
  }

  /** Collects the Logger and Level members a class file refers to, and notes any link to java.util.logging. */
  private static void references(DataInputStream in, String file, Set<String> used, List<String> julLeft)
      throws IOException {
    if (in.readInt() != 0xCAFEBABE) {
      throw new IOException(file + " is no class file");
    }
    in.readUnsignedShort();
    in.readUnsignedShort();
    int count = in.readUnsignedShort();
    String[] utf8 = new String[count];
    int[][] refs = new int[count][];
    int[] tags = new int[count];
    for (int i = 1; i < count; i++) {
      int tag = in.readUnsignedByte();
      tags[i] = tag;
      switch (tag) {
        case 1 -> utf8[i] = in.readUTF();
        case 3, 4 -> in.readInt();
        case 5, 6 -> {
          in.readLong();
          i++;
        }
        case 7, 8, 16, 19, 20 -> refs[i] = new int[] {in.readUnsignedShort()};
        case 9, 10, 11, 12, 17, 18 -> refs[i] = new int[] {in.readUnsignedShort(), in.readUnsignedShort()};
        case 15 -> {
          in.readUnsignedByte();
          refs[i] = new int[] {in.readUnsignedShort()};
        }
        default -> throw new IOException(file + ": constant pool tag " + tag);
      }
    }
    for (int i = 1; i < count; i++) {
      // What links: class names, member and method type descriptors (other strings, such as
      // Kotlin's metadata, only describe).
      int linked = tags[i] == 7 || tags[i] == 16 ? refs[i][0] : tags[i] == 12 ? refs[i][1] : 0;
      if (linked != 0 && utf8[linked].contains("java/util/logging/")) {
        julLeft.add(file + " (" + utf8[linked] + ")");
      }
      if (tags[i] == 9 || tags[i] == 10) {
        String owner = utf8[refs[refs[i][0]][0]];
        if (owner.equals(LOGGER) || owner.equals(LEVEL)) {
          int[] nameAndType = refs[refs[i][1]];
          used.add((tags[i] == 9 ? "F" : "M") + owner + "." + utf8[nameAndType[0]] + ":" + utf8[nameAndType[1]]);
        }
      }
    }
  }

  /**
   * The SDK logs as it fails to export (to an address that never answers) for 3 s after the
   * agent is on; the application then chooses its LogManager and gets it.
   */
  @Test
  void theApplicationStillChoosesItsLogManager() throws Exception {
    TargetJvm.Result run = TargetJvm.on(Fixtures.jdk(17))
        .withAgent("protocol=grpc,endpoint=http://192.0.2.1:4317,interval=1s,otel.exporter.otlp.timeout=500,debug=true")
        .run(Duration.ofSeconds(60), LogManagerApp.class, "3000");
    assertEquals(0, run.exitCode(), run.stderr());
    assertTrue(run.value("AGENT").startsWith("on: "), run.value("AGENT"));
    assertEquals(LogManagerApp.Chosen.class.getName(), run.value("LOG_MANAGER"), run.stderr());
    assertEquals("true", run.value("APP_LOGGER"));
    assertTrue(run.stderr().lines().anyMatch(l -> l.startsWith("[jvm-ebpf-agent] debug: sdk ")),
        "the SDK's own messages reach the agent's debug log:\n" + run.stderr());
  }
}
