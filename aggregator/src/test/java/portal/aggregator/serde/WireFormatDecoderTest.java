package portal.aggregator.serde;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.junit.jupiter.api.Test;

public class WireFormatDecoderTest {
    static final String MONEY = "{\"type\":\"record\",\"name\":\"Money\",\"namespace\":\"claims\","
            + "\"fields\":[{\"name\":\"amount\",\"type\":\"double\"},{\"name\":\"currency\",\"type\":\"string\"}]}";
    static final String CLAIM = "{\"type\":\"record\",\"name\":\"Claim\",\"namespace\":\"claims\",\"fields\":["
            + "{\"name\":\"provider_id\",\"type\":\"string\"},{\"name\":\"price\",\"type\":\"claims.Money\"},"
            + "{\"name\":\"note\",\"type\":[\"null\",\"string\"],\"default\":null},"
            + "{\"name\":\"kind\",\"type\":{\"type\":\"enum\",\"name\":\"Kind\",\"symbols\":[\"A\",\"B\"]}},"
            + "{\"name\":\"at\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}},"
            + "{\"name\":\"tags\",\"type\":{\"type\":\"array\",\"items\":\"string\"}}]}";
    private static final ObjectMapper JSON = new ObjectMapper();

    static InMemorySchemaSource schemas() {
        return new InMemorySchemaSource()
                .add(41, "AVRO", CLAIM, List.of(new SchemaSource.Reference("claims.Money", "money-value", 1)))
                .addSubjectVersion("money-value", 1, "AVRO", MONEY)
                .add(42, "JSON", "{\"type\":\"object\"}")
                .add(43, "PROTOBUF", "syntax = \"proto3\"; message M {}");
    }

    /** A claim in the Confluent wire format, written by Avro's own writer with the referenced schema. */
    static byte[] avroClaim(String provider, double amount, long at) throws IOException {
        Schema.Parser parser = new Schema.Parser();
        parser.parse(MONEY);
        Schema claim = parser.parse(CLAIM);
        GenericRecord money = new GenericData.Record(claim.getField("price").schema());
        money.put("amount", amount);
        money.put("currency", "EUR");
        GenericRecord record = new GenericData.Record(claim);
        record.put("provider_id", provider);
        record.put("price", money);
        record.put("note", "n");
        record.put("kind", new GenericData.EnumSymbol(claim.getField("kind").schema(), "B"));
        record.put("at", at);
        record.put("tags", List.of("x", "y"));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0);
        out.write(ByteBuffer.allocate(4).putInt(41).array());
        BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
        new GenericDatumWriter<GenericRecord>(claim).write(record, encoder);
        encoder.flush();
        return out.toByteArray();
    }

    /** For the topology tests in another package. */
    public static InMemorySchemaSource schemasForTest() {
        return schemas();
    }

    public static byte[] avroClaimForTest(String provider, double amount, long at) throws IOException {
        return avroClaim(provider, amount, at);
    }

    @Test
    void avroWithAReferenceBecomesPlainJson() throws Exception {
        JsonNode value = new WireFormatDecoder(schemas()).decode(avroClaim("p-1", 12.5, 1700000000000L));
        assertEquals(JSON.readTree("{\"provider_id\":\"p-1\",\"price\":{\"amount\":12.5,\"currency\":\"EUR\"},"
                + "\"note\":\"n\",\"kind\":\"B\",\"at\":1700000000000,\"tags\":[\"x\",\"y\"]}"), value);
    }

    @Test
    void jsonSchemaPlainJsonAndText() throws Exception {
        WireFormatDecoder decoder = new WireFormatDecoder(schemas());
        byte[] wire = new JsonSchemaWireSerializer(42).serialize(JSON.readTree("{\"a\":[1,2]}"));
        assertArrayEquals(new byte[] {0, 0, 0, 0, 42}, java.util.Arrays.copyOf(wire, 5));
        assertEquals(JSON.readTree("{\"a\":[1,2]}"), decoder.decode(wire));
        assertEquals(JSON.readTree("{\"b\":true}"), decoder.decode("{\"b\":true}".getBytes(StandardCharsets.UTF_8)));
        assertEquals("plain key", decoder.decode("plain key".getBytes(StandardCharsets.UTF_8)).asText());
    }

    @Test
    void badPayloadsAreUndecodableAndTheRegistryIsAskedOnce() throws Exception {
        int[] asked = {0};
        InMemorySchemaSource inner = schemas();
        SchemaSource counting = new SchemaSource() {
            public RegisteredSchema byId(int id) throws SchemaLookupException {
                asked[0]++;
                return inner.byId(id);
            }

            public RegisteredSchema bySubjectVersion(String s, int v) throws SchemaLookupException {
                return inner.bySubjectVersion(s, v);
            }
        };
        WireFormatDecoder decoder = new WireFormatDecoder(counting);
        decoder.decode(avroClaim("a", 1, 1));
        decoder.decode(avroClaim("b", 2, 2));
        assertEquals(1, asked[0]);
        assertThrows(DecodeException.class, () -> decoder.decode(new byte[] {0, 0, 0, 0, 41, 9}));
        assertThrows(DecodeException.class, () -> decoder.decode(new byte[] {0, 0, 0, 0, 42, '{'}));
        assertThrows(DecodeException.class, () -> decoder.decode(new byte[] {0, 0, 0, 0, 43, 0}));
        assertThrows(DecodeException.class, () -> decoder.decode(new byte[] {0, 0, 0, 0, 99, 0}));
    }

    @Test
    void theRegistryAnswerIsParsedWithItsReferences() throws Exception {
        SchemaSource.RegisteredSchema parsed = RegistrySchemaSource.parse(JSON.readTree(
                "{\"schema\":\"{}\",\"references\":[{\"name\":\"claims.Money\",\"subject\":\"money-value\",\"version\":3}]}"));
        assertEquals("AVRO", parsed.type());
        assertEquals(List.of(new SchemaSource.Reference("claims.Money", "money-value", 3)), parsed.references());
    }
}
