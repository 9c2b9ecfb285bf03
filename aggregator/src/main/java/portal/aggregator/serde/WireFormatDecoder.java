package portal.aggregator.serde;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.TextNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DecoderFactory;

/**
 * Turns a Kafka key or value into a Jackson tree, the shape the engine's JMESPath expressions read.
 *
 * <p>The Confluent wire format (magic byte 0, a 4-byte big-endian schema id, the payload) is decoded with the
 * writer schema fetched by id: Avro through {@link GenericDatumReader}, JSON Schema as the JSON text after the
 * header. Anything else is read as plain JSON, and bytes that are not JSON as a UTF-8 string (a plain text
 * key). Protobuf is refused: the aggregation contract does not cover it yet.
 */
public final class WireFormatDecoder {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final DecoderFactory AVRO = DecoderFactory.get();
    private final SchemaSource schemas;
    private final Map<Integer, Object> readers = new ConcurrentHashMap<>();

    public WireFormatDecoder(SchemaSource schemas) {
        this.schemas = schemas;
    }

    /** The id of a wire-format payload, or -1 when the bytes are not in the wire format. */
    public static int schemaId(byte[] data) {
        if (data == null || data.length < 5 || data[0] != 0) {
            return -1;
        }
        return ByteBuffer.wrap(data, 1, 4).getInt();
    }

    /** A value: wire format when it starts with the magic byte, else plain JSON (a string if not JSON). */
    public JsonNode decode(byte[] data) throws DecodeException, SchemaLookupException {
        if (data == null) {
            return null;
        }
        int id = schemaId(data);
        if (id < 0) {
            return plain(data);
        }
        Object reader = readerFor(id);
        if (reader instanceof GenericDatumReader<?> avro) {
            BinaryDecoder decoder = AVRO.binaryDecoder(data, 5, data.length - 5, null);
            try {
                return AvroJson.toJson(avro.read(null, decoder));
            } catch (IOException | RuntimeException e) {
                throw new DecodeException("not Avro of schema " + id + ": " + e.getMessage(), e);
            }
        }
        try {
            return JSON.readTree(data, 5, data.length - 5);
        } catch (IOException e) {
            throw new DecodeException("not JSON of schema " + id + ": " + e.getMessage(), e);
        }
    }

    private static JsonNode plain(byte[] data) throws DecodeException {
        try {
            JsonNode node = JSON.readTree(data);
            if (node != null && !node.isMissingNode()) {
                return node;
            }
        } catch (IOException e) {
            // not JSON: a plain string key or value, below
        }
        try {
            return TextNode.valueOf(StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(data)).toString());
        } catch (CharacterCodingException e) {
            throw new DecodeException("neither the wire format, JSON nor UTF-8 text", e);
        }
    }

    private Object readerFor(int id) throws SchemaLookupException, DecodeException {
        Object cached = readers.get(id);
        if (cached != null) {
            return cached;
        }
        SchemaSource.RegisteredSchema registered;
        try {
            registered = schemas.byId(id);
        } catch (SchemaLookupException e) {
            if (e.notFound()) {
                throw new DecodeException("schema " + id + " is not in the registry", e);
            }
            throw e;
        }
        Object reader;
        switch (registered.type()) {
            case "AVRO" -> reader = new GenericDatumReader<>(avroSchema(id, registered));
            case "JSON" -> reader = "JSON";
            default -> throw new DecodeException("schema " + id + " is " + registered.type()
                    + ": only Avro, JSON Schema and plain JSON are read");
        }
        readers.put(id, reader);
        return reader;
    }

    /** The writer schema with its references parsed first into the same parser, depth first. */
    private Schema avroSchema(int id, SchemaSource.RegisteredSchema registered)
            throws SchemaLookupException, DecodeException {
        Schema.Parser parser = new Schema.Parser();
        try {
            addReferences(parser, registered, new HashSet<>());
            return parser.parse(registered.schema());
        } catch (RuntimeException e) {
            throw new DecodeException("schema " + id + " is not a valid Avro schema: " + e.getMessage(), e);
        }
    }

    private void addReferences(Schema.Parser parser, SchemaSource.RegisteredSchema schema, Set<String> seen)
            throws SchemaLookupException {
        for (SchemaSource.Reference ref : schema.references()) {
            if (!seen.add(ref.subject() + "/" + ref.version())) {
                continue;
            }
            SchemaSource.RegisteredSchema referenced = schemas.bySubjectVersion(ref.subject(), ref.version());
            addReferences(parser, referenced, seen);
            parser.parse(referenced.schema());
        }
    }
}
