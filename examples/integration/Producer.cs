// A PUP event from .NET with Confluent.Kafka and Apache.Avro: murmur2 partitioning, single-object.
using Avro;
using Avro.Generic;
using Avro.IO;
using Confluent.Kafka;

static class PaiProducer
{
    static byte[] SingleObject(Schema schema, object datum)
    {
        var stream = new MemoryStream();
        stream.Write(new byte[] { 0xC3, 0x01 });
        long fingerprint = SchemaNormalization.ParsingFingerprint64(schema);  // CRC-64-AVRO
        stream.Write(BitConverter.GetBytes(fingerprint));  // little-endian, as the header wants
        new GenericDatumWriter<object>(schema).Write(datum, new BinaryEncoder(stream));
        return stream.ToArray();
    }

    public static async Task Register(string bootstrap, string schemas, string pesel)
    {
        var union = (UnionSchema)Schema.Parse(File.ReadAllText($"{schemas}/profiles/v1.avsc"));
        var record = (RecordSchema)union.Schemas.First(s => s.Name == "UnemployedRegistered");
        var registered = new GenericRecord(record);
        registered.Add("event_id", Guid.NewGuid());             // uuid
        registered.Add("occurred_at", DateTime.UtcNow);         // timestamp-millis
        registered.Add("person_id", pesel);
        registered.Add("pup_code", "1465");
        registered.Add("registered_on", DateTime.UtcNow.Date);  // date
        var config = new ProducerConfig
        {
            BootstrapServers = bootstrap,
            Partitioner = Partitioner.Murmur2Random,  // the Java client's hash; librdkafka's default differs
            Acks = Acks.All,
            EnableIdempotence = true,
        };
        using var producer = new ProducerBuilder<byte[], byte[]>(config).Build();
        await producer.ProduceAsync("pai.pup.profiles.v1", new Message<byte[], byte[]>
        {
            Key = System.Text.Encoding.ASCII.GetBytes(pesel),
            Value = SingleObject(record, registered),  // the record alone: its branch fingerprint
        });
    }
}
