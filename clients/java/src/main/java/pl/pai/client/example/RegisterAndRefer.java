package pl.pai.client.example;

import java.time.Instant;
import java.time.LocalDate;
import java.util.UUID;
import pl.pai.client.PaiProducer;
import pl.pai.ops.social_assistance.BenefitsGranted;
import pl.pai.pup.Profile;
import pl.pai.pup.participation.ReferredToProgram;
import pl.pai.pup.profiles.ProfileEstablished;
import pl.pai.pup.profiles.UnemployedRegistered;

/** A PUP registers a person with profile III and benefits; once eligible, refers them. */
public final class RegisterAndRefer {
  public static void register(PaiProducer pai, String pesel, LocalDate day, String pup, String ops) {
    Instant now = Instant.now();
    pai.send(UnemployedRegistered.newBuilder().setEventId(UUID.randomUUID()).setOccurredAt(now)
        .setPersonId(pesel).setPupCode(pup).setRegisteredOn(day).build());
    pai.send(ProfileEstablished.newBuilder().setEventId(UUID.randomUUID()).setOccurredAt(now)
        .setPersonId(pesel).setPupCode(pup).setProfile(Profile.III).setEstablishedOn(day).build());
    pai.send(BenefitsGranted.newBuilder().setEventId(UUID.randomUUID()).setOccurredAt(now)
        .setPersonId(pesel).setOpsCode(ops).setGrantedOn(day).setValidUntil(null).build());
    pai.flush(); // acknowledged by every in-sync replica (acks=all)
  }

  public static void refer(PaiProducer pai, String pesel, String referralId, String edition,
      LocalDate startOn, String pup, String ops) {
    pai.send(ReferredToProgram.newBuilder().setEventId(UUID.randomUUID()).setOccurredAt(Instant.now())
        .setPersonId(pesel).setPupCode(pup).setReferralId(referralId).setEditionId(edition)
        .setOpsCode(ops).setStartOn(startOn).build());
    pai.flush();
  }

  public static void main(String[] args) { // bootstrap register|refer pesel pup ops [referral edition]
    try (PaiProducer pai = new PaiProducer(args[0])) {
      if (args[1].equals("register")) {
        register(pai, args[2], LocalDate.now(), args[3], args[4]);
      } else {
        refer(pai, args[2], args[5], args[6], LocalDate.now().plusDays(7), args[3], args[4]);
      }
    }
  }
}
