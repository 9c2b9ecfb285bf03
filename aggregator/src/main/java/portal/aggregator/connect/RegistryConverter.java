package portal.aggregator.connect;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaAndValue;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.errors.RetriableException;
import org.apache.kafka.connect.storage.Converter;
import portal.aggregator.serde.DecodeException;
import portal.aggregator.serde.RegistrySchemaSource;
import portal.aggregator.serde.SchemaLookupException;
import portal.aggregator.serde.SchemaSource;
import portal.aggregator.serde.WireFormatDecoder;

/**
 * Reads keys and values in the Confluent wire format (Avro with references, JSON Schema) with the writer schema
 * fetched by id from a Confluent-compatible registry and cached, the same decoding the aggregation engine uses.
 * Bytes without the wire-format header are read as plain JSON, else as UTF-8 text (a plain string key).
 *
 * <p>The result is schemaless: nested maps, lists and scalars, which a sink such as MongoDB's writes as a document
 * whatever the writer schema. A null (tombstone) stays null. A payload that cannot be read is a {@link
 * DataException}, which the worker's error tolerance sends to the dead-letter topic; a registry that does not
 * answer is a {@link RetriableException}, retried within {@code errors.retry.timeout} instead.
 *
 * <p>Config: {@code schema.registry.url} (the API base, e.g. {@code http://host:8081/apis/ccompat/v7}). Sink
 * only: Connect data is never written back in the wire format by this converter.
 */
public final class RegistryConverter implements Converter {
    public static final String REGISTRY_URL = "schema.registry.url";
    private static final ConfigDef CONFIG = new ConfigDef().define(REGISTRY_URL, ConfigDef.Type.STRING,
            ConfigDef.NO_DEFAULT_VALUE, ConfigDef.Importance.HIGH,
            "Base URL of the Confluent-compatible schema registry API.");

    private WireFormatDecoder decoder;

    @Override
    public void configure(Map<String, ?> configs, boolean isKey) {
        Object url = configs.get(REGISTRY_URL);
        if (url == null || url.toString().isBlank()) {
            throw new org.apache.kafka.common.config.ConfigException(REGISTRY_URL, url, "the registry URL is required");
        }
        configure(new RegistrySchemaSource(url.toString()));
    }

    /** For tests and tools that bring their own schemas. */
    void configure(SchemaSource schemas) {
        this.decoder = new WireFormatDecoder(schemas);
    }

    @Override
    public ConfigDef config() {
        return CONFIG;
    }

    @Override
    public SchemaAndValue toConnectData(String topic, byte[] value) {
        if (value == null) {
            return SchemaAndValue.NULL;
        }
        JsonNode tree;
        try {
            tree = decoder.decode(value);
        } catch (DecodeException e) {
            throw new DataException("record of " + topic + " is unreadable: " + e.getMessage(), e);
        } catch (SchemaLookupException e) {
            throw new RetriableException("schema registry: " + e.getMessage(), e);
        }
        return new SchemaAndValue(null, JsonValues.toConnect(tree));
    }

    @Override
    public byte[] fromConnectData(String topic, Schema schema, Object value) {
        throw new DataException("RegistryConverter only reads: a sink connector's key.converter/value.converter");
    }
}
