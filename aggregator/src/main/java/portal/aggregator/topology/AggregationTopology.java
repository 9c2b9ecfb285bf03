package portal.aggregator.topology;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Map;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.AutoOffsetReset;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Branched;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.EmitStrategy;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KGroupedStream;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.apache.kafka.streams.kstream.SessionWindows;
import org.apache.kafka.streams.kstream.SlidingWindows;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.SessionStore;
import org.apache.kafka.streams.state.WindowStore;
import portal.aggregator.serde.JsonSchemaWireSerializer;
import portal.aggregator.serde.WireFormatDecoder;

/**
 * The one topology builder, used by the running engine and by the preview's TopologyTestDriver alike:
 *
 * <pre>
 * source ──admission (decode, filter, time, group key, fields)──┬─ late (undecodable, no time) ─> dead letter | count
 *                                                               └─ repartition by group key ("group")
 *     ──lateness gate──┬─ late (window closed) ─> dead letter | count
 *                      └─ windowed aggregate ("agg": tumbling/hopping/sliding/session, on_update|on_close) ─> output
 * </pre>
 *
 * The repartition and store names are fixed, so the internal topics are {@code <application.id>-group-repartition}
 * and {@code <application.id>-agg-changelog} (plus Kafka Streams' own for on_close).
 */
public final class AggregationTopology {
    public static final String LATE_REASON_HEADER = "portal.late.reason";
    private static final DateTimeFormatter ISO_MILLIS =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private AggregationTopology() {
    }

    public static Topology build(Definition d, WireFormatDecoder decoder, Counters counters) {
        return build(d, decoder, counters, d.outputTopic, d.deadLetterTopic, d.lateToDeadLetter);
    }

    /** The preview writes to topics of its own and always sends late events on, to report them. */
    public static Topology build(Definition d, WireFormatDecoder decoder, Counters counters, String outputTopic,
                                 String deadLetterTopic, boolean deadLetter) {
        if (!d.valid()) {
            throw new IllegalArgumentException("invalid definition: " + d.errors);
        }
        StreamsBuilder builder = new StreamsBuilder();
        Consumed<byte[], byte[]> consumed = Consumed.with(Serdes.ByteArray(), Serdes.ByteArray())
                .withOffsetResetPolicy("latest".equals(d.startFrom) ? AutoOffsetReset.latest() : AutoOffsetReset.earliest())
                .withName("source");
        if (d.timeFromField) {
            consumed = consumed.withTimestampExtractor(new EventTimeExtractor(d, decoder));
        }
        KStream<String, Envelope> admitted = builder.stream(d.sourceTopic, consumed)
                .process(() -> new Admission(d, decoder, counters), Named.as("admission"));
        Map<String, KStream<String, Envelope>> first = admitted.split(Named.as("admitted-"))
                .branch((k, e) -> e.lateReason != null, Branched.as("late"))
                .defaultBranch(Branched.as("ok"));
        handleLate(first.get("admitted-late"), "unreadable", counters, deadLetterTopic, deadLetter);

        KStream<String, Envelope> gated = first.get("admitted-ok")
                .repartition(Repartitioned.with(Serdes.String(), Envelope.SERDE).withName("group"))
                .processValues(() -> new LatenessGate(d), Named.as("lateness"));
        Map<String, KStream<String, Envelope>> second = gated.split(Named.as("timely-"))
                .branch((k, e) -> e.lateReason != null, Branched.as("late"))
                .defaultBranch(Branched.as("ok"));
        handleLate(second.get("timely-late"), "closed", counters, deadLetterTopic, deadLetter);

        Measures measures = new Measures(d.measures);
        KGroupedStream<String, Envelope> grouped = second.get("timely-ok")
                .groupByKey(Grouped.with("grouped", Serdes.String(), Envelope.SERDE));
        KStream<Windowed<String>, ObjectNode> results = switch (d.windowType) {
            case SESSION -> {
                var windowed = grouped.windowedBy(SessionWindows.ofInactivityGapAndGrace(
                        Duration.ofMillis(d.gapMs), Duration.ofMillis(d.graceMs)));
                if (d.emitOnClose) {
                    windowed = windowed.emitStrategy(EmitStrategy.onWindowClose());
                }
                yield windowed.aggregate(measures::init,
                        (k, e, s) -> measures.add(s, e.time, e.fields),
                        (k, a, b) -> measures.merge(a, b),
                        retained(d, Materialized.<String, ObjectNode, SessionStore<Bytes, byte[]>>as("agg")
                                .withKeySerde(Serdes.String()).withValueSerde(Measures.STATE_SERDE)))
                        .toStream(Named.as("results"));
            }
            case SLIDING, TUMBLING, HOPPING -> {
                var windowed = d.windowType == Definition.WindowType.SLIDING
                        ? grouped.windowedBy(SlidingWindows.ofTimeDifferenceAndGrace(
                                Duration.ofMillis(d.sizeMs), Duration.ofMillis(d.graceMs)))
                        : grouped.windowedBy(timeWindows(d));
                if (d.emitOnClose) {
                    windowed = windowed.emitStrategy(EmitStrategy.onWindowClose());
                }
                yield windowed.aggregate(measures::init,
                        (k, e, s) -> measures.add(s, e.time, e.fields),
                        retained(d, Materialized.<String, ObjectNode, WindowStore<Bytes, byte[]>>as("agg")
                                .withKeySerde(Serdes.String()).withValueSerde(Measures.STATE_SERDE)))
                        .toStream(Named.as("results"));
            }
        };
        // A session that merged into a larger one is withdrawn with a null; the output is keyed by the group
        // alone, so such a withdrawal is not a result (and must not become a tombstone of the group).
        JsonSchemaWireSerializer writer = new JsonSchemaWireSerializer(d.outputSchemaId);
        IsoTime starts = new IsoTime();
        IsoTime ends = new IsoTime();
        results.filter((k, state) -> state != null, Named.as("not-withdrawn"))
                .map((windowed, state) -> {
                    ObjectNode out = NODES.objectNode();
                    out.put("group", windowed.key());
                    out.put("window_start", starts.format(windowed.window().start()));
                    out.put("window_end", ends.format(windowed.window().end()));
                    measures.output(state, out);
                    counters.windowsEmitted.incrementAndGet();
                    return KeyValue.pair(windowed.key(), writer.serialize(out));
                }, Named.as("output-value"))
                .to(outputTopic, Produced.with(Serdes.String(), Serdes.ByteArray()).withName("output"));
        return builder.build();
    }

