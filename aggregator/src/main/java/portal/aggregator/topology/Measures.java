package portal.aggregator.topology;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.Iterator;
import java.util.List;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

/**
 * The window state of all measures as one JSON object ({measure name: its state}), how an event is added to
 * it, how two session states merge, and the output properties it gives.
 *
 * <p>Sums stay integers while every added number is an integer (exact, as counts are) and become doubles
 * after the first fraction or an overflow. count_distinct keeps each distinct compact-JSON value, so it is
 * exact and its state grows with the number of distinct values.
 */
public final class Measures {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final byte STATE_FORMAT = 1;
    private final List<Definition.Measure> measures;

    public Measures(List<Definition.Measure> measures) {
        this.measures = measures;
    }

    /**
     * The state in the store and its changelog: binary ({@link BinaryNodes}, a format byte then the object), no
     * JSON text written or parsed per event. States an older engine stored as JSON (starting with '{') are still
     * read, so a changelog restores across the upgrade; they are written back binary when next updated.
     */
    public static final Serde<ObjectNode> STATE_SERDE = Serdes.serdeFrom(
            (Serializer<ObjectNode>) (topic, state) -> {
                if (state == null) {
                    return null;
                }
                BinaryNodes.Writer out = new BinaryNodes.Writer();
                out.writeByte(STATE_FORMAT);
                out.writeNode(state);
                return out.toByteArray();
            },
            (Deserializer<ObjectNode>) (topic, bytes) -> {
                if (bytes == null) {
                    return null;
                }
                if (bytes.length > 0 && bytes[0] == '{') {
                    try {
                        return (ObjectNode) JSON.readTree(bytes);
                    } catch (IOException e) {
                        throw new IllegalStateException("not an aggregation state", e);
                    }
                }
                if (bytes.length == 0 || bytes[0] != STATE_FORMAT
                        || !(new BinaryNodes.Reader(bytes, 1).readNode() instanceof ObjectNode state)) {
                    throw new IllegalStateException("not an aggregation state");
                }
                return state;
            });

    public ObjectNode init() {
        return NODES.objectNode();
    }

    /** Adds one event (its time and each measure's evaluated field, in measure order). */
    public ObjectNode add(ObjectNode state, long time, List<JsonNode> fields) {
        for (int i = 0; i < measures.size(); i++) {
            Definition.Measure m = measures.get(i);
            JsonNode value = i < fields.size() && fields.get(i) != null ? fields.get(i) : NullNode.instance;
            ObjectNode s = state.has(m.name()) ? (ObjectNode) state.get(m.name()) : state.putObject(m.name());
            switch (m.op()) {
                case "count" -> s.put("n", s.path("n").asLong() + 1);
                case "sum" -> {
                    if (value.isNumber()) {
                        s.set("v", plus(s.get("v"), value));
                    }
                }
                case "min", "max" -> {
                    if (value.isNumber()) {
                        JsonNode current = s.get("v");
                        int cmp = current == null ? 0 : value.decimalValue().compareTo(current.decimalValue());
                        if (current == null || (m.op().equals("min") ? cmp < 0 : cmp > 0)) {
                            s.set("v", value);
                        }
                    }
                }
                case "avg" -> {
                    if (value.isNumber()) {
                        s.put("s", s.path("s").asDouble() + value.asDouble());
                        s.put("n", s.path("n").asLong() + 1);
                    }
                }
                case "count_distinct" -> {
                    if (!value.isNull()) {
                        ObjectNode seen = s.has("d") ? (ObjectNode) s.get("d") : s.putObject("d");
                        seen.put(value.toString(), 1);
                    }
                }
                // Ties in event time: the first kept is the earlier arrival, the last taken is the later one.
                case "first" -> {
                    if (!s.has("t") || time < s.get("t").asLong()) {
                        s.put("t", time);
                        s.set("v", value);
                    }
                }
                case "last" -> {
                    if (!s.has("t") || time >= s.get("t").asLong()) {
                        s.put("t", time);
                        s.set("v", value);
                    }
                }
                default -> throw new IllegalStateException("unknown op " + m.op());
            }
        }
        return state;
    }

