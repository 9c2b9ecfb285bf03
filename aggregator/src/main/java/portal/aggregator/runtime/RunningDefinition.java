package portal.aggregator.runtime;

import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import portal.aggregator.serde.WireFormatDecoder;
import portal.aggregator.topology.AggregationTopology;
import portal.aggregator.topology.Counters;
import portal.aggregator.topology.Definition;

/**
 * One version of one definition in this process: its own KafkaStreams instance (application.id from the row,
 * exactly_once_v2), its counters and its state for the status row. A failure stays inside: the instance goes to
 * ERROR with the error text, the process and the other definitions go on, and the engine retries it later.
 */
public final class RunningDefinition {
    private static final Logger LOG = LoggerFactory.getLogger(RunningDefinition.class);
    final Definition definition;
    final Counters counters = new Counters();
    private final EngineConfig config;
    private final WireFormatDecoder decoder;
    private final Runnable onChange;
    private volatile KafkaStreams streams;
    private volatile String state = "CREATED";
    private volatile String error;
    private volatile long erroredAtMs;

    RunningDefinition(Definition definition, EngineConfig config, WireFormatDecoder decoder, Runnable onChange) {
        this.definition = definition;
        this.config = config;
        this.decoder = decoder;
        this.onChange = onChange;
        if (!definition.valid()) {
            fail("invalid definition: " + definition.errors);
        }
    }

    String state() {
        return state;
    }

    String error() {
        return error;
    }

    boolean failedLongerThan(long ms) {
        return "ERROR".equals(state) && definition.valid() && System.currentTimeMillis() - erroredAtMs > ms;
    }

    synchronized void start() {
        if (!definition.valid()) {
            return;
        }
        try {
            Properties props = new Properties();
            props.putAll(config.clientProperties());
            props.put(StreamsConfig.APPLICATION_ID_CONFIG, definition.applicationId);
            props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
            props.put(StreamsConfig.STATE_DIR_CONFIG, config.stateDir().toString());
            props.put(StreamsConfig.CLIENT_ID_CONFIG, definition.applicationId + "-" + config.instanceId());
            // on_update: a result per update, so no record cache between the aggregation and the output.
            props.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 0);
            // on_close checks for closed windows at most this often (wall clock); Kafka Streams' default is 1 s.
            props.put(StreamsConfig.InternalConfig.EMIT_INTERVAL_MS_KSTREAMS_WINDOWED_AGGREGATION, 100L);
            staticMembership(props, definition.applicationId, config.instanceId());
            KafkaStreams s = new KafkaStreams(AggregationTopology.build(definition, decoder, counters), props);
            s.setStateListener((now, before) -> {
                state = now.name();
                if (now == KafkaStreams.State.ERROR) {
                    erroredAtMs = System.currentTimeMillis();
                }
                LOG.info("{} v{}: {} -> {}", definition.id, definition.version, before, now);
                onChange.run();
            });
            s.setUncaughtExceptionHandler(e -> {
                error = rootMessage(e);
                if (error.startsWith("MissingSourceTopicException")) {
                    // Kafka Streams does not say which: the one source topic of a definition is.
                    error += " (source topic " + definition.sourceTopic + ")";
                }
                LOG.error("{} v{} failed: {}", definition.id, definition.version, error, e);
                return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
            });
            streams = s;
            error = null;
            s.start();
        } catch (RuntimeException e) {
            fail(rootMessage(e));
        }
    }

    /**
     * Static membership: the group knows this process's consumer by a name derived from the definition's
     * application id and the engine instance ({@code <application id>.<instance id>}, other characters as '_').
     * A restarted engine with the same AGGREGATOR_INSTANCE_ID takes the killed member's place as soon as it
     * rejoins, so its partitions come back without waiting for the old session to time out. Kafka Streams
     * appends the stream thread's index to the name.
     *
     * <p>The session timeout is how long the partitions of an instance that does not come back stay unowned:
     * long enough for a restart (JVM start, then the rejoin), short enough that another instance takes them over
     * soon after a real failure.
     */
    static void staticMembership(Properties props, String applicationId, String instanceId) {
        props.put(StreamsConfig.mainConsumerPrefix(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG),
                applicationId + "." + INSTANCE_ID_UNSAFE.matcher(instanceId).replaceAll("_"));
        props.put(StreamsConfig.mainConsumerPrefix(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG), SESSION_TIMEOUT_MS);
    }

    static final int SESSION_TIMEOUT_MS = 30_000;
    /** Kafka takes only ASCII letters, digits, '.', '_' and '-' in a group instance id. */
    private static final Pattern INSTANCE_ID_UNSAFE = Pattern.compile("[^A-Za-z0-9._-]");

    /**
     * Stops the instance; with {@code cleanUp} its local state goes too (the engine deletes its topics). A static
     * member does not leave its group on close (so a restart keeps the partitions); a definition that is retired
     * or replaced by a new version leaves it explicitly, so no one waits for its session to time out.
     */
    synchronized void stop(boolean cleanUp) {
        KafkaStreams s = streams;
        if (s == null) {
            return;
        }
        s.close(new KafkaStreams.CloseOptions().timeout(Duration.ofSeconds(30)).leaveGroup(cleanUp));
        if (cleanUp) {
            try {
                s.cleanUp();
            } catch (RuntimeException e) {
                LOG.warn("{}: local state not removed: {}", definition.applicationId, e.getMessage());
            }
        }
        streams = null;
    }

    /** Closes a failed instance and starts a new one of the same application (its state and offsets stay). */
    synchronized void restart() {
        stop(false);
        state = "CREATED";
        start();
    }

    /** Records behind the end of the source topic, summed over this process's source partitions. */
    long lag() {
        KafkaStreams s = streams;
        if (s == null) {
            return 0;
        }
        double total = 0;
        for (Map.Entry<MetricName, ? extends Metric> e : s.metrics().entrySet()) {
            MetricName name = e.getKey();
            if (name.name().equals("records-lag") && name.group().equals("consumer-fetch-manager-metrics")
                    && definition.sourceTopic.equals(name.tags().get("topic"))
                    && !name.tags().getOrDefault("client-id", "").contains("restore")) {
                Object value = e.getValue().metricValue();
                if (value instanceof Double d && !d.isNaN()) {
                    total += d;
                }
            }
        }
        return (long) total;
    }

    private void fail(String message) {
        error = message;
        state = "ERROR";
        erroredAtMs = System.currentTimeMillis();
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getClass().getSimpleName() + ": " + t.getMessage();
    }
}
