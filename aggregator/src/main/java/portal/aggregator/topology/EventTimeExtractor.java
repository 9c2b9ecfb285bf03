package portal.aggregator.topology;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.streams.processor.TimestampExtractor;
import portal.aggregator.serde.WireFormatDecoder;

/**
 * time.source = field: the event's time from its decoded value. An event whose time cannot be read keeps its
 * record timestamp here (a negative one would make Kafka Streams drop it silently); the admission step reads
 * the field again and sends it to the late handling with the reason.
 */
final class EventTimeExtractor implements TimestampExtractor {
    private final Definition definition;
    private final WireFormatDecoder decoder;

    EventTimeExtractor(Definition definition, WireFormatDecoder decoder) {
        this.definition = definition;
        this.decoder = decoder;
    }

    @Override
    public long extract(ConsumerRecord<Object, Object> record, long partitionTime) {
        try {
            ObjectNode doc = EventView.of(decoder, (byte[]) record.key(), (byte[]) record.value(), record.headers());
            Long time = EventView.eventTime(definition, doc);
            if (time != null && time >= 0) {
                return time;
            }
        } catch (Exception e) {
            // undecodable: the admission step reports it
        }
        return record.timestamp() >= 0 ? record.timestamp() : Math.max(partitionTime, 0);
    }
}