    /** Two sessions that an event joined: the older one is {@code a}. */
    public ObjectNode merge(ObjectNode a, ObjectNode b) {
        ObjectNode out = NODES.objectNode();
        for (Definition.Measure m : measures) {
            JsonNode sa = a.get(m.name());
            JsonNode sb = b.get(m.name());
            if (sa == null || sb == null) {
                if (sa != null || sb != null) {
                    out.set(m.name(), (sa != null ? sa : sb).deepCopy());
                }
                continue;
            }
            ObjectNode s = out.putObject(m.name());
            switch (m.op()) {
                case "count" -> s.put("n", sa.path("n").asLong() + sb.path("n").asLong());
                case "sum" -> {
                    JsonNode v = sa.has("v") ? sa.get("v") : null;
                    if (sb.has("v")) {
                        v = plus(v, sb.get("v"));
                    }
                    if (v != null) {
                        s.set("v", v);
                    }
                }
                case "min", "max" -> {
                    JsonNode va = sa.get("v");
                    JsonNode vb = sb.get("v");
                    JsonNode v = va == null ? vb : vb == null ? va
                            : (m.op().equals("min") == (vb.decimalValue().compareTo(va.decimalValue()) < 0)) ? vb : va;
                    if (v != null) {
                        s.set("v", v);
                    }
                }
                case "avg" -> {
                    s.put("s", sa.path("s").asDouble() + sb.path("s").asDouble());
                    s.put("n", sa.path("n").asLong() + sb.path("n").asLong());
                }
                case "count_distinct" -> {
                    ObjectNode d = s.putObject("d");
                    for (JsonNode side : List.of(sa, sb)) {
                        Iterator<String> names = side.path("d").fieldNames();
                        names.forEachRemaining(n -> d.put(n, 1));
                    }
                }
                case "first" -> s.setAll((ObjectNode) (sb.path("t").asLong() < sa.path("t").asLong() ? sb : sa));
                case "last" -> s.setAll((ObjectNode) (sb.path("t").asLong() >= sa.path("t").asLong() ? sb : sa));
                default -> throw new IllegalStateException("unknown op " + m.op());
            }
        }
        return out;
    }

    /** The measures' output properties, in measure order, added to {@code out}. */
    public void output(ObjectNode state, ObjectNode out) {
        for (Definition.Measure m : measures) {
            JsonNode s = state.path(m.name());
            switch (m.op()) {
                case "count" -> out.put(m.name(), s.path("n").asLong());
                case "sum" -> out.set(m.name(), s.has("v") ? s.get("v") : NODES.numberNode(0));
                case "min", "max", "first", "last" -> out.set(m.name(), s.has("v") ? s.get("v") : NullNode.instance);
                case "avg" -> {
                    long n = s.path("n").asLong();
                    out.set(m.name(), n == 0 ? NullNode.instance : NODES.numberNode(s.path("s").asDouble() / n));
                }
                case "count_distinct" -> out.put(m.name(), s.path("d").size());
                default -> throw new IllegalStateException("unknown op " + m.op());
            }
        }
    }

    private static JsonNode plus(JsonNode current, JsonNode value) {
        if (current == null) {
            return value.isIntegralNumber() && value.canConvertToLong() ? NODES.numberNode(value.asLong())
                    : NODES.numberNode(value.asDouble());
        }
        if (current.isIntegralNumber() && value.isIntegralNumber() && value.canConvertToLong()) {
            try {
                return NODES.numberNode(Math.addExact(current.asLong(), value.asLong()));
            } catch (ArithmeticException overflow) {
                // past Long.MAX_VALUE: continue as a double, below
            }
        }
        return NODES.numberNode(current.asDouble() + value.asDouble());
    }
}