    /**
     * on_close: Kafka Streams stores the event that closes a window before it emits the closed windows, and its
     * store's default retention (size or gap, plus grace) lets that event expire them first when it jumps further
     * ahead than that (an event an hour after a 5 s session: the session was never emitted). Windows are kept an
     * hour longer, so a jump of up to an hour past the close still emits them.
     */
    private static <S extends org.apache.kafka.streams.processor.StateStore> Materialized<String, ObjectNode, S> retained(
            Definition d, Materialized<String, ObjectNode, S> materialized) {
        // No record cache in front of the store whatever the engine's settings: on_update is one result per
        // update, and a cache would merge updates between commits.
        materialized = materialized.withCachingDisabled();
        if (!d.emitOnClose) {
            return materialized;
        }
        long span = d.windowType == Definition.WindowType.SESSION ? d.gapMs : d.sizeMs;
        return materialized.withRetention(Duration.ofMillis(2 * span + d.graceMs + CLOSE_JUMP_MS));
    }

    static final long CLOSE_JUMP_MS = 3_600_000;

    /**
     * A window bound as ISO text, the last one remembered: consecutive results mostly share their window, and
     * formatting a time is a good part of writing a result. Thread-safe (one immutable pair swapped whole).
     */
    static final class IsoTime {
        private record Last(long ms, String text) {
        }

        private volatile Last last = new Last(Long.MIN_VALUE, null);

        String format(long ms) {
            Last l = last;
            if (l.ms() == ms) {
                return l.text();
            }
            String text = ISO_MILLIS.format(Instant.ofEpochMilli(ms));
            last = new Last(ms, text);
            return text;
        }
    }

    private static TimeWindows timeWindows(Definition d) {
        TimeWindows w = TimeWindows.ofSizeAndGrace(Duration.ofMillis(d.sizeMs), Duration.ofMillis(d.graceMs));
        return d.windowType == Definition.WindowType.HOPPING ? w.advanceBy(Duration.ofMillis(d.advanceMs)) : w;
    }

    private static void handleLate(KStream<String, Envelope> late, String name, Counters counters,
                                   String deadLetterTopic, boolean deadLetter) {
        if (!deadLetter) {
            late.foreach((k, e) -> counters.lateDropped.incrementAndGet(), Named.as("late-" + name + "-dropped"));
            return;
        }
        late.process(() -> new DeadLetter(counters), Named.as("late-" + name + "-original"))
                .to(deadLetterTopic, Produced.with(Serdes.ByteArray(), Serdes.ByteArray())
                        .withName("late-" + name + "-dead-letter"));
    }

    /** The original record again (key, value, headers, timestamp) with the reason header added. */
    static final class DeadLetter implements Processor<String, Envelope, byte[], byte[]> {
        private final Counters counters;
        private ProcessorContext<byte[], byte[]> context;

        DeadLetter(Counters counters) {
            this.counters = counters;
        }

        @Override
        public void init(ProcessorContext<byte[], byte[]> context) {
            this.context = context;
        }

        @Override
        public void process(Record<String, Envelope> record) {
            RecordHeaders headers = new RecordHeaders(record.headers().toArray());
            headers.remove(LATE_REASON_HEADER);
            headers.add(LATE_REASON_HEADER, record.value().lateReason.getBytes(StandardCharsets.UTF_8));
            counters.lateDeadLettered.incrementAndGet();
            context.forward(new Record<>(record.value().rawKey, record.value().rawValue, record.timestamp(), headers));
        }
    }

    /** For the tests and the preview: the wire-format header is five bytes. */
    public static byte[] stripWireHeader(byte[] value) {
        return WireFormatDecoder.schemaId(value) < 0 ? value : java.util.Arrays.copyOfRange(value, 5, value.length);
    }
}
