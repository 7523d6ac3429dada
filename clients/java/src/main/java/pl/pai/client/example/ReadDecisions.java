package pl.pai.client.example;

import java.time.Duration;
import java.util.List;
import pl.pai.client.PaiConsumer;
import pl.pai.client.PaiTopic;
import pl.pai.eligibility.EligibilityDecision;
import pl.pai.scheduler.ReferralAccepted;

/** A trusted consumer of the office running PAI reads decisions and scheduler events. */
public final class ReadDecisions {
  public static void main(String[] args) { // bootstrap group-id
    List<PaiTopic> topics = List.of(PaiTopic.ELIGIBILITY_DECISIONS, PaiTopic.SCHEDULER_EVENTS);
    try (PaiConsumer pai = new PaiConsumer(args[0], args[1], topics)) {
      while (true) {
        for (PaiConsumer.Received r : pai.poll(Duration.ofSeconds(1))) {
          if (r.error() != null) {
            System.err.printf("%s/%d@%d unreadable: %s%n", r.topic(), r.partition(), r.offset(), r.error());
          } else if (r.event() instanceof EligibilityDecision d) {
            System.out.printf("%s eligible=%s reasons=%s%n", d.getEventId(), d.getEligible(), d.getReasons());
          } else if (r.event() instanceof ReferralAccepted a) {
            System.out.printf("referral %s accepted: cycle %s to %s%n", a.getReferralId(), a.getStartOn(), a.getLastDay());
          }
        }
        pai.commit(); // after what was read is stored: nothing lost on a crash
      }
    }
  }
}
