package portal.aggregator.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.burt.jmespath.Expression;
import io.burt.jmespath.jackson.JacksonRuntime;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.state.WindowStore;

/**
 * Kafka Streams topologies the aggregation benchmark (scripts/bench/aggregations.py) measures next to the engine,
 * each exactly_once_v2 with the record cache off, as the engine runs:
 *
 * <ul>
 *   <li>{@code passthrough}: source to output, bytes untouched (what Kafka Streams with exactly-once costs);</li>
 *   <li>{@code repartition}: the same through a repartition topic (the engine always repartitions);</li>
 *   <li>{@code window}: repartition, then a 1-minute tumbling count per record key in RocksDB with its changelog
 *       (the engine's stateful part without decoding, expressions, lateness gate or output serde);</li>
 *   <li>{@code route RULES}: routing rules, a JSON list of {"filter": JMESPath, "destination": topic}, compiled
 *       once; each event is decoded once and copied to the destination of every rule whose filter is truthy over
 *       {"value", "key", "headers"}, as the Python router does.</li>
 * </ul>
 *
 * <p>Usage: {@code java -cp aggregator.jar portal.aggregator.bench.StreamsBench MODE BOOTSTRAP APPLICATION_ID
 * SOURCE OUTPUT STATE_DIR [RULES_FILE]}. Prints {@code RUNNING} once the instance runs; stops on SIGTERM.
 */
public final class StreamsBench {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JacksonRuntime JMESPATH = new JacksonRuntime();

    private StreamsBench() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 6) {
            System.err.println("usage: StreamsBench passthrough|repartition|window|route BOOTSTRAP APPLICATION_ID"
                    + " SOURCE OUTPUT STATE_DIR [RULES_FILE]");
            System.exit(2);
        }
        String mode = args[0];
        Properties props = new Properties();
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, args[1]);
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, args[2]);
        props.put(StreamsConfig.STATE_DIR_CONFIG, args[5]);
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        props.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 0);
        props.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.ByteArraySerde.class);
        props.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.ByteArraySerde.class);
        Topology topology = switch (mode) {
            case "passthrough", "repartition", "window" -> pipeline(mode, args[3], args[4]);
            case "route" -> route(args[3], Path.of(args[6]));
            default -> throw new IllegalArgumentException("unknown mode " + mode);
        };
        KafkaStreams streams = new KafkaStreams(topology, props);
        CountDownLatch stopped = new CountDownLatch(1);
        streams.setStateListener((now, before) -> {
            if (now == KafkaStreams.State.RUNNING) {
                System.out.println("RUNNING");
                System.out.flush();
            }
        });
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            streams.close(Duration.ofSeconds(30));
            stopped.countDown();
        }));
        streams.start();
        stopped.await();
    }

    private static Topology pipeline(String mode, String source, String output) {
        StreamsBuilder builder = new StreamsBuilder();
        KStream<byte[], byte[]> stream = builder.stream(source, Consumed.with(Serdes.ByteArray(), Serdes.ByteArray()));
        if (mode.equals("passthrough")) {
            stream.to(output, Produced.with(Serdes.ByteArray(), Serdes.ByteArray()));
            return builder.build();
        }
        KStream<byte[], byte[]> repartitioned = stream.repartition(
                Repartitioned.<byte[], byte[]>as("group").withKeySerde(Serdes.ByteArray()).withValueSerde(Serdes.ByteArray()));
        if (mode.equals("repartition")) {
            repartitioned.to(output, Produced.with(Serdes.ByteArray(), Serdes.ByteArray()));
            return builder.build();
        }
        Serde<Long> longs = Serdes.Long();
        repartitioned.groupByKey(Grouped.with(Serdes.ByteArray(), Serdes.ByteArray()))
                .windowedBy(TimeWindows.ofSizeAndGrace(Duration.ofMinutes(1), Duration.ofMinutes(10)))
                .count(Materialized.<byte[], Long, WindowStore<Bytes, byte[]>>as("agg")
                        .withKeySerde(Serdes.ByteArray()).withValueSerde(longs))
                .toStream((windowed, count) -> windowed.key())
                .to(output, Produced.with(Serdes.ByteArray(), longs));
        return builder.build();
    }

    /** One rule: its compiled filter and where matching events go. */
    private record Rule(Expression<JsonNode> filter, String destination) {
    }

    /** An event bound for one destination: the original value bytes, never re-encoded. */
    private record Routed(String destination, byte[] value) {
    }

    private static Topology route(String source, Path rulesFile) throws IOException {
        List<Rule> rules = new ArrayList<>();
        for (JsonNode rule : JSON.readTree(Files.readAllBytes(rulesFile))) {
            rules.add(new Rule(JMESPATH.compile(rule.get("filter").asText()), rule.get("destination").asText()));
        }
        Serde<Routed> routed = Serdes.serdeFrom((topic, r) -> r.value(), (topic, bytes) -> {
            throw new UnsupportedOperationException("routed values are only written");
        });
        StreamsBuilder builder = new StreamsBuilder();
        builder.stream(source, Consumed.with(Serdes.ByteArray(), Serdes.ByteArray()))
                .flatMap((key, value) -> {
                    ObjectNode doc = JSON.createObjectNode();
                    try {
                        doc.set("value", JSON.readTree(value));
                    } catch (IOException e) {
                        return List.of();
                    }
                    doc.put("key", key == null ? null : new String(key, StandardCharsets.UTF_8));
                    doc.putObject("headers");
                    List<KeyValue<byte[], Routed>> out = new ArrayList<>(1);
                    for (Rule rule : rules) {
                        if (JMESPATH.isTruthy(rule.filter().search(doc))) {
                            out.add(KeyValue.pair(key, new Routed(rule.destination(), value)));
                        }
                    }
                    return out;
                })
                .to((key, value, context) -> value.destination(), Produced.with(Serdes.ByteArray(), routed));
        return builder.build();
    }
}
