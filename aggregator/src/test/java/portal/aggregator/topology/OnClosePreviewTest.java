package portal.aggregator.topology;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import portal.aggregator.serde.InMemorySchemaSource;
import portal.aggregator.serde.WireFormatDecoder;

/**
 * Previews of on_close definitions run on in-memory stores (the engine's RocksDB stores are flushed after every
 * event by the test driver, tens of milliseconds each). These tests hold the preview to the engine: the same
 * events give the same closed windows, in the same order, as the topology on RocksDB stores does.
 */
class OnClosePreviewTest {
    private static final String MEASURES = "[{'name':'n','op':'count'},{'name':'total','op':'sum','field':'value.amount'},"
            + "{'name':'low','op':'min','field':'value.amount'},{'name':'high','op':'max','field':'value.amount'},"
            + "{'name':'mean','op':'avg','field':'value.amount'},{'name':'kinds','op':'count_distinct','field':'value.kind'},"
            + "{'name':'first_kind','op':'first','field':'value.kind'},{'name':'last_kind','op':'last','field':'value.kind'}]";

    /** Out-of-order events over a few groups: some within grace, some past it, gaps that close sessions and
     *  jumps of 50 minutes. (A jump of more than an hour past a window's close is outside the contract: the
     *  engine's RocksDB store may have dropped the window by then, depending on its segments, the in-memory
     *  store certainly has.) */
    private static List<long[]> events(long seed, int count) {
        Random random = new Random(seed);
        List<long[]> events = new ArrayList<>();
        long time = 1_000_000;
        for (int i = 0; i < count; i++) {
            int roll = random.nextInt(100);
            if (roll < 3) {
                time += 20_000 + random.nextInt(60_000); // a pause: sessions close, windows close
            } else if (roll == 3 && i > count / 2) {
                time += 3_000_000; // 50 minutes: within the hour the stores keep closed windows for
            } else {
                time += random.nextInt(1_500);
            }
            long t = roll < 15 ? Math.max(0, time - random.nextInt(12_000)) : time; // out of order, within grace or not
            events.add(new long[]{t, random.nextInt(5), random.nextInt(100), random.nextInt(4)});
        }
        return events;
    }

    private static String window(String type) {
        return switch (type) {
            case "tumbling" -> "{'type':'tumbling','size_ms':10000,'advance_ms':null,'gap_ms':null,'grace_ms':3000}";
            case "hopping" -> "{'type':'hopping','size_ms':10000,'advance_ms':4000,'gap_ms':null,'grace_ms':3000}";
            case "sliding" -> "{'type':'sliding','size_ms':5000,'advance_ms':null,'gap_ms':null,'grace_ms':3000}";
            default -> "{'type':'session','size_ms':null,'advance_ms':null,'gap_ms':6000,'grace_ms':3000}";
        };
    }

    @ParameterizedTest
    @ValueSource(strings = {"tumbling", "hopping", "sliding", "session"})
    void inMemoryStoresEmitTheWindowsOfTheEnginesRocksDbStores(String type) {
        String definition = Harness.definition(window(type), MEASURES,
                "'group_by':'value.group','emit':'on_close','late':'dead_letter'");
        List<long[]> events = events(type.hashCode(), 300);
        List<ObjectNode> engine;
        List<ObjectNode> preview;
        int engineLate;
        int previewLate;
        try (Harness rocksDb = new Harness(definition, new InMemorySchemaSource(), false)) {
            events.forEach(e -> send(rocksDb, e));
            engine = rocksDb.results();
            engineLate = rocksDb.dead.readRecordsToList().size();
        }
        try (Harness inMemory = new Harness(definition, new InMemorySchemaSource(), true)) {
            events.forEach(e -> send(inMemory, e));
            preview = inMemory.results();
            previewLate = inMemory.dead.readRecordsToList().size();
        }
        assertTrue(engine.size() > 20, type + ": too few closed windows to compare: " + engine.size());
        assertTrue(engineLate > 0, type + ": no late events in the scenario");
        assertEquals(engine, preview, firstDifference(engine, preview));
        assertEquals(engineLate, previewLate);
    }

    private static String firstDifference(List<ObjectNode> engine, List<ObjectNode> preview) {
        for (int i = 0; i < Math.min(engine.size(), preview.size()); i++) {
            if (!engine.get(i).equals(preview.get(i))) {
                return "result " + i + ": engine " + engine.get(i) + ", preview " + preview.get(i);
            }
        }
        return "engine " + engine.size() + " results, preview " + preview.size();
    }

    private static void send(Harness h, long[] e) {
        h.send("k", "{'group':'g" + e[1] + "','amount':" + e[2] + ",'kind':'x" + e[3] + "'}", e[0]);
    }

    @Test
    void aPreviewOfThousandsOfOnCloseEventsAnswersWithTheClosedWindows() throws Exception {
        int count = 5_000;
        ObjectNode body = (ObjectNode) Harness.read(("{'definition':{'source_topic':'claims','group_by':'value.group',"
                + "'window':{'type':'tumbling','size_ms':60000,'grace_ms':0},"
                + "'measures':[{'name':'n','op':'count'}],'emit':'on_close','late':'drop'},'events':[]}").replace('\'', '"'));
        ArrayNode events = (ArrayNode) body.get("events");
        for (int i = 0; i < count; i++) {
            ObjectNode event = events.addObject();
            event.put("key", "k" + i);
            event.putObject("value").put("group", "g" + (i % 3));
            event.put("timestamp_ms", i * 1_000L); // one a second: a window closes every 60 events
        }
        ObjectNode answer = Preview.run(body, new WireFormatDecoder(new InMemorySchemaSource()));
        JsonNode results = answer.get("results");
        // Every minute but the last (still open) closes, once per group, with its 60 seconds' events split over 3 groups.
        assertEquals(3 * (count / 60), results.size(), answer.toString().substring(0, 300));
        for (JsonNode r : results) {
            assertEquals(20, r.get("n").asLong(), r.toString());
        }
        assertFalse(answer.get("late").elements().hasNext());
    }
}
