package pl.pai.client;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.Future;
import org.apache.avro.Schema;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Publishes PAI events as the contract asks: to the record's topic, keyed by the PESEL as 11
 * ASCII bytes (the edition id for program editions), partitioned by the Java client's default
 * murmur2 partitioner, {@code acks=all} with idempotence on, the value the record's Avro
 * single-object bytes (what its generated class's {@code toByteBuffer()} returns).
 *
 * <p>{@link #send} refuses, with an {@link IllegalArgumentException} naming the field, a
 * person_id that is not a PESEL (the services would dead-letter it as {@code invalid-pesel}) and
 * a TERYT code of the wrong shape (no PUP or OPS has it: the notifier would dead-letter the
 * webhooks as {@code unknown-ops-code}); the PESEL in such a message is masked.
 */
public final class PaiProducer implements AutoCloseable {
  private final Producer<byte[], byte[]> producer;

  /** A producer for the Kafka at {@code bootstrap} with the contract's settings. */
  public PaiProducer(String bootstrap) {
    this(config(bootstrap));
  }

  /** A producer with these settings (start from {@link #config}: add security, a client id). */
  public PaiProducer(Properties config) {
    this.producer = new KafkaProducer<>(config);
  }

  /**
   * The settings the contract needs; no {@code partitioner.class}: the default is murmur2 of the
   * key bytes, as the services partition.
   */
  public static Properties config(String bootstrap) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    return p;
  }

  /** The record to send for an event (its topic, key and single-object value), checked. */
  public static ProducerRecord<byte[], byte[]> record(SpecificRecord event) {
    Schema schema = event.getSchema();
    PaiTopic topic = PaiTopic.of(schema);
    check(event);
    byte[] key =
        switch (topic.key) {
          case PERSON_ID -> field(event, "person_id").getBytes(StandardCharsets.US_ASCII);
          case EDITION_ID -> field(event, "edition_id").getBytes(StandardCharsets.UTF_8);
          case WEBHOOK_ID -> field(event, "webhook_id").getBytes(StandardCharsets.UTF_8);
          case NONE -> null;
          case PERSON_RECORD, PERSON_HASH ->
              throw new IllegalArgumentException(
                  topic.topicName + " is written by the PAI services only");
        };
    return new ProducerRecord<>(topic.topicName, key, singleObject(event));
  }

  /** Sends one event; the future completes when every in-sync replica has it. */
  public Future<RecordMetadata> send(SpecificRecord event) {
    return producer.send(record(event));
  }

  /** Waits until every event sent so far is acknowledged. */
  public void flush() {
    producer.flush();
  }

  @Override
  public void close() {
    producer.close();
  }

  /** The Avro single-object bytes of a record with its own schema: {@code toByteBuffer()}'s. */
  public static byte[] singleObject(SpecificRecord event) {
    SpecificData model = SpecificData.getForClass(event.getClass());
    try {
      ByteBuffer buffer =
          new BinaryMessageEncoder<SpecificRecord>(model, event.getSchema()).encode(event);
      byte[] out = new byte[buffer.remaining()];
      buffer.get(out);
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void check(SpecificRecord event) {
    Schema schema = event.getSchema();
    String name = schema.getName();
    if (schema.getField("person_id") != null) {
      String pesel = field(event, "person_id");
      if (!Identifiers.isValidPesel(pesel)) {
        throw new IllegalArgumentException(
            name + ".person_id: " + Identifiers.maskPesel(pesel)
                + " is not a PESEL (11 digits with a valid check digit)");
      }
    }
    if (schema.getField("pup_code") != null) {
      Object pup = event.get(schema.getField("pup_code").pos());
      if (pup != null && !Identifiers.isPupCode(pup.toString())) {
        throw new IllegalArgumentException(
            name + ".pup_code: " + pup + " is not a TERYT powiat code (4 digits)");
      }
    }
    if (schema.getField("ops_code") != null) {
      Object ops = event.get(schema.getField("ops_code").pos());
      if (ops != null && !Identifiers.isOpsCode(ops.toString())) {
        throw new IllegalArgumentException(
            name + ".ops_code: " + ops + " is not a TERYT gmina code (7 digits)");
      }
    }
    if (schema.getField("ops_codes") != null) {
      for (Object ops : (List<?>) event.get(schema.getField("ops_codes").pos())) {
        if (ops == null || !Identifiers.isOpsCode(ops.toString())) {
          throw new IllegalArgumentException(
              name + ".ops_codes: " + ops + " is not a TERYT gmina code (7 digits)");
        }
      }
    }
  }

  private static String field(SpecificRecord event, String name) {
    Object value = event.get(event.getSchema().getField(name).pos());
    if (value == null) {
      throw new IllegalArgumentException(event.getSchema().getName() + "." + name + " is null");
    }
    return value.toString();
  }
}
