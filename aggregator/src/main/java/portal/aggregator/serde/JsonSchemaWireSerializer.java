package portal.aggregator.serde;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/** A JSON tree in the Confluent wire format for a registered JSON Schema: magic 0, the id, the JSON text. */
public final class JsonSchemaWireSerializer {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final int schemaId;

    public JsonSchemaWireSerializer(int schemaId) {
        this.schemaId = schemaId;
    }

    /** The header and the JSON text written into one buffer (no second copy of the text). */
    public byte[] serialize(JsonNode value) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(128);
        out.write(0);
        out.write(schemaId >>> 24);
        out.write(schemaId >>> 16);
        out.write(schemaId >>> 8);
        out.write(schemaId);
        try {
            JSON.writeValue(out, value);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("cannot write JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // not thrown by an in-memory stream
        }
        return out.toByteArray();
    }
}
