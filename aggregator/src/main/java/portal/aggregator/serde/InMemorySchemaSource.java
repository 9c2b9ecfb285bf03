package portal.aggregator.serde;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Schemas held in memory: for the topology tests and for tools that already know their schemas. */
public final class InMemorySchemaSource implements SchemaSource {
    private final Map<Integer, RegisteredSchema> byId = new HashMap<>();
    private final Map<String, RegisteredSchema> bySubject = new HashMap<>();

    public InMemorySchemaSource add(int id, String type, String schema) {
        return add(id, type, schema, List.of());
    }

    public InMemorySchemaSource add(int id, String type, String schema, List<Reference> references) {
        byId.put(id, new RegisteredSchema(type, schema, references));
        return this;
    }

    public InMemorySchemaSource addSubjectVersion(String subject, int version, String type, String schema) {
        bySubject.put(subject + "/" + version, new RegisteredSchema(type, schema, List.of()));
        return this;
    }

    @Override
    public RegisteredSchema byId(int id) throws SchemaLookupException {
        RegisteredSchema schema = byId.get(id);
        if (schema == null) {
            throw new SchemaLookupException("no schema " + id, true);
        }
        return schema;
    }

    @Override
    public RegisteredSchema bySubjectVersion(String subject, int version) throws SchemaLookupException {
        RegisteredSchema schema = bySubject.get(subject + "/" + version);
        if (schema == null) {
            throw new SchemaLookupException("no schema " + subject + "/" + version, true);
        }
        return schema;
    }
}
