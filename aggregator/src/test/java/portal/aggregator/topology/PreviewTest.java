package portal.aggregator.topology;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import portal.aggregator.serde.InMemorySchemaSource;
import portal.aggregator.serde.WireFormatDecoder;

class PreviewTest {
    private static final WireFormatDecoder DECODER = new WireFormatDecoder(new InMemorySchemaSource());

    @Test
    void resultsInEmitOrderAndLateEventsByIndex() throws Exception {
        JsonNode body = Harness.read(("{'definition':{'source_topic':'claims','filter':'value.amount > `100`',"
                + "'group_by':'value.provider','window':{'type':'tumbling','size_ms':60000,'grace_ms':0},"
                + "'measures':[{'name':'claims','op':'count'},{'name':'total','op':'sum','field':'value.amount'}],"
                + "'emit':'on_close','late':'drop'},'events':["
                + "{'key':'c1','value':{'provider':'p1','amount':150},'timestamp_ms':1000},"
                + "{'key':null,'value':{'provider':'p1','amount':250.5},'headers':{'h':'x'},'timestamp_ms':2000},"
                + "{'key':{'id':3},'value':{'provider':'p2','amount':5},'timestamp_ms':3000},"
                + "{'key':'c4','value':{'provider':'p2','amount':500},'timestamp_ms':61000},"
                + "{'key':'c5','value':{'provider':'p1','amount':900},'timestamp_ms':4000}]}").replace('\'', '"'));
        ObjectNode answer = Preview.run(body, DECODER);
        assertEquals(1, answer.get("results").size(), answer.toString());
        JsonNode r = answer.get("results").get(0);
        assertEquals("p1", r.get("group").asText());
        assertEquals(2, r.get("claims").asLong());
        assertEquals(400.5, r.get("total").asDouble());
        assertEquals(1, answer.get("late").size());
        assertEquals(4, answer.get("late").get(0).get("index").asInt());
        assertTrue(answer.get("late").get(0).get("reason").asText().startsWith("late:"));
    }

    @Test
    void aDefinitionTheEngineCannotRunIsRefusedByField() {
        JsonNode body = Harness.read(("{'definition':{'source_topic':'claims','window':{'type':'weekly'},"
                + "'measures':[],'emit':'on_close','late':'drop'},'events':[{'value':{}}]}").replace('\'', '"'));
        Preview.Invalid invalid = assertThrows(Preview.Invalid.class, () -> Preview.run(body, DECODER));
        assertTrue(invalid.errors.containsKey("definition.window.type"), invalid.errors.toString());
        assertTrue(invalid.errors.containsKey("definition.measures"));
        assertTrue(invalid.errors.containsKey("events[0].timestamp_ms"));
    }
}
