package portal.aggregator.serde;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.ByteBuffer;

/** A JSON tree in the Confluent wire format for a registered JSON Schema: magic 0, the id, the JSON text. */
public final class JsonSchemaWireSerializer {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final int schemaId;

    public JsonSchemaWireSerializer(int schemaId) {
        this.schemaId = schemaId;
    }

    public byte[] serialize(JsonNode value) {
        byte[] body;
        try {
            body = JSON.writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("cannot write JSON: " + e.getOriginalMessage(), e);
        }
        return ByteBuffer.allocate(5 + body.length).put((byte) 0).putInt(schemaId).put(body).array();
    }
}
