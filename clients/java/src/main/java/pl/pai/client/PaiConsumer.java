package pl.pai.client;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Reads PAI topics (for an OPS or PUP system: {@code pai.eligibility.decisions.v1} and {@code
 * pai.scheduler.events.v1}) into the generated classes. Offsets are committed only by {@link
 * #commit}, after the caller has stored what it read: nothing is lost on a crash. A value that
 * cannot be read is returned with its error, never dropped in silence.
 */
public final class PaiConsumer implements AutoCloseable {
  /** One record read: where it was, its key, and the event or why it could not be read. */
  public record Received(
      String topic, int partition, long offset, String key, SpecificRecord event, String error) {}

  private final KafkaConsumer<byte[], byte[]> consumer;
  private final Map<String, BinaryMessageDecoder<SpecificRecord>> decoders;

  /** A consumer in group {@code groupId} of these topics, from their start on its first run. */
  public PaiConsumer(String bootstrap, String groupId, Collection<PaiTopic> topics) {
    this(config(bootstrap, groupId), topics);
  }

  public PaiConsumer(Properties config, Collection<PaiTopic> topics) {
    this.consumer = new KafkaConsumer<>(config);
    this.decoders = new java.util.HashMap<>();
    for (PaiTopic topic : topics) {
      decoders.put(topic.topicName, PaiSchemas.decoder(topic));
    }
    consumer.subscribe(decoders.keySet());
  }

  public static Properties config(String bootstrap, String groupId) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    return p;
  }

  /** What arrived within {@code timeout}, each decoded into its generated class. */
  public List<Received> poll(Duration timeout) {
    List<Received> out = new ArrayList<>();
    for (ConsumerRecord<byte[], byte[]> r : consumer.poll(timeout)) {
      String key = r.key() == null ? null : new String(r.key(), java.nio.charset.StandardCharsets.UTF_8);
      try {
        SpecificRecord event = decoders.get(r.topic()).decode(r.value());
        out.add(new Received(r.topic(), r.partition(), r.offset(), key, event, null));
      } catch (Exception e) { // Avro raises several kinds for bytes it cannot read
        String why = e.getClass().getSimpleName() + ": " + e.getMessage();
        out.add(new Received(r.topic(), r.partition(), r.offset(), key, null, why));
      }
    }
    return out;
  }

  /** Commits the offsets of everything {@link #poll} returned so far. */
  public void commit() {
    consumer.commitSync();
  }

  @Override
  public void close() {
    consumer.close();
  }
}
