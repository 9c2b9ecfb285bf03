package portal.aggregator.topology;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Arrays;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import io.burt.jmespath.JmesPathException;
import portal.aggregator.serde.DecodeException;
import portal.aggregator.serde.SchemaLookupException;
import portal.aggregator.serde.WireFormatDecoder;

/**
 * The first step on the source partition: decode, filter, read the event time, evaluate the group key and each
 * measure's field. An event the filter refuses goes nowhere; one whose payload or time cannot be read leaves
 * marked late with the reason. A registry that cannot be reached fails the task instead (the event is not bad,
 * and exactly-once processing retries it after a restart).
 */
final class Admission implements Processor<byte[], byte[], String, Envelope> {
    private final Definition definition;
    private final WireFormatDecoder decoder;
    private final Counters counters;
    private ProcessorContext<String, Envelope> context;

    Admission(Definition definition, WireFormatDecoder decoder, Counters counters) {
        this.definition = definition;
        this.decoder = decoder;
        this.counters = counters;
    }

    @Override
    public void init(ProcessorContext<String, Envelope> context) {
        this.context = context;
    }

    @Override
    public void process(Record<byte[], byte[]> record) {
        counters.recordsIn.incrementAndGet();
        ObjectNode doc;
        try {
            doc = EventView.of(decoder, record.key(), record.value(), record.headers());
        } catch (DecodeException e) {
            forwardLate(record, null, "undecodable: " + e.getMessage());
            return;
        } catch (SchemaLookupException e) {
            throw new IllegalStateException("schema registry: " + e.getMessage(), e);
        }
        Record<String, Envelope> admitted;
        try {
            admitted = admit(record, doc);
        } catch (JmesPathException | IllegalArgumentException | ClassCastException e) {
            // An expression that fails on this event (a function given the wrong type): the event is set aside
            // with the reason; the definition goes on with the next one.
            admitted = late(record, null, "expression failed: " + e.getMessage());
        }
        if (admitted != null) {
            context.forward(admitted);
        }
    }

    /** The record to pass on (marked late when its time cannot be read), or null when the filter refuses it. */
    private Record<String, Envelope> admit(Record<byte[], byte[]> record, ObjectNode doc) {
        if (definition.filter != null && !Definition.JMESPATH.isTruthy(definition.filter.search(doc))) {
            return null;
        }
        String group = EventView.groupKey(definition.groupBy == null ? doc.get("key") : definition.groupBy.search(doc));
        long time = record.timestamp();
        if (definition.timeFromField) {
            Long fieldTime = EventView.eventTime(definition, doc);
            if (fieldTime == null || fieldTime < 0) {
                return late(record, group, "time unreadable: " + definition.timeFieldText
                        + " is not epoch milliseconds or an RFC 3339 time");
            }
            time = fieldTime;
        }
        Envelope e = envelope(record, time);
        JsonNode[] fields = new JsonNode[definition.measures.size()];
        for (int i = 0; i < fields.length; i++) {
            Definition.Measure m = definition.measures.get(i);
            JsonNode v = m.expression() == null ? null : m.expression().search(doc);
            fields[i] = v == null ? NullNode.instance : v;
        }
        e.fields = Arrays.asList(fields);
        return record.withKey(group).withValue(e).withTimestamp(time);
    }

    private void forwardLate(Record<byte[], byte[]> record, String group, String reason) {
        context.forward(late(record, group, reason));
    }

    private Record<String, Envelope> late(Record<byte[], byte[]> record, String group, String reason) {
        Envelope e = envelope(record, record.timestamp());
        e.lateReason = reason;
        return record.withKey(group).withValue(e);
    }

    private Envelope envelope(Record<byte[], byte[]> record, long time) {
        Envelope e = new Envelope();
        e.time = time;
        if (definition.lateToDeadLetter) {
            e.rawKey = record.key();
            e.rawValue = record.value();
        }
        return e;
    }
}
