package dev.jvmebpf.otel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.processcontext.v1development.ProcessContext;
import io.opentelemetry.sdk.resources.Resource;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Our encoding against the generated protobuf decoder of opentelemetry-proto's ProcessContext. */
class ProcessContextPayloadTest {

  @Test
  void theGeneratedDecoderReadsEveryAttributeTypeBack() throws Exception {
    Resource resource = Resource.create(Attributes.builder()
        .put("service.name", "checkout ✓") // not ASCII: UTF-8 lengths are bytes
        .put("process.pid", 4242L)
        .put("process.runtime.negative", -7L)
        .put("sampled", true)
        .put("ratio", 0.25)
        .put(AttributeKey.stringArrayKey("process.command_args"), List.of("java", "-jar", "app.jar"))
        .put(AttributeKey.longArrayKey("ports"), List.of(80L, 443L))
        .build());
    Attributes extra = Attributes.of(ProcessContextPayload.THREADLOCAL_SCHEMA, ProcessContextPayload.THREAD_RECORDS_V1,
        ProcessContextPayload.THREADLOCAL_KEYS, List.of());

    ProcessContext decoded = ProcessContext.parseFrom(ProcessContextPayload.encode(resource, extra));

    Map<String, AnyValue> attributes = byKey(decoded.getResource().getAttributesList());
    assertEquals(7, attributes.size(), attributes.toString());
    assertEquals("checkout ✓", attributes.get("service.name").getStringValue());
    assertEquals(4242L, attributes.get("process.pid").getIntValue());
    assertEquals(-7L, attributes.get("process.runtime.negative").getIntValue());
    assertTrue(attributes.get("sampled").getBoolValue());
    assertEquals(0.25, attributes.get("ratio").getDoubleValue());
    assertEquals(List.of("java", "-jar", "app.jar"), attributes.get("process.command_args").getArrayValue()
        .getValuesList().stream().map(AnyValue::getStringValue).toList());
    assertEquals(List.of(80L, 443L), attributes.get("ports").getArrayValue().getValuesList().stream()
        .map(AnyValue::getIntValue).toList());

    Map<String, AnyValue> threadLocal = byKey(decoded.getAttributesList());
    assertEquals("tls_v1", threadLocal.get("threadlocal.schema_version").getStringValue());
    AnyValue keys = threadLocal.get("threadlocal.attribute_key_map");
    assertEquals(AnyValue.ValueCase.ARRAY_VALUE, keys.getValueCase(), "an array, even when empty");
    assertEquals(0, keys.getArrayValue().getValuesCount());
  }

  @Test
  void noExtraAttributesLeavesTheirFieldOut() throws Exception {
    ProcessContext decoded = ProcessContext.parseFrom(ProcessContextPayload.encode(
        Resource.create(Attributes.of(AttributeKey.stringKey("service.name"), "a")), Attributes.empty()));
    assertEquals(0, decoded.getAttributesCount());
    assertEquals("a", decoded.getResource().getAttributes(0).getValue().getStringValue());
  }

  private static Map<String, AnyValue> byKey(List<KeyValue> list) {
    Map<String, AnyValue> out = new HashMap<>();
    list.forEach(kv -> out.put(kv.getKey(), kv.getValue()));
    return out;
  }
}
