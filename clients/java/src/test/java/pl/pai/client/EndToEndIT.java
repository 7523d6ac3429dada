package pl.pai.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.UUID;
import java.util.function.Predicate;
import org.apache.avro.specific.SpecificRecord;
import org.junit.jupiter.api.Test;
import pl.pai.client.example.RegisterAndRefer;
import pl.pai.clock.ClockTick;
import pl.pai.eligibility.EligibilityDecision;
import pl.pai.pup.program_editions.ProgramEdition;
import pl.pai.scheduler.ReferralAccepted;
import pl.pai.scheduler.ReferralRejected;

/**
 * Against Apache Kafka with the eligibility and scheduler services running (started by
 * tests/e2e/test_java_client.py, which passes -Dpai.bootstrap): a Java producer publishes, with
 * the generated classes' own bytes, a person's registration, profile III and benefits, and once
 * the Java consumer has read the eligible decision, the referral; the consumer reads the
 * ReferralAccepted with the cycle's dates.
 */
class EndToEndIT {
  static final String PESEL = "90090515836";
  static final String PUP = "1465";
  static final String OPS = "1465011";
  static final Duration PATIENCE = Duration.ofSeconds(90);

  @Test
  void eventsOfAJavaProducerAreDecidedOnAndTheJavaConsumerReadsTheOutcome() {
    String bootstrap = System.getProperty("pai.bootstrap", "");
    assertTrue(!bootstrap.isBlank() && !bootstrap.startsWith("${"),
        "-Dpai.bootstrap=host:port of a Kafka with the services running is required");
    List<PaiTopic> outputs = List.of(PaiTopic.ELIGIBILITY_DECISIONS, PaiTopic.SCHEDULER_EVENTS);
    try (PaiProducer pai = new PaiProducer(bootstrap);
        PaiConsumer reader = new PaiConsumer(bootstrap, "java-kit-e2e-" + UUID.randomUUID(), outputs)) {
      pai.send(new ClockTick(Instant.parse("2026-01-10T04:00:00Z")));
      pai.send(ProgramEdition.newBuilder().setEventId(UUID.randomUUID()).setOccurredAt(Instant.now())
          .setEditionId("ED-JAVA").setPupCode(PUP).setOpsCodes(List.of(OPS))
          .setCouncilOpinionOn(LocalDate.of(2026, 1, 2)).setValidFrom(LocalDate.of(2026, 1, 1))
          .setValidTo(LocalDate.of(2026, 12, 31)).build());
      RegisterAndRefer.register(pai, PESEL, LocalDate.of(2026, 1, 5), PUP, OPS);

      Deque<PaiConsumer.Received> unread = new ArrayDeque<>();
      EligibilityDecision decision = await(reader, unread, EligibilityDecision.class,
          d -> d.getPersonId().equals(PESEL) && d.getEligible(), "the eligible decision");
      assertEquals("seed", decision.getRuleset());

      RegisterAndRefer.refer(pai, PESEL, "R-JAVA-1", "ED-JAVA", LocalDate.of(2026, 2, 2), PUP, OPS);
      ReferralAccepted accepted = await(reader, unread, ReferralAccepted.class,
          a -> a.getReferralId().equals("R-JAVA-1"), "the ReferralAccepted");
      assertEquals(PESEL, accepted.getPersonId());
      assertEquals(LocalDate.of(2026, 2, 2), accepted.getStartOn());
      assertEquals(LocalDate.of(2026, 4, 1), accepted.getLastDay()); // art. 112 KC: two months
      assertEquals(OPS, accepted.getOpsCode());
    }
  }

  /**
   * Reads until a record of {@code type} that is {@code wanted}; what a poll returned after it
   * stays in {@code unread} for the next call (a decision and the ReferralAccepted may come in
   * one poll).
   */
  static <T extends SpecificRecord> T await(PaiConsumer reader, Deque<PaiConsumer.Received> unread,
      Class<T> type, Predicate<T> wanted, String what) {
    Instant deadline = Instant.now().plus(PATIENCE);
    List<String> seen = new ArrayList<>();
    while (Instant.now().isBefore(deadline)) {
      if (unread.isEmpty()) {
        unread.addAll(reader.poll(Duration.ofMillis(500)));
      }
      while (!unread.isEmpty()) {
        PaiConsumer.Received r = unread.removeFirst();
        if (r.error() != null) {
          fail(r.topic() + "/" + r.partition() + "@" + r.offset() + " unreadable: " + r.error());
        }
        if (r.event() instanceof ReferralRejected rejected) {
          fail("the referral was rejected: " + rejected.getReasons());
        }
        seen.add(r.event().getSchema().getName());
        if (type.isInstance(r.event()) && wanted.test(type.cast(r.event()))) {
          reader.commit();
          return type.cast(r.event());
        }
      }
    }
    return fail("no " + what + " within " + PATIENCE + "; read " + seen);
  }
}
