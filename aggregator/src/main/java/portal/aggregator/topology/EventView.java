package portal.aggregator.topology;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import portal.aggregator.serde.DecodeException;
import portal.aggregator.serde.SchemaLookupException;
import portal.aggregator.serde.WireFormatDecoder;

/**
 * The document the expressions read, {"value", "key", "headers"}, made once per source record. The time
 * extractor and the admission step both need it; a one-entry cache per stream thread, keyed by the identity
 * of the value's bytes (Kafka Streams hands the same array to both), decodes each record once.
 */
final class EventView {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final ThreadLocal<Object[]> LAST = ThreadLocal.withInitial(() -> new Object[2]);

    private EventView() {
    }

    static ObjectNode of(WireFormatDecoder decoder, byte[] key, byte[] value, Headers headers)
            throws DecodeException, SchemaLookupException {
        Object[] last = LAST.get();
        if (value != null && last[0] == value) {
            return (ObjectNode) last[1];
        }
        ObjectNode doc = NODES.objectNode();
        doc.set("value", value == null ? NODES.nullNode() : decoder.decode(value));
        JsonNode decodedKey;
        if (key == null) {
            decodedKey = NODES.nullNode();
        } else if (WireFormatDecoder.schemaId(key) >= 0) {
            decodedKey = decoder.decode(key);
        } else {
            decodedKey = NODES.textNode(new String(key, StandardCharsets.UTF_8)); // a plain key is its string
        }
        doc.set("key", decodedKey);
        ObjectNode hs = doc.putObject("headers");
        if (headers != null) {
            for (Header h : headers) {
                hs.put(h.key(), h.value() == null ? null : new String(h.value(), StandardCharsets.UTF_8));
            }
        }
        last[0] = value;
        last[1] = doc;
        return doc;
    }

    /** Epoch milliseconds from a number or an RFC 3339 string; null when neither. */
    static Long eventTime(Definition d, ObjectNode doc) {
        JsonNode t = d.timeField.search(doc);
        if (t == null) {
            return null;
        }
        if (t.isNumber()) {
            return t.asLong();
        }
        if (t.isTextual()) {
            try {
                return OffsetDateTime.parse(t.asText()).toInstant().toEpochMilli();
            } catch (DateTimeParseException e) {
                return null;
            }
        }
        return null;
    }

    /** The group key as a string: a JSON string as is, anything else as compact JSON. */
    static String groupKey(JsonNode result) {
        if (result == null || result.isMissingNode()) {
            return "null";
        }
        return result.isTextual() ? result.asText() : result.toString();
    }
}
