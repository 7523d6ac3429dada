package pl.pai.client;

import java.util.HashMap;
import java.util.Map;
import org.apache.avro.Schema;

/**
 * The Kafka topics of the PAI contract that carry Avro records, each with the schema under
 * {@code schemas/} its values use and what its key is. A record's topic is found from the
 * record's full name (every record belongs to one topic schema).
 */
public enum PaiTopic {
  PROFILES("pai.pup.profiles.v1", "profiles", Key.PERSON_ID),
  SOCIAL_ASSISTANCE("pai.ops.social-assistance.v1", "social-assistance", Key.PERSON_ID),
  PARTICIPATION("pai.pup.participation.v1", "participation", Key.PERSON_ID),
  INTEGRATION_ACTIVITIES(
      "pai.ops.integration-activities.v1", "integration-activities", Key.PERSON_ID),
  PROGRAM_EDITIONS("pai.pup.program-editions.v1", "program-editions", Key.EDITION_ID),
  ELIGIBILITY_DECISIONS("pai.eligibility.decisions.v1", "eligibility-decisions", Key.PERSON_ID),
  SCHEDULER_EVENTS("pai.scheduler.events.v1", "scheduler-events", Key.PERSON_ID),
  CLOCK("pai.clock.v1", "clock", Key.NONE),
  /** The notifier's dead letters: webhooks not delivered (for operators' tools). */
  NOTIFIER_DLQ("pai.notifier.dlq.v1", "notifier-dlq", Key.WEBHOOK_ID),
  /** The disclosure register: each webhook delivered with a person's data (RODO art. 15). */
  DISCLOSURES("pai.notifier.disclosures.v1", "disclosures", Key.PERSON_RECORD),
  /** The access log: reads of a person's data and erasures (for auditors' tools). */
  AUDIT("pai.audit.v1", "audit", Key.PERSON_RECORD),
  /** The erasure markers of erased persons (pai forget; no PESEL), for auditors' tools. */
  ERASURES("pai.erasures.v1", "erasures", Key.PERSON_HASH);

  /** What the Kafka key of a topic's records is. */
  public enum Key {
    /** The PESEL as 11 ASCII bytes: per-person topics, partitioned by murmur2 of it. */
    PERSON_ID,
    /** The edition id (UTF-8) of a compacted topic: the latest record is the edition. */
    EDITION_ID,
    /** The webhook id (UTF-8). */
    WEBHOOK_ID,
    /**
     * {@code <PESEL>:<record id>} (UTF-8) on the PESEL's murmur2 partition, so that each
     * record of a compacted per-person register is kept (an erasure's: {@code erased:<hash>:<id>}).
     */
    PERSON_RECORD,
    /** {@code erased:<HMAC of the PESEL>} (UTF-8): an erasure marker, written by pai forget. */
    PERSON_HASH,
    /** No key. */
    NONE
  }

  private static final Map<String, PaiTopic> BY_RECORD = new HashMap<>();

  static {
    for (PaiTopic topic : values()) {
      for (Schema record : PaiSchemas.records(PaiSchemas.current(topic.schemaName))) {
        BY_RECORD.put(record.getFullName(), topic);
      }
    }
  }

  public final String topicName;
  public final String schemaName;
  public final Key key;

  PaiTopic(String topicName, String schemaName, Key key) {
    this.topicName = topicName;
    this.schemaName = schemaName;
    this.key = key;
  }

  /** The topic a record of this schema is written to. */
  public static PaiTopic of(Schema record) {
    PaiTopic topic = BY_RECORD.get(record.getFullName());
    if (topic == null) {
      throw new IllegalArgumentException(
          record.getFullName() + " is not a record of any PAI topic schema");
    }
    return topic;
  }
}
