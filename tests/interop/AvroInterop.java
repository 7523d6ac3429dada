// Apache Avro Java (the reference implementation) side of the interoperability tests.
//
// For every case directory under args[0] it reads:
//   schema.avsc      the current version (reader schema)
//   older/*.avsc     earlier versions the decoder must also accept (optional)
//   datum.json       one datum in Avro's JSON encoding
//   python.bin       the same datum as single-object bytes written by our codec
// and writes:
//   fingerprint.txt  SchemaNormalization.parsingFingerprint64 of schema.avsc, 16 hex digits
//   java.bin         BinaryMessageEncoder's single-object bytes of datum.json
//   java-decoded.json  python.bin read with BinaryMessageDecoder, in Avro's JSON encoding
//   writer.avsc/json (optional) + java-old.bin: datum.json of an older version, encoded with it
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.*;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.io.JsonEncoder;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;

public class AvroInterop {
  static Schema parse(Path p) throws Exception {
    return new Schema.Parser().parse(p.toFile());
  }

  static String read(Path p) throws Exception {
    return new String(Files.readAllBytes(p), StandardCharsets.UTF_8);
  }

  static Object fromJson(Schema schema, String json) throws Exception {
    return new GenericDatumReader<Object>(schema)
        .read(null, DecoderFactory.get().jsonDecoder(schema, json));
  }

  static byte[] encode(Schema schema, Object datum) throws Exception {
    ByteBuffer buf = new BinaryMessageEncoder<Object>(GenericData.get(), schema).encode(datum);
    byte[] out = new byte[buf.remaining()];
    buf.get(out);
    return out;
  }

  public static void main(String[] args) throws Exception {
    try (DirectoryStream<Path> cases = Files.newDirectoryStream(Paths.get(args[0]))) {
      for (Path c : cases) {
        if (!Files.isDirectory(c)) continue;
        Schema schema = parse(c.resolve("schema.avsc"));
        long fp = SchemaNormalization.parsingFingerprint64(schema);
        Files.write(c.resolve("fingerprint.txt"), String.format("%016x", fp).getBytes());

        Files.write(c.resolve("java.bin"), encode(schema, fromJson(schema, read(c.resolve("datum.json")))));

        BinaryMessageDecoder<Object> decoder = new BinaryMessageDecoder<>(GenericData.get(), schema);
        Path older = c.resolve("older");
        if (Files.isDirectory(older)) {
          try (DirectoryStream<Path> olds = Files.newDirectoryStream(older, "*.avsc")) {
            for (Path old : olds) decoder.addSchema(parse(old));
          }
        }
        Object back = decoder.decode(Files.readAllBytes(c.resolve("python.bin")));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        JsonEncoder json = EncoderFactory.get().jsonEncoder(schema, out);
        new GenericDatumWriter<Object>(schema).write(back, json);
        json.flush();
        Files.write(c.resolve("java-decoded.json"), out.toByteArray());

        if (Files.exists(c.resolve("writer.avsc"))) {
          Schema writer = parse(c.resolve("writer.avsc"));
          Files.write(c.resolve("java-old.bin"), encode(writer, fromJson(writer, read(c.resolve("writer.json")))));
        }
      }
    }
  }
}
