package portal.aggregator.topology;

import java.time.Instant;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.streams.processor.api.FixedKeyProcessor;
import org.apache.kafka.streams.processor.api.FixedKeyProcessorContext;
import org.apache.kafka.streams.processor.api.FixedKeyRecord;

/**
 * Marks the events that the windowed aggregation right after it would drop as too late, so they can be
 * counted or dead-lettered instead of vanishing.
 *
 * <p>It sits directly before the aggregation, in the same task, and sees exactly the records the aggregation
 * sees, in the same order. It keeps the same "observed stream time" as Kafka Streams' window processors (the
 * largest timestamp seen by this task's instance, in memory, so it starts again with the task exactly as
 * theirs does) and applies their rules (KStreamWindowAggregate, KStreamSlidingWindowAggregate,
 * KStreamSessionWindowAggregate in 4.1):
 * <ul>
 * <li>tumbling/hopping: a window is closed when its end &lt;= stream time - grace; an event is late when every
 * window it belongs to is closed (a hopping event whose older windows alone are closed still counts in the
 * open ones, as Kafka Streams does);</li>
 * <li>sliding: late when time + size &lt; stream time - grace;</li>
 * <li>session: late when time &lt; stream time - grace - gap. Kafka Streams would still take such an event
 * when it merges into a later session that is open; here it is late (an edge: only an event that arrives out
 * of order by more than grace + gap).</li>
 * </ul>
 */
final class LatenessGate implements FixedKeyProcessor<String, Envelope, Envelope> {
    private final Definition d;
    private FixedKeyProcessorContext<String, Envelope> context;
    private long observedStreamTime = ConsumerRecord.NO_TIMESTAMP;

    LatenessGate(Definition definition) {
        this.d = definition;
    }

    @Override
    public void init(FixedKeyProcessorContext<String, Envelope> context) {
        this.context = context;
    }

    @Override
    public void process(FixedKeyRecord<String, Envelope> record) {
        long t = record.timestamp();
        observedStreamTime = Math.max(observedStreamTime, t);
        long closeTime = observedStreamTime - d.graceMs;
        boolean late = switch (d.windowType) {
            case TUMBLING -> windowEnd(t, d.sizeMs, d.sizeMs) <= closeTime;
            case HOPPING -> windowEnd(t, d.sizeMs, d.advanceMs) <= closeTime;
            case SLIDING -> t + d.sizeMs < closeTime;
            case SESSION -> t < closeTime - d.gapMs;
        };
        Envelope e = record.value();
        if (late) {
            e.lateReason = "late: event time " + Instant.ofEpochMilli(t) + " is past its window's close (stream time "
                    + Instant.ofEpochMilli(observedStreamTime) + ", grace " + d.graceMs + " ms)";
        }
        context.forward(record.withValue(e));
    }

    /** The end of the latest window that contains t (the one starting at the last advance boundary <= t). */
    static long windowEnd(long t, long size, long advance) {
        long start = t - Math.floorMod(t, advance);
        return start + size;
    }
}
