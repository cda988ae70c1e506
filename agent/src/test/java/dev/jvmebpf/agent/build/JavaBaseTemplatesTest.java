package dev.jvmebpf.agent.build;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.jvmebpf.agent.JavaBaseClasses;
import dev.jvmebpf.agent.context.ContextBridge;
import dev.jvmebpf.agent.socket.SocketTimingPoint;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.objectweb.asm.ClassReader;

/** The copies of the java.base templates that the build renamed (process-classes, before these tests). */
class JavaBaseTemplatesTest {

  private static byte[] resource(Class<?> owner, String name) throws IOException {
    try (InputStream in = owner.getResourceAsStream(name)) {
      assertNotNull(in, name + " is next to " + owner.getName());
      return in.readAllBytes();
    }
  }

  @Test
  void eachTemplateHasItsCopyNamedAsItDeclares() throws IOException {
    for (Class<?> template : List.of(SocketTimingPoint.class, ContextBridge.class)) {
      byte[] original = resource(template, template.getSimpleName() + ".class");
      String target = JavaBaseTemplates.javaBaseName(original);
      assertNotNull(target, template + " declares " + JavaBaseClasses.NAME_FIELD);
      byte[] copy = resource(template, template.getSimpleName() + JavaBaseClasses.COPY_SUFFIX);
      assertEquals(target, new ClassReader(copy).getClassName(), "the copy's name");
      // No reference to the template's own name is left (its fields and methods are the copy's).
      String own = template.getName().replace('.', '/');
      assertFalse(new String(copy, StandardCharsets.ISO_8859_1).contains(own), "the copy still names " + own);
      assertArrayEquals(JavaBaseTemplates.renamed(original, target), copy, "the build's copy is today's renaming");
    }
  }

  @Test
  void anOrdinaryClassIsNoTemplate() throws IOException {
    assertNull(JavaBaseTemplates.javaBaseName(resource(JavaBaseTemplatesTest.class, "JavaBaseTemplatesTest.class")));
  }
}
