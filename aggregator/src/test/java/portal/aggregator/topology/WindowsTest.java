package portal.aggregator.topology;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import portal.aggregator.serde.InMemorySchemaSource;

class WindowsTest {
    private static final String COUNT_SUM = "[{'name':'n','op':'count'},{'name':'total','op':'sum','field':'value.amount'}]";

    /** The last result of each (group, window_start): what an on_update consumer ends with. */
    private static Map<String, ObjectNode> latest(List<ObjectNode> results) {
        Map<String, ObjectNode> latest = new HashMap<>();
        results.forEach(r -> latest.put(r.get("group").asText() + "@" + r.get("window_start").asText(), r));
        return latest;
    }

    @Test
    void tumblingCountAndSumPerKeyAreExact() {
        try (Harness h = new Harness(Harness.definition(
                "{'type':'tumbling','size_ms':60000,'advance_ms':null,'gap_ms':null,'grace_ms':0}", COUNT_SUM, ""),
                new InMemorySchemaSource(), true)) {
            Random random = new Random(7);
            Map<String, long[]> expected = new HashMap<>();
            long time = 0;
            for (int i = 0; i < 2000; i++) {
                time += random.nextInt(200); // in order, so nothing is late
                String key = "k" + random.nextInt(13);
                long amount = random.nextInt(1000);
                h.send(key, "{'amount':" + amount + "}", time);
                long[] e = expected.computeIfAbsent(key + "@" + (time / 60000), k -> new long[2]);
                e[0]++;
                e[1] += amount;
            }
            Map<String, ObjectNode> latest = latest(h.results());
            assertEquals(expected.size(), latest.size());
            for (ObjectNode r : latest.values()) {
                long windowIndex = java.time.Instant.parse(r.get("window_start").asText()).toEpochMilli() / 60000;
                long[] e = expected.get(r.get("group").asText() + "@" + windowIndex);
                assertEquals(e[0], r.get("n").asLong(), r.toString());
                assertEquals(e[1], r.get("total").asLong(), r.toString());
                assertTrue(r.get("total").isIntegralNumber());
            }
            assertEquals(2000, h.counters.recordsIn.get());
            assertEquals(0, h.counters.lateDropped.get());
        }
    }

    @Test
    void hoppingCountsAnEventInEveryWindowItFallsIn() {
        try (Harness h = new Harness(Harness.definition(
                "{'type':'hopping','size_ms':10000,'advance_ms':5000,'gap_ms':null,'grace_ms':0}", COUNT_SUM, ""))) {
            h.send("a", "{'amount':1}", 7000);
            h.send("a", "{'amount':2}", 12000);
            Map<String, ObjectNode> latest = latest(h.results());
            assertEquals(1, latest.get("a@1970-01-01T00:00:00.000Z").get("n").asLong()); // [0,10): 7s
            assertEquals(2, latest.get("a@1970-01-01T00:00:05.000Z").get("n").asLong()); // [5,15): 7s, 12s
            assertEquals(3, latest.get("a@1970-01-01T00:00:05.000Z").get("total").asLong());
            assertEquals(1, latest.get("a@1970-01-01T00:00:10.000Z").get("n").asLong()); // [10,20): 12s
            assertEquals("1970-01-01T00:00:15.000Z", latest.get("a@1970-01-01T00:00:05.000Z").get("window_end").asText());
        }
    }

    @Test
    void slidingWindowsHoldTheEventsWithinTheTimeDifference() {
        try (Harness h = new Harness(Harness.definition(
                "{'type':'sliding','size_ms':10000,'advance_ms':null,'gap_ms':null,'grace_ms':0}", COUNT_SUM, ""))) {
            h.send("a", "{'amount':1}", 10000);
            h.send("a", "{'amount':2}", 15000);
            h.send("a", "{'amount':4}", 30000);
            Map<String, ObjectNode> latest = latest(h.results());
            // [5s,15s] holds both first events; [20s,30s] only the last; nothing holds the first and the last.
            assertEquals(3, latest.get("a@1970-01-01T00:00:05.000Z").get("total").asLong());
            assertEquals(4, latest.get("a@1970-01-01T00:00:20.000Z").get("total").asLong());
            assertTrue(latest.values().stream().noneMatch(r -> r.get("total").asLong() >= 5), latest.toString());
        }
    }

