package pl.pai.client;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;
import org.apache.avro.util.ClassSecurityValidator;

/**
 * Every kept version of every PAI schema (packaged from {@code schemas/<name>/vN.avsc}), and
 * single-object decoders that read what the services and producers write.
 *
 * <p>A topic schema that is a union has two writer forms: the union (what the services write)
 * and each record alone (what a generated class's {@code toByteBuffer()} writes). The decoders
 * here know the fingerprints of both forms of every kept version, so a consumer reads bytes
 * written with any of them into the current generated classes (Avro schema resolution).
 *
 * <p>Avro 1.12 instantiates only classes its {@code ClassSecurityValidator} trusts; loading this
 * class adds the generated PAI classes (records and enums under {@code pl.pai}) to the global
 * trusted set, keeping whatever was trusted before (as {@code
 * -Dorg.apache.avro.SERIALIZABLE_PACKAGES=pl.pai} would, but without a JVM flag).
 */
public final class PaiSchemas {
  private static final ConcurrentHashMap<String, List<Schema>> VERSIONS = new ConcurrentHashMap<>();

  static {
    ClassSecurityValidator.ClassSecurityPredicate pai =
        type ->
            type.getName().startsWith("pl.pai.")
                && (SpecificRecord.class.isAssignableFrom(type) || type.isEnum());
    ClassSecurityValidator.setGlobal(
        ClassSecurityValidator.composite(ClassSecurityValidator.getGlobal(), pai));
  }

  private PaiSchemas() {}

  /** Makes sure the generated classes are trusted (loading this class does it). */
  public static void trustGeneratedClasses() {}

  /** Every kept version of a schema ({@code "profiles"}, ...), oldest first. */
  public static List<Schema> versions(String schemaName) {
    return VERSIONS.computeIfAbsent(schemaName, PaiSchemas::load);
  }

  /** The current (newest) version: the one the generated classes are made from. */
  public static Schema current(String schemaName) {
    List<Schema> all = versions(schemaName);
    return all.get(all.size() - 1);
  }

  /** The records of a schema: the branches of a union, or the record itself. */
  public static List<Schema> records(Schema schema) {
    return schema.getType() == Schema.Type.UNION ? schema.getTypes() : List.of(schema);
  }

  /**
   * A decoder into one generated class ({@code PaiSchemas.decoder(ReferralAccepted.class)}): it
   * reads that record written in either form with any kept version, and throws {@code
   * AvroTypeException} for another record of the same topic.
   */
  public static <T extends SpecificRecord> BinaryMessageDecoder<T> decoder(Class<T> type) {
    SpecificData model = SpecificData.getForClass(type);
    Schema reader = model.getSchema(type);
    BinaryMessageDecoder<T> decoder = new BinaryMessageDecoder<>(model, reader);
    addWriters(decoder, PaiTopic.of(reader).schemaName);
    return decoder;
  }

  /** A decoder of any record of a topic into its generated class. */
  public static BinaryMessageDecoder<SpecificRecord> decoder(PaiTopic topic) {
    BinaryMessageDecoder<SpecificRecord> decoder =
        new BinaryMessageDecoder<>(SpecificData.get(), generatedSchema(topic));
    addWriters(decoder, topic.schemaName);
    return decoder;
  }

  /**
   * The current schema as the generated classes carry it ({@code SCHEMA$}, with the {@code
   * avro.java.string} hints that make strings {@code String}, not {@code Utf8}, also in lists).
   */
  public static Schema generatedSchema(PaiTopic topic) {
    Schema file = current(topic.schemaName);
    List<Schema> classes = new ArrayList<>();
    for (Schema record : records(file)) {
      try {
        Class<?> type = Class.forName(record.getFullName(), true, PaiSchemas.class.getClassLoader());
        classes.add(SpecificData.get().getSchema(type));
      } catch (ClassNotFoundException e) {
        throw new IllegalStateException(
            record.getFullName() + " has no generated class: rebuild the kit (mvn verify)", e);
      }
    }
    return file.getType() == Schema.Type.UNION ? Schema.createUnion(classes) : classes.get(0);
  }

  private static void addWriters(BinaryMessageDecoder<?> decoder, String schemaName) {
    for (Schema version : versions(schemaName)) {
      decoder.addSchema(version);
      if (version.getType() == Schema.Type.UNION) {
        for (Schema branch : version.getTypes()) {
          decoder.addSchema(branch);
        }
      }
    }
  }

  private static List<Schema> load(String schemaName) {
    List<Schema> found = new ArrayList<>();
    for (int v = 1; ; v++) {
      String resource = "/pai-schemas/" + schemaName + "/v" + v + ".avsc";
      try (InputStream in = PaiSchemas.class.getResourceAsStream(resource)) {
        if (in == null) {
          break;
        }
        found.add(new Schema.Parser().parse(in));
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read " + resource, e);
      }
    }
    if (found.isEmpty()) {
      throw new IllegalArgumentException("no schema named " + schemaName + " in the kit");
    }
    return List.copyOf(found);
  }
}
