package portal.aggregator.serde;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericContainer;
import org.apache.avro.generic.GenericFixed;
import org.apache.avro.generic.GenericRecord;

/**
 * An Avro datum as the JSON a team would write for it: records become objects, a union is its branch's value
 * (no {"type": value} wrapper, so `value.amount` works whatever the union), enums and strings are strings,
 * bytes and fixed are ISO-8859-1 strings (Avro's own JSON encoding of bytes). Logical types stay in their
 * underlying type (a timestamp-millis is an epoch-milliseconds number).
 */
final class AvroJson {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private AvroJson() {
    }

    static JsonNode toJson(Object datum) {
        if (datum == null) {
            return NODES.nullNode();
        }
        if (datum instanceof GenericRecord record) {
            ObjectNode object = NODES.objectNode();
            for (Schema.Field field : record.getSchema().getFields()) {
                object.set(field.name(), toJson(record.get(field.pos())));
            }
            return object;
        }
        if (datum instanceof Map<?, ?> map) {
            ObjectNode object = NODES.objectNode();
            map.forEach((k, v) -> object.set(k.toString(), toJson(v)));
            return object;
        }
        if (datum instanceof Collection<?> items) {
            ArrayNode array = NODES.arrayNode();
            items.forEach(item -> array.add(toJson(item)));
            return array;
        }
        if (datum instanceof CharSequence || datum instanceof GenericContainer && !(datum instanceof GenericFixed)) {
            return NODES.textNode(datum.toString()); // strings (Utf8) and enum symbols
        }
        if (datum instanceof GenericFixed fixed) {
            return NODES.textNode(new String(fixed.bytes(), StandardCharsets.ISO_8859_1));
        }
        if (datum instanceof ByteBuffer buffer) {
            byte[] bytes = new byte[buffer.remaining()];
            buffer.duplicate().get(bytes);
            return NODES.textNode(new String(bytes, StandardCharsets.ISO_8859_1));
        }
        if (datum instanceof Integer i) {
            return NODES.numberNode(i);
        }
        if (datum instanceof Long l) {
            return NODES.numberNode(l);
        }
        if (datum instanceof Float f) {
            return NODES.numberNode(f.doubleValue());
        }
        if (datum instanceof Double d) {
            return NODES.numberNode(d);
        }
        if (datum instanceof Boolean b) {
            return NODES.booleanNode(b);
        }
        return NODES.textNode(datum.toString());
    }
}
