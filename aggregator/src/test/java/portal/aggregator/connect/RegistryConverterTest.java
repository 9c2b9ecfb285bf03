package portal.aggregator.connect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.data.SchemaAndValue;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.errors.RetriableException;
import org.junit.jupiter.api.Test;
import portal.aggregator.serde.JsonSchemaWireSerializer;
import portal.aggregator.serde.SchemaLookupException;
import portal.aggregator.serde.SchemaSource;
import portal.aggregator.serde.WireFormatDecoderTest;

public class RegistryConverterTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static RegistryConverter converter(SchemaSource schemas) {
        RegistryConverter converter = new RegistryConverter();
        converter.configure(schemas);
        return converter;
    }

    @Test
    void avroValueWithAReferenceBecomesNestedMaps() throws Exception {
        byte[] bytes = WireFormatDecoderTest.avroClaimForTest("p-1", 12.5, 1700000000000L);
        SchemaAndValue data = converter(WireFormatDecoderTest.schemasForTest()).toConnectData("claims", bytes);
        assertNull(data.schema());
        assertEquals(Map.of("provider_id", "p-1", "price", Map.of("amount", 12.5, "currency", "EUR"), "note", "n",
                "kind", "B", "at", 1700000000000L, "tags", List.of("x", "y")), data.value());
    }

    @Test
    void jsonSchemaValueKeepsItsTypes() throws Exception {
        byte[] bytes = new JsonSchemaWireSerializer(42).serialize(
                JSON.readTree("{\"id\":7,\"big\":123456789012345678901234,\"ratio\":0.5,\"ok\":true,\"n\":null}"));
        Object value = converter(WireFormatDecoderTest.schemasForTest()).toConnectData("t", bytes).value();
        Map<?, ?> map = (Map<?, ?>) value;
        assertEquals(7L, map.get("id"));
        assertEquals(new java.math.BigDecimal("123456789012345678901234"), map.get("big"));
        assertEquals(0.5, map.get("ratio"));
        assertEquals(true, map.get("ok"));
        assertNull(map.get("n"));
    }

    @Test
    void plainKeysAreTextOrJson() {
        RegistryConverter keys = converter(WireFormatDecoderTest.schemasForTest());
        assertEquals("customer-9", keys.toConnectData("t", "customer-9".getBytes(StandardCharsets.UTF_8)).value());
        assertEquals(Map.of("id", 3L), keys.toConnectData("t", "{\"id\":3}".getBytes(StandardCharsets.UTF_8)).value());
    }

    @Test
    void aTombstoneStaysNull() {
        assertEquals(SchemaAndValue.NULL, converter(WireFormatDecoderTest.schemasForTest()).toConnectData("t", null));
    }

    @Test
    void unknownSchemaOrBadPayloadIsADataExceptionForTheDeadLetterTopic() {
        RegistryConverter c = converter(WireFormatDecoderTest.schemasForTest());
        byte[] unknown = {0, 0, 0, 0, 99, 1, 2};
        assertThrows(DataException.class, () -> c.toConnectData("t", unknown));
        byte[] protobuf = {0, 0, 0, 0, 43, 1, 2};
        assertThrows(DataException.class, () -> c.toConnectData("t", protobuf));
        byte[] truncatedAvro = {0, 0, 0, 0, 41, 2};
        assertThrows(DataException.class, () -> c.toConnectData("t", truncatedAvro));
    }

    @Test
    void aRegistryThatDoesNotAnswerIsRetriable() {
        SchemaSource down = new SchemaSource() {
            @Override
            public RegisteredSchema byId(int id) throws SchemaLookupException {
                throw new SchemaLookupException("registry unreachable", new java.io.IOException("refused"));
            }

            @Override
            public RegisteredSchema bySubjectVersion(String subject, int version) throws SchemaLookupException {
                throw new SchemaLookupException("registry unreachable", new java.io.IOException("refused"));
            }
        };
        byte[] bytes = {0, 0, 0, 0, 41, 2};
        assertThrows(RetriableException.class, () -> converter(down).toConnectData("t", bytes));
    }

    @Test
    void schemasAreFetchedOncePerId() throws Exception {
        int[] calls = {0};
        SchemaSource counting = new SchemaSource() {
            @Override
            public RegisteredSchema byId(int id) throws SchemaLookupException {
                calls[0]++;
                return WireFormatDecoderTest.schemasForTest().byId(id);
            }

            @Override
            public RegisteredSchema bySubjectVersion(String subject, int version) throws SchemaLookupException {
                return WireFormatDecoderTest.schemasForTest().bySubjectVersion(subject, version);
            }
        };
        RegistryConverter c = converter(counting);
        for (int i = 0; i < 5; i++) {
            c.toConnectData("claims", WireFormatDecoderTest.avroClaimForTest("p-" + i, i, 1L));
        }
        assertEquals(1, calls[0]);
    }

    @Test
    void configureNeedsTheRegistryUrl() {
        assertThrows(org.apache.kafka.common.config.ConfigException.class,
                () -> new RegistryConverter().configure(Map.of(), false));
    }
}
