package dev.jvmebpf.it;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** Tests that share one OTLP receiver for the whole class (cleared by each test as needed). */
abstract class ReceiverTest {

  static OtlpReceiver receiver;

  @BeforeAll
  static void startReceiver() throws Exception {
    receiver = new OtlpReceiver();
  }

  @AfterAll
  static void stopReceiver() {
    receiver.close();
  }
}
