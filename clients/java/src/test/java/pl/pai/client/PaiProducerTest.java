package pl.pai.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.UUID;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import pl.pai.clock.ClockTick;
import pl.pai.pup.program_editions.ProgramEdition;
import pl.pai.pup.profiles.UnemployedRegistered;

/** What the producer helper sends, and what it refuses before sending. */
class PaiProducerTest {
  static UnemployedRegistered registered(String pesel, String pup) {
    return UnemployedRegistered.newBuilder().setEventId(UUID.fromString("0b6c59de-7d57-4c5e-9a57-4d5f3fb0e1a2"))
        .setOccurredAt(Instant.parse("2026-01-05T08:00:00Z")).setPersonId(pesel).setPupCode(pup)
        .setRegisteredOn(LocalDate.of(2026, 1, 5)).build();
  }

  @Test
  void anEventGoesToItsTopicKeyedByThePeselWithItsGeneratedClassBytes() throws Exception {
    UnemployedRegistered event = registered("44051401359", "1465");
    ProducerRecord<byte[], byte[]> record = PaiProducer.record(event);
    assertEquals("pai.pup.profiles.v1", record.topic());
    assertArrayEquals("44051401359".getBytes(StandardCharsets.US_ASCII), record.key());
    assertNull(record.partition()); // the default partitioner: murmur2 of the key
    ByteBuffer own = event.toByteBuffer();
    byte[] expected = new byte[own.remaining()];
    own.get(expected);
    assertArrayEquals(expected, record.value());
    // what the services read: the branch form, decoded by the kit into the class
    assertEquals(event, PaiSchemas.decoder(PaiTopic.PROFILES).decode(record.value()));
  }

  @Test
  void theSettingsAreTheContracts() {
    var config = PaiProducer.config("127.0.0.1:9092");
    assertEquals("all", config.get("acks"));
    assertEquals(true, config.get("enable.idempotence"));
    assertFalse(config.containsKey("partitioner.class"));
  }

  @Test
  void editionsAreKeyedByEditionIdAndTicksHaveNoKey() throws Exception {
    ProgramEdition edition = ProgramEdition.newBuilder().setEventId(UUID.randomUUID())
        .setOccurredAt(Instant.now()).setEditionId("ED-1").setPupCode("1465")
        .setOpsCodes(List.of("1465011")).setCouncilOpinionOn(null)
        .setValidFrom(LocalDate.of(2026, 1, 1)).setValidTo(LocalDate.of(2026, 12, 31)).build();
    assertArrayEquals("ED-1".getBytes(StandardCharsets.UTF_8), PaiProducer.record(edition).key());
    ProgramEdition back = assertInstanceOf(ProgramEdition.class,
        PaiSchemas.decoder(PaiTopic.PROGRAM_EDITIONS).decode(PaiProducer.record(edition).value()));
    assertInstanceOf(String.class, back.getOpsCodes().get(0)); // String, not Utf8, in lists too
    assertNull(PaiProducer.record(new ClockTick(Instant.now())).key());
  }

  @Test
  void aBadPeselIsRefusedNamingTheFieldWithThePeselMasked() {
    var refused = assertThrows(IllegalArgumentException.class,
        () -> PaiProducer.record(registered("44051401358", "1465")));
    assertTrue(refused.getMessage().startsWith("UnemployedRegistered.person_id: 44********8"), refused.getMessage());
    assertFalse(refused.getMessage().contains("44051401358"));
  }

  @Test
  void aTerytCodeOfTheWrongShapeIsRefused() {
    var refused = assertThrows(IllegalArgumentException.class,
        () -> PaiProducer.record(registered("44051401359", "146")));
    assertTrue(refused.getMessage().startsWith("UnemployedRegistered.pup_code: 146"), refused.getMessage());
  }
}
