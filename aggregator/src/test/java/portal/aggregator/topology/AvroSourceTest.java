package portal.aggregator.topology;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;
import portal.aggregator.serde.JsonSchemaWireSerializer;
import portal.aggregator.serde.WireFormatDecoderTest;

class AvroSourceTest {
    @Test
    void avroAndJsonSchemaEventsAggregateTogether() throws Exception {
        String measures = "[{'name':'n','op':'count'},{'name':'total','op':'sum','field':'value.price.amount'}]";
        try (Harness h = new Harness(Harness.definition(
                "{'type':'tumbling','size_ms':60000,'advance_ms':null,'gap_ms':null,'grace_ms':0}", measures,
                "'group_by':'value.provider_id','time':{'source':'field','field':'value.at'},"
                        + "'emit':'on_update','late':'drop'"), schemasForTest(), false)) {
            byte[] key = "k".getBytes(StandardCharsets.UTF_8);
            h.send(key, WireFormatDecoderTest.avroClaimForTest("p1", 10.5, 1000), 0, new RecordHeaders());
            h.send(key, WireFormatDecoderTest.avroClaimForTest("p1", 2, 2000), 0, new RecordHeaders());
            h.send(key, new JsonSchemaWireSerializer(42).serialize(Harness.read(
                    "{\"provider_id\":\"p1\",\"price\":{\"amount\":1},\"at\":3000}")), 0, new RecordHeaders());
            List<ObjectNode> results = h.results();
            ObjectNode last = results.get(results.size() - 1);
            assertEquals("p1", last.get("group").asText());
            assertEquals(3, last.get("n").asLong());
            assertEquals(13.5, last.get("total").asDouble());
        }
    }

    private static portal.aggregator.serde.InMemorySchemaSource schemasForTest() {
        return WireFormatDecoderTest.schemasForTest();
    }
}
