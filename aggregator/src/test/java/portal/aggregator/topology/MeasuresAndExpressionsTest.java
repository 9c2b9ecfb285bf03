package portal.aggregator.topology;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class MeasuresAndExpressionsTest {
    private static final String TUMBLING = "{'type':'tumbling','size_ms':60000,'advance_ms':null,'gap_ms':null,'grace_ms':0}";

    private static ObjectNode last(List<ObjectNode> results) {
        return results.get(results.size() - 1);
    }

    @Test
    void everyMeasureOp() {
        String measures = "[{'name':'n','op':'count'},{'name':'sum','op':'sum','field':'value.x'},"
                + "{'name':'min','op':'min','field':'value.x'},{'name':'max','op':'max','field':'value.x'},"
                + "{'name':'avg','op':'avg','field':'value.x'},{'name':'kinds','op':'count_distinct','field':'value.kind'},"
                + "{'name':'first','op':'first','field':'value.kind'},{'name':'last','op':'last','field':'value.kind'},"
                + "{'name':'isum','op':'sum','field':'value.i'}]";
        try (Harness h = new Harness(Harness.definition(TUMBLING, measures, ""))) {
            h.send("a", "{'x':4,'kind':'b','i':1}", 3000);
            h.send("a", "{'x':1.5,'kind':{'k':1},'i':2}", 1000); // earlier event time, later arrival
            h.send("a", "{'x':'not a number','kind':'b','i':3}", 2000);
            h.send("a", "{'kind':'c','i':4}", 3000); // ties with the first event: the later arrival is last
            ObjectNode r = last(h.results());
            assertEquals(4, r.get("n").asLong());
            assertEquals(5.5, r.get("sum").asDouble());
            assertEquals(1.5, r.get("min").asDouble());
            assertEquals(4, r.get("max").asInt());
            assertTrue(r.get("max").isIntegralNumber());
            assertEquals(2.75, r.get("avg").asDouble());
            assertEquals(3, r.get("kinds").asLong()); // "b", {"k":1}, "c"
            assertEquals("{\"k\":1}", r.get("first").toString());
            assertEquals("c", r.get("last").asText());
            assertEquals(10, r.get("isum").asLong());
            assertTrue(r.get("isum").isIntegralNumber());
        }
    }

    @Test
    void measuresOfNoNumbersAreZeroOrNull() {
        String measures = "[{'name':'sum','op':'sum','field':'value.x'},{'name':'avg','op':'avg','field':'value.x'},"
                + "{'name':'min','op':'min','field':'value.x'},{'name':'d','op':'count_distinct','field':'value.x'}]";
        try (Harness h = new Harness(Harness.definition(TUMBLING, measures, ""))) {
            h.send("a", "{}", 1000);
            ObjectNode r = last(h.results());
            assertEquals(0, r.get("sum").asLong());
            assertTrue(r.get("avg").isNull());
            assertTrue(r.get("min").isNull());
            assertEquals(0, r.get("d").asLong());
        }
    }

    @Test
    void filterAndGroupBy() {
        try (Harness h = new Harness(Harness.definition(TUMBLING, "[{'name':'n','op':'count'}]",
                "'filter':'value.amount > `100` && headers.source != \\u0027test\\u0027',"
                        + "'group_by':'value.provider','emit':'on_update','late':'drop'"))) {
            h.send("k1", "{'amount':150,'provider':'p1'}", 1000);
            h.send("k2", "{'amount':50,'provider':'p1'}", 1000);   // filtered out
            h.send("k3", "{'amount':500,'provider':'p2'}", 1000);
            h.send("k4", "{'amount':101,'provider':'p1'}", 1000);
            h.send("k5", "{'amount':101,'provider':7}", 1000);      // a number: its compact JSON
            h.send("k6", "{'provider':'p1'}", 1000);                // no amount: the comparison is null, falsy
            Map<String, Long> counts = h.results().stream().collect(Collectors.toMap(
                    r -> r.get("group").asText(), r -> r.get("n").asLong(), Math::max));
            assertEquals(Map.of("p1", 2L, "p2", 1L, "7", 1L), counts);
        }
    }

    @Test
    void groupByNullIsTheRecordKey() {
        try (Harness h = new Harness(Harness.definition(TUMBLING, "[{'name':'n','op':'count'}]", ""))) {
            h.send("key-1", "{}", 1000);
            h.send("key-1", "{}", 2000);
            assertEquals("key-1", last(h.results()).get("group").asText());
            assertEquals(2, h.counters.windowsEmitted.get());
        }
    }

    @Test
    void timeFromAFieldInMillisOrRfc3339() {
        try (Harness h = new Harness(Harness.definition(TUMBLING, "[{'name':'n','op':'count'}]",
                "'time':{'source':'field','field':'value.at'},'emit':'on_update','late':'drop'"))) {
            h.send("a", "{'at':120000}", 1);                          // record time 1 ms, event time 2 min
            h.send("a", "{'at':'1970-01-01T00:02:30.000+00:00'}", 1); // 2.5 min
            h.send("a", "{'at':'1970-01-01T01:00:00Z'}", 1);          // an hour
            List<ObjectNode> results = h.results();
            assertEquals("1970-01-01T00:02:00.000Z", results.get(0).get("window_start").asText());
            assertEquals(2, results.get(1).get("n").asLong());
            assertEquals("1970-01-01T01:00:00.000Z", results.get(2).get("window_start").asText());
            h.send("a", "{'at':60000}", 7200000); // behind stream time (1 h) by more than grace: late
            assertEquals(1, h.counters.lateDropped.get());
        }
    }
}
