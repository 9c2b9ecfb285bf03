package portal.aggregator.topology;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.Base64;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

/**
 * What travels from the source through the repartition topic to the windowed aggregation: the event time,
 * each measure's field value already evaluated (so the source is decoded once), and, only when late events go
 * to the dead-letter topic, the original key and value bytes. A late event also carries its reason.
 */
public final class Envelope {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Base64.Encoder B64 = Base64.getEncoder();
    private static final Base64.Decoder B64D = Base64.getDecoder();

    public long time;
    public ArrayNode fields;
    public byte[] rawKey;
    public byte[] rawValue;
    public String lateReason;

    public static final Serde<Envelope> SERDE = Serdes.serdeFrom(
            (Serializer<Envelope>) (topic, e) -> e == null ? null : e.toBytes(),
            (Deserializer<Envelope>) (topic, bytes) -> bytes == null ? null : fromBytes(bytes));

    byte[] toBytes() {
        ObjectNode node = JSON.createObjectNode();
        node.put("t", time);
        node.set("f", fields);
        if (rawKey != null) {
            node.put("rk", B64.encodeToString(rawKey));
        }
        if (rawValue != null) {
            node.put("rv", B64.encodeToString(rawValue));
        }
        if (lateReason != null) {
            node.put("late", lateReason);
        }
        try {
            return JSON.writeValueAsBytes(node);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static Envelope fromBytes(byte[] bytes) {
        try {
            JsonNode node = JSON.readTree(bytes);
            Envelope e = new Envelope();
            e.time = node.path("t").asLong();
            e.fields = node.get("f") instanceof ArrayNode a ? a : JSON.createArrayNode();
            e.rawKey = node.has("rk") ? B64D.decode(node.get("rk").asText()) : null;
            e.rawValue = node.has("rv") ? B64D.decode(node.get("rv").asText()) : null;
            e.lateReason = node.has("late") ? node.get("late").asText() : null;
            return e;
        } catch (IOException e) {
            throw new IllegalStateException("not an aggregation envelope", e);
        }
    }
}