    @Test
    void sessionClosesOnItsGapAndEmitsOnce() {
        try (Harness h = new Harness(Harness.definition(
                "{'type':'session','size_ms':null,'advance_ms':null,'gap_ms':5000,'grace_ms':0}", COUNT_SUM,
                "'emit':'on_close','late':'drop'"))) {
            h.send("a", "{'amount':1}", 1000);
            h.send("a", "{'amount':2}", 4000);
            h.send("b", "{'amount':5}", 4500);
            assertEquals(List.of(), h.results()); // still open: nothing before the gap has passed
            h.send("a", "{'amount':4}", 9500); // 4s + 5s gap < 9.5s: a new session, the first one closes
            List<ObjectNode> results = h.results();
            assertEquals(1, results.size(), results.toString());
            ObjectNode first = results.get(0);
            assertEquals("a", first.get("group").asText());
            assertEquals(2, first.get("n").asLong());
            assertEquals(3, first.get("total").asLong());
            assertEquals("1970-01-01T00:00:01.000Z", first.get("window_start").asText());
            assertEquals("1970-01-01T00:00:04.000Z", first.get("window_end").asText());
            h.send("a", "{'amount':8}", 30000);
            Map<String, Long> counts = h.results().stream().collect(Collectors.toMap(
                    r -> r.get("group").asText() + "@" + r.get("window_start").asText(), r -> r.get("n").asLong()));
            assertEquals(Map.of("b@1970-01-01T00:00:04.500Z", 1L, "a@1970-01-01T00:00:09.500Z", 1L), counts);
        }
    }

    @Test
    void sessionOnUpdateMergesSessionsWithoutWithdrawalRecords() {
        try (Harness h = new Harness(Harness.definition(
                "{'type':'session','size_ms':null,'advance_ms':null,'gap_ms':5000,'grace_ms':10000}", COUNT_SUM, ""))) {
            h.send("a", "{'amount':1}", 1000);
            h.send("a", "{'amount':2}", 9000);
            h.send("a", "{'amount':4}", 5000); // bridges both sessions into [1s, 9s]
            List<ObjectNode> results = h.results();
            assertEquals(3, results.size(), results.toString());
            ObjectNode merged = results.get(2);
            assertEquals(3, merged.get("n").asLong());
            assertEquals(7, merged.get("total").asLong());
            assertEquals("1970-01-01T00:00:09.000Z", merged.get("window_end").asText());
        }
    }

    @Test
    void onCloseEmitsOneFinalResultPerWindow() {
        try (Harness h = new Harness(Harness.definition(
                "{'type':'tumbling','size_ms':10000,'advance_ms':null,'gap_ms':null,'grace_ms':2000}", COUNT_SUM,
                "'emit':'on_close','late':'drop'"))) {
            h.send("a", "{'amount':1}", 1000);
            h.send("a", "{'amount':2}", 5000);
            h.send("b", "{'amount':3}", 9000);
            h.send("a", "{'amount':4}", 11000); // [0,10) closes at 10s + 2s grace: not yet
            assertEquals(List.of(), h.results());
            h.send("a", "{'amount':8}", 12000);
            List<ObjectNode> results = h.results();
            assertEquals(2, results.size(), results.toString());
            Map<String, Long> totals = results.stream().collect(Collectors.toMap(
                    r -> r.get("group").asText(), r -> r.get("total").asLong()));
            assertEquals(Map.of("a", 3L, "b", 3L), totals);
            h.send("a", "{'amount':16}", 13000);
            assertEquals(List.of(), h.results()); // never a second result for a closed window
        }
    }

    /** A window closed by an event far later than size + grace (the store's default retention) is still emitted. */
    @Test
    void onCloseEmitsWindowsThatAFarLaterEventCloses() {
        long base = 1_767_225_600_000L;
        for (String window : List.of(
                "{'type':'session','size_ms':null,'advance_ms':null,'gap_ms':5000,'grace_ms':0}",
                "{'type':'tumbling','size_ms':10000,'advance_ms':null,'gap_ms':null,'grace_ms':0}")) {
            try (Harness h = new Harness(Harness.definition(window, COUNT_SUM, "'emit':'on_close','late':'drop'"))) {
                h.send("p1", "{'amount':1}", base);
                h.send("p1", "{'amount':2}", base + 3000);
                h.send("p1", "{'amount':4}", base + 7000);
                assertEquals(List.of(), h.results());
                h.send("p1", "{'amount':100}", base + 20 * 60_000);
                List<ObjectNode> results = h.results();
                assertEquals(1, results.size(), window + " " + results);
                assertEquals(7, results.get(0).get("total").asLong());
            }
        }
    }
}
