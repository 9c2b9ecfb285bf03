package portal.aggregator.topology;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

/**
 * What travels from the source through the repartition topic to the windowed aggregation: the event time,
 * each measure's field value already evaluated (so the source is decoded once), and, only when late events go
 * to the dead-letter topic, the original key and value bytes. A late event also carries its reason.
 *
 * <p>On the topic it is binary ({@link BinaryNodes}): a format byte, the time, the fields, the original bytes and
 * the reason. Records an older engine wrote as JSON (they start with '{') are still read, so a repartition topic
 * with such records left in it drains after an upgrade.
 */
public final class Envelope {
    private static final byte FORMAT = 1;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Base64.Decoder B64D = Base64.getDecoder();

    public long time;
    /** Each measure's evaluated field, in measure order (null node for count and for a missing field). */
    public List<JsonNode> fields = List.of();
    public byte[] rawKey;
    public byte[] rawValue;
    public String lateReason;

    public static final Serde<Envelope> SERDE = Serdes.serdeFrom(
            (Serializer<Envelope>) (topic, e) -> e == null ? null : e.toBytes(),
            (Deserializer<Envelope>) (topic, bytes) -> bytes == null ? null : fromBytes(bytes));

    byte[] toBytes() {
        BinaryNodes.Writer out = new BinaryNodes.Writer();
        out.writeByte(FORMAT);
        out.writeLong(time);
        out.writeInt(fields.size());
        for (JsonNode field : fields) {
            out.writeNode(field);
        }
        out.writeBytes(rawKey);
        out.writeBytes(rawValue);
        out.writeString(lateReason);
        return out.toByteArray();
    }

    static Envelope fromBytes(byte[] bytes) {
        if (bytes.length > 0 && bytes[0] == '{') {
            return fromJson(bytes);
        }
        if (bytes.length == 0 || bytes[0] != FORMAT) {
            throw new IllegalStateException("not an aggregation envelope");
        }
        BinaryNodes.Reader in = new BinaryNodes.Reader(bytes, 1);
        Envelope e = new Envelope();
        e.time = in.readLong();
        int count = in.readInt();
        List<JsonNode> fields = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            fields.add(in.readNode());
        }
        e.fields = fields;
        e.rawKey = in.readBytes();
        e.rawValue = in.readBytes();
        e.lateReason = in.readString();
        return e;
    }

    /** The JSON form engines before the binary one wrote: {"t", "f": [...], "rk", "rv" (base64), "late"}. */
    private static Envelope fromJson(byte[] bytes) {
        try {
            JsonNode node = JSON.readTree(bytes);
            Envelope e = new Envelope();
            e.time = node.path("t").asLong();
            List<JsonNode> fields = new ArrayList<>();
            node.path("f").forEach(fields::add);
            e.fields = fields;
            e.rawKey = node.has("rk") ? B64D.decode(node.get("rk").asText()) : null;
            e.rawValue = node.has("rv") ? B64D.decode(node.get("rv").asText()) : null;
            e.lateReason = node.has("late") ? node.get("late").asText() : null;
            return e;
        } catch (IOException e) {
            throw new IllegalStateException("not an aggregation envelope", e);
        }
    }
}
