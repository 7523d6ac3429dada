package pl.pai.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.apache.avro.AvroTypeException;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificRecord;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The shared test vectors ({@code schemas/test-vectors/}, also checked by the Python tests)
 * hold for Apache Avro Java, byte for byte: fingerprints, the union and branch forms written by
 * {@code BinaryMessageEncoder}, every current record's generated class writing the branch form
 * with {@code toByteBuffer()}, and the kit's decoders reading every form of every kept version
 * into the current generated classes.
 */
class TestVectorsTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HexFormat HEX = HexFormat.of();

  static Path vectorsDir() {
    String dir = System.getProperty("pai.vectors.dir");
    assertTrue(dir != null, "pai.vectors.dir is not set (the pom sets it)");
    return Path.of(dir);
  }

  static List<Path> files() throws Exception {
    try (Stream<Path> walk = Files.walk(vectorsDir())) {
      List<Path> found = new ArrayList<>(walk.filter(p -> p.toString().endsWith(".json")).sorted().toList());
      assertFalse(found.isEmpty(), "no vectors under " + vectorsDir());
      return found;
    }
  }

  static byte[] encode(Schema writer, Object datum) throws Exception {
    ByteBuffer buffer = new BinaryMessageEncoder<Object>(GenericData.get(), writer).encode(datum);
    byte[] out = new byte[buffer.remaining()];
    buffer.get(out);
    return out;
  }

  static Schema branchOf(Schema schema, String fullName) {
    return PaiSchemas.records(schema).stream()
        .filter(r -> r.getFullName().equals(fullName)).findFirst().orElseThrow();
  }

  @Test
  void everyKeptVersionInTheKitHasVectors() throws Exception {
    int expected = 0;
    for (PaiTopic topic : PaiTopic.values()) {
      expected += PaiSchemas.versions(topic.schemaName).size();
      for (int v = 1; v <= PaiSchemas.versions(topic.schemaName).size(); v++) {
        Path file = vectorsDir().resolve(topic.schemaName).resolve("v" + v + ".json");
        assertTrue(Files.exists(file), file + " is missing");
      }
    }
    assertTrue(files().size() >= expected);
  }

  @TestFactory
  List<DynamicTest> everyVectorHoldsForAvroJava() throws Exception {
    List<DynamicTest> tests = new ArrayList<>();
    for (Path file : files()) {
      JsonNode doc = JSON.readTree(file.toFile());
      tests.add(DynamicTest.dynamicTest(vectorsDir().relativize(file).toString(), () -> check(doc)));
    }
    return tests;
  }

  static void check(JsonNode doc) throws Exception {
    Path schemaFile = vectorsDir().getParent().resolve(doc.get("schema_file").asText());
    Schema schema = new Schema.Parser().parse(schemaFile.toFile());
    boolean union = schema.getType() == Schema.Type.UNION;
    JsonNode fingerprints = doc.get("fingerprint_hex_big_endian");
    assertEquals(
        fingerprints.get(union ? "union" : "record").asText(),
        String.format("%016x", SchemaNormalization.parsingFingerprint64(schema)));
    for (Schema branch : union ? schema.getTypes() : List.<Schema>of()) {
      assertEquals(
          fingerprints.get(branch.getFullName()).asText(),
          String.format("%016x", SchemaNormalization.parsingFingerprint64(branch)),
          branch.getFullName());
    }
    PaiTopic topic = topicOf(doc.get("schema").asText());
    boolean current = doc.get("current").asBoolean();
    for (JsonNode c : doc.get("cases")) {
      String name = c.get("record").asText();
      Schema record = branchOf(schema, name);
      String datum = JSON.writeValueAsString(c.get("datum"));
      Object generic =
          new GenericDatumReader<Object>(record).read(null, DecoderFactory.get().jsonDecoder(record, datum));
      JsonNode forms = c.get("single_object_hex");
      // BinaryMessageEncoder with the topic schema, and with the record's own schema
      assertEquals(forms.get(union ? "union" : "record").asText(), HEX.formatHex(encode(schema, generic)), name);
      if (union) {
        assertEquals(forms.get("branch").asText(), HEX.formatHex(encode(record, generic)), name);
      }
      // the kit reads every form of every kept version into the current generated class
      BinaryMessageDecoder<SpecificRecord> topicDecoder = PaiSchemas.decoder(topic);
      Class<? extends SpecificRecord> type = generatedClass(topic, name);
      BinaryMessageDecoder<? extends SpecificRecord> classDecoder = PaiSchemas.decoder(type);
      List<SpecificRecord> read = new ArrayList<>();
      for (var form : (Iterable<java.util.Map.Entry<String, JsonNode>>) forms::fields) {
        byte[] bytes = HEX.parseHex(form.getValue().asText());
        read.add(assertInstanceOf(type, topicDecoder.decode(bytes), name + " " + form.getKey()));
        read.add(assertInstanceOf(type, classDecoder.decode(bytes), name + " " + form.getKey()));
      }
      assertEquals(1, read.stream().distinct().count(), name + ": every form reads the same");
      if (current) {
        // the generated class: read from the datum, toByteBuffer() writes the branch form
        SpecificRecord generated = new SpecificDatumReader<SpecificRecord>(record)
            .read(null, DecoderFactory.get().jsonDecoder(record, datum));
        assertInstanceOf(type, generated);
        ByteBuffer own = (ByteBuffer) type.getMethod("toByteBuffer").invoke(generated);
        byte[] bytes = new byte[own.remaining()];
        own.get(bytes);
        assertEquals(forms.get(union ? "branch" : "record").asText(), HEX.formatHex(bytes), name);
        assertEquals(HEX.formatHex(bytes), HEX.formatHex(PaiProducer.singleObject(generated)));
        assertEquals(generated, read.get(0));
      }
    }
  }

  @Test
  void aClassDecoderRefusesAnotherRecordOfTheSameTopic() throws Exception {
    Schema union = PaiSchemas.current("profiles");
    Schema registered = branchOf(union, "pl.pai.pup.profiles.UnemployedRegistered");
    Path file = vectorsDir().resolve("profiles").resolve("v1.json");
    JsonNode c = JSON.readTree(file.toFile()).get("cases").get(0);
    assertEquals(registered.getFullName(), c.get("record").asText());
    byte[] bytes = HEX.parseHex(c.get("single_object_hex").get("union").asText());
    var decoder = PaiSchemas.decoder(pl.pai.pup.profiles.ProfileEstablished.class);
    assertThrows(AvroTypeException.class, () -> decoder.decode(bytes));
  }

  static PaiTopic topicOf(String schemaName) {
    return Stream.of(PaiTopic.values()).filter(t -> t.schemaName.equals(schemaName)).findFirst()
        .orElseThrow(() -> new AssertionError("no PaiTopic for " + schemaName));
  }

  @SuppressWarnings("unchecked")
  static Class<? extends SpecificRecord> generatedClass(PaiTopic topic, String fullName) {
    Schema current = branchOf(PaiSchemas.current(topic.schemaName), fullName);
    return (Class<? extends SpecificRecord>) SpecificData.get().getClass(current);
  }
}
