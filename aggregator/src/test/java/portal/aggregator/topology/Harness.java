package portal.aggregator.topology;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.BuiltInDslStoreSuppliers;
import org.apache.kafka.streams.test.TestRecord;
import portal.aggregator.serde.InMemorySchemaSource;
import portal.aggregator.serde.WireFormatDecoder;

/** A definition on TopologyTestDriver with the engine's topology: pipe events, read results and dead letters. */
final class Harness implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();
    final Counters counters = new Counters();
    final TopologyTestDriver driver;
    final TestInputTopic<byte[], byte[]> in;
    final TestOutputTopic<String, byte[]> out;
    final TestOutputTopic<byte[], byte[]> dead;

    Harness(String definitionJson) {
        this(definitionJson, new InMemorySchemaSource(), false);
    }

    Harness(String definitionJson, InMemorySchemaSource schemas, boolean inMemoryStores) {
        Definition d = Definition.parse(read(definitionJson), false);
        if (!d.valid()) {
            throw new IllegalArgumentException(d.errors.toString());
        }
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, d.applicationId);
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "test:9092");
        props.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 0);
        // on_close emits at most once per this much wall-clock time; the driver's clock stands still.
        props.put(StreamsConfig.InternalConfig.EMIT_INTERVAL_MS_KSTREAMS_WINDOWED_AGGREGATION, 0L);
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        if (inMemoryStores) {
            // TopologyTestDriver commits (and so flushes RocksDB) after every record: thousands of events
            // take minutes with the engine's RocksDB stores, seconds in memory.
            props.put(StreamsConfig.DSL_STORE_SUPPLIERS_CLASS_CONFIG, BuiltInDslStoreSuppliers.InMemoryDslStoreSuppliers.class);
        }
        try {
            props.put(StreamsConfig.STATE_DIR_CONFIG, Files.createTempDirectory("agg-test").toString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        driver = new TopologyTestDriver(AggregationTopology.build(d, new WireFormatDecoder(schemas), counters), props);
        in = driver.createInputTopic(d.sourceTopic, new ByteArraySerializer(), new ByteArraySerializer());
        out = driver.createOutputTopic(d.outputTopic, new StringDeserializer(), new ByteArrayDeserializer());
        dead = d.deadLetterTopic == null ? null
                : driver.createOutputTopic(d.deadLetterTopic, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    static JsonNode read(String json) {
        try {
            return JSON.readTree(json);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A plain-JSON event; the value is written with single quotes for readability. */
    void send(String key, String valueJson, long timestampMs) {
        send(key == null ? null : key.getBytes(StandardCharsets.UTF_8),
                valueJson.replace('\'', '"').getBytes(StandardCharsets.UTF_8), timestampMs, new RecordHeaders());
    }

    void send(byte[] key, byte[] value, long timestampMs, RecordHeaders headers) {
        in.pipeInput(new TestRecord<>(key, value, headers, Instant.ofEpochMilli(timestampMs)));
    }

    /** Every result so far, as JSON objects after the wire header (checked to carry the schema id). */
    List<ObjectNode> results() {
        List<ObjectNode> list = new ArrayList<>();
        for (TestRecord<String, byte[]> r : out.readRecordsToList()) {
            if (r.value()[0] != 0) {
                throw new AssertionError("output not in the wire format");
            }
            ObjectNode v = (ObjectNode) read(new String(AggregationTopology.stripWireHeader(r.value()), StandardCharsets.UTF_8));
            if (!v.get("group").asText().equals(r.key())) {
                throw new AssertionError("output key " + r.key() + " is not the group " + v.get("group"));
            }
            list.add(v);
        }
        return list;
    }

    @Override
    public void close() {
        driver.close();
    }

    /** A definition row with the contract's fields; the window and the rest are given as JSON fragments. */
    static String definition(String window, String measures, String extra) {
        return ("{'format':1,'id':'t.agg','version':1,'application_id':'portal-agg.t.agg.v1',"
                + "'source_topic':'src','output_topic':'out','dead_letter_topic':'out.late',"
                + "'window':" + window + ",'measures':" + measures + ",'output_schema_id':7"
                + (extra.isEmpty() ? ",'emit':'on_update','late':'drop'" : "," + extra) + "}").replace('\'', '"');
    }
}
