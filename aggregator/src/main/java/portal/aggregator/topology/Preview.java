package portal.aggregator.topology;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Stream;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.BuiltInDslStoreSuppliers;
import org.apache.kafka.streams.test.TestRecord;
import portal.aggregator.serde.WireFormatDecoder;

/**
 * POST /preview: the definition run over the given events by TopologyTestDriver with the same topology the
 * engine runs. Late events are always sent on here (to a topic of the preview's own) so each one can be
 * reported with its index, carried in a header of its own through the repartition.
 */
public final class Preview {
    public static final int MAX_EVENTS = 10_000;
    static final String INDEX_HEADER = "portal.preview.index";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String OUT = "preview-output";
    private static final String LATE = "preview-late";

    /** Thrown with the field errors of a request the engine cannot run (the 400 answer). */
    public static final class Invalid extends Exception {
        public final Map<String, List<String>> errors;

        Invalid(Map<String, List<String>> errors) {
            super(errors.toString());
            this.errors = errors;
        }
    }

    private Preview() {
    }

    public static ObjectNode run(JsonNode body, WireFormatDecoder decoder) throws Invalid {
        if (body == null || !body.isObject()) {
            throw new Invalid(Map.of("", List.of("must be a JSON object with definition and events")));
        }
        Definition d = Definition.parse(body.get("definition"), true);
        Map<String, List<String>> errors = new java.util.LinkedHashMap<>();
        d.errors.forEach((path, messages) -> errors.put(path.isEmpty() ? "definition" : "definition." + path, messages));
        JsonNode events = body.get("events");
        if (events == null || !events.isArray()) {
            errors.put("events", List.of("must be a list"));
        } else if (events.size() > MAX_EVENTS) {
            errors.put("events", List.of("at most " + MAX_EVENTS + " events"));
        } else {
            for (int i = 0; i < events.size(); i++) {
                JsonNode ts = events.get(i).get("timestamp_ms");
                if (!events.get(i).isObject()) {
                    errors.put("events[" + i + "]", List.of("must be an object"));
                } else if (ts == null || !ts.isIntegralNumber() || ts.asLong() < 0) {
                    errors.put("events[" + i + "].timestamp_ms", List.of("must be an integer >= 0"));
                }
            }
        }
        if (!errors.isEmpty()) {
            throw new Invalid(errors);
        }
        Counters counters = new Counters();
        Path stateDir = null;
        try {
            stateDir = Files.createTempDirectory("aggregator-preview");
            Properties props = new Properties();
            props.put(StreamsConfig.APPLICATION_ID_CONFIG, "preview");
            props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "preview:9092");
            props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
            props.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 0);
            // on_close emits at most once per this much wall-clock time; the driver's clock stands still.
            props.put(StreamsConfig.InternalConfig.EMIT_INTERVAL_MS_KSTREAMS_WINDOWED_AGGREGATION, 0L);
            // The driver commits, and so flushes RocksDB, after every event: tens of milliseconds an event, minutes
            // for 10,000. Kafka Streams' in-memory stores emit on close as its RocksDB stores do (same windows, same
            // order: OnClosePreviewTest holds them to it), so every preview runs in memory. They differ only past
            // the documented hour: a window whose close an event jumps more than an hour beyond may be lost,
            // by the in-memory store exactly at its retention, by RocksDB at a segment boundary after it.
            props.put(StreamsConfig.DSL_STORE_SUPPLIERS_CLASS_CONFIG,
                    BuiltInDslStoreSuppliers.InMemoryDslStoreSuppliers.class);
            try (TopologyTestDriver driver = new TopologyTestDriver(
                    AggregationTopology.build(d, decoder, counters, OUT, LATE, true), props)) {
                TestInputTopic<byte[], byte[]> in = driver.createInputTopic(d.sourceTopic,
                        new ByteArraySerializer(), new ByteArraySerializer());
                for (int i = 0; i < events.size(); i++) {
                    JsonNode event = events.get(i);
                    RecordHeaders headers = new RecordHeaders();
                    event.path("headers").fields().forEachRemaining(h ->
                            headers.add(h.getKey(), (h.getValue().isTextual() ? h.getValue().asText()
                                    : h.getValue().toString()).getBytes(StandardCharsets.UTF_8)));
                    headers.add(INDEX_HEADER, Integer.toString(i).getBytes(StandardCharsets.UTF_8));
                    in.pipeInput(new TestRecord<>(keyBytes(event.get("key")), JSON.writeValueAsBytes(event.get("value")),
                            headers, Instant.ofEpochMilli(event.get("timestamp_ms").asLong())));
                }
                ObjectNode answer = JSON.createObjectNode();
                ArrayNode results = answer.putArray("results");
                TestOutputTopic<byte[], byte[]> out = driver.createOutputTopic(OUT,
                        new ByteArrayDeserializer(), new ByteArrayDeserializer());
                for (byte[] value : out.readValuesToList()) {
                    results.add(JSON.readTree(AggregationTopology.stripWireHeader(value)));
                }
                ArrayNode late = answer.putArray("late");
                TestOutputTopic<byte[], byte[]> lateOut = driver.createOutputTopic(LATE,
                        new ByteArrayDeserializer(), new ByteArrayDeserializer());
                for (TestRecord<byte[], byte[]> record : lateOut.readRecordsToList()) {
                    ObjectNode item = late.addObject();
                    Header index = record.headers().lastHeader(INDEX_HEADER);
                    Header reason = record.headers().lastHeader(AggregationTopology.LATE_REASON_HEADER);
                    item.put("index", Integer.parseInt(new String(index.value(), StandardCharsets.UTF_8)));
                    item.put("reason", new String(reason.value(), StandardCharsets.UTF_8));
                }
                return answer;
            }
        } catch (IOException e) {
            throw new IllegalStateException("preview failed: " + e.getMessage(), e);
        } finally {
            deleteQuietly(stateDir);
        }
    }

    /** A string key as its UTF-8 bytes, any other JSON as compact JSON, null as no key. */
    private static byte[] keyBytes(JsonNode key) {
        if (key == null || key.isNull()) {
            return null;
        }
        return (key.isTextual() ? key.asText() : key.toString()).getBytes(StandardCharsets.UTF_8);
    }

    private static void deleteQuietly(Path dir) {
        if (dir == null) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // a temporary directory left behind is harmless
        }
    }
}
