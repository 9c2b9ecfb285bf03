package portal.aggregator.topology;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.Test;

class LateEventsTest {
    private static final String TUMBLING = "{'type':'tumbling','size_ms':10000,'advance_ms':null,'gap_ms':null,'grace_ms':2000}";
    private static final String COUNT = "[{'name':'n','op':'count'}]";

    @Test
    void lateEventsAreDroppedAndCounted() {
        try (Harness h = new Harness(Harness.definition(TUMBLING, COUNT, "'emit':'on_update','late':'drop'"))) {
            h.send("a", "{}", 5000);
            h.send("a", "{}", 15000); // stream time 15s: [0,10) closed at 12s
            h.send("a", "{}", 9000);  // late
            h.send("a", "{}", 11000); // [10,20): on time
            List<ObjectNode> results = h.results();
            assertEquals(3, results.size());
            assertTrue(results.stream().noneMatch(r -> r.get("n").asLong() == 2
                    && r.get("window_start").asText().endsWith("00:00:00.000Z")));
            assertEquals(1, h.counters.lateDropped.get());
            assertEquals(0, h.counters.lateDeadLettered.get());
        }
    }

    @Test
    void withinGraceIsNotLate() {
        try (Harness h = new Harness(Harness.definition(TUMBLING, COUNT, "'emit':'on_update','late':'drop'"))) {
            h.send("a", "{}", 11500);
            h.send("a", "{}", 9000); // [0,10) closes at 12s: still open
            assertEquals(0, h.counters.lateDropped.get());
            assertEquals(2, h.results().size());
        }
    }

    @Test
    void lateEventsGoToTheDeadLetterTopicAsTheyCame() {
        try (Harness h = new Harness(Harness.definition(TUMBLING, COUNT, "'emit':'on_update','late':'dead_letter'"))) {
            h.send("a", "{}", 15000);
            RecordHeaders headers = new RecordHeaders();
            headers.add("trace", "t-1".getBytes(StandardCharsets.UTF_8));
            byte[] value = "{\"late\":true}".getBytes(StandardCharsets.UTF_8);
            h.send("a".getBytes(StandardCharsets.UTF_8), value, 1000, headers);
            List<TestRecord<byte[], byte[]>> dead = h.dead.readRecordsToList();
            assertEquals(1, dead.size());
            TestRecord<byte[], byte[]> record = dead.get(0);
            assertArrayEquals("a".getBytes(StandardCharsets.UTF_8), record.key());
            assertArrayEquals(value, record.value());
            assertEquals(1000, record.timestamp());
            assertEquals("t-1", new String(record.headers().lastHeader("trace").value(), StandardCharsets.UTF_8));
            String reason = new String(record.headers().lastHeader(AggregationTopology.LATE_REASON_HEADER).value(),
                    StandardCharsets.UTF_8);
            assertTrue(reason.startsWith("late: event time 1970-01-01T00:00:01Z"), reason);
            assertEquals(1, h.counters.lateDeadLettered.get());
            assertEquals(1, h.results().size());
        }
    }

    @Test
    void undecodableAndTimelessEventsAreLateWithTheirReason() {
        try (Harness h = new Harness(Harness.definition(TUMBLING, COUNT,
                "'time':{'source':'field','field':'value.at'},'emit':'on_update','late':'dead_letter'"))) {
            h.send("a", "{'at':'yesterday'}", 1000);
            h.send("a".getBytes(StandardCharsets.UTF_8), new byte[] {0, 0, 0, 0, 9, 1}, 1000, new RecordHeaders());
            List<TestRecord<byte[], byte[]>> dead = h.dead.readRecordsToList();
            assertEquals(2, dead.size());
            String first = new String(dead.get(0).headers().lastHeader(AggregationTopology.LATE_REASON_HEADER).value(),
                    StandardCharsets.UTF_8);
            assertTrue(first.startsWith("time unreadable: value.at"), first);
            String second = new String(dead.get(1).headers().lastHeader(AggregationTopology.LATE_REASON_HEADER).value(),
                    StandardCharsets.UTF_8);
            assertTrue(second.startsWith("undecodable:"), second);
            assertEquals(List.of(), h.results());
        }
    }

    @Test
    void anExpressionFailingOnOneEventSetsThatEventAside() {
        try (Harness h = new Harness(Harness.definition(TUMBLING, COUNT,
                "'filter':'starts_with(value.name, \\u0027a\\u0027)','emit':'on_update','late':'dead_letter'"))) {
            h.send("k", "{'name':42}", 1000);   // starts_with on a number: a JMESPath type error
            h.send("k", "{'name':'ann'}", 2000);
            h.send("k", "{'name':'bob'}", 3000);
            List<TestRecord<byte[], byte[]>> dead = h.dead.readRecordsToList();
            assertEquals(1, dead.size());
            String reason = new String(dead.get(0).headers().lastHeader(AggregationTopology.LATE_REASON_HEADER).value(),
                    StandardCharsets.UTF_8);
            assertTrue(reason.startsWith("expression failed:"), reason);
            assertEquals(1, h.results().size());
        }
    }
}
