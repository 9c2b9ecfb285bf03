package portal.aggregator.serde;

import java.util.List;

/**
 * Where writer schemas come from, by the id in the Confluent wire format. The engine asks the registry
 * ({@link RegistrySchemaSource}); tests hand schemas over in memory.
 */
public interface SchemaSource {

    /** A schema as the Confluent-compatible API returns it: type (AVRO, JSON, PROTOBUF), text, references. */
    record RegisteredSchema(String type, String schema, List<Reference> references) {
        public RegisteredSchema {
            type = type == null || type.isEmpty() ? "AVRO" : type; // the API leaves the type out for Avro
            references = references == null ? List.of() : List.copyOf(references);
        }
    }

    /** A named schema this one uses, registered under subject/version. */
    record Reference(String name, String subject, int version) {
    }

    RegisteredSchema byId(int id) throws SchemaLookupException;

    RegisteredSchema bySubjectVersion(String subject, int version) throws SchemaLookupException;
}
