package portal.aggregator.connect;

import java.util.Date;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.connect.connector.ConnectRecord;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.sink.SinkRecord;
import org.apache.kafka.connect.transforms.Transformation;

/**
 * Shapes a sink record into the event store's document, with the document id as the key {@code {"_id": ...}},
 * so the MongoDB sink's {@code ProvidedInKeyStrategy} finds it both for writes and for tombstone deletes.
 *
 * <ul>
 *   <li>{@code mode=log}: one document per record, id {@code <topic>#<partition>#<offset>}. The id is the record's
 *       place in the log, so a record written again after a restart (Connect delivers at least once) replaces its
 *       own document instead of adding a second one. A tombstone is an event too: its document has value null.
 *   <li>{@code mode=table}: one document per key, id the record key; a later record replaces it and a tombstone
 *       stays a null value, which the sink's {@code delete.on.null.values} turns into a delete. A record without
 *       a key cannot be placed in a table and is refused (dead-letter topic).
 * </ul>
 *
 * <p>The document: {@code _ts} (the record timestamp as a date, what the retention TTL index reads),
 * {@code _partition}, {@code _offset}, {@code _key}, {@code value} (the record value as the converter read it).
 * Only sink records carry partition and offset, so the transformation belongs on sink connectors only.
 */
public final class EventDocument<R extends ConnectRecord<R>> implements Transformation<R> {
    public static final String MODE = "mode";
    private static final ConfigDef CONFIG = new ConfigDef().define(MODE, ConfigDef.Type.STRING, "log",
            ConfigDef.ValidString.in("log", "table"), ConfigDef.Importance.HIGH,
            "log: a document per record (id topic#partition#offset); table: a document per key (tombstones delete).");

    private boolean table;

    @Override
    public void configure(Map<String, ?> configs) {
        Object mode = configs.get(MODE);
        String value = mode == null ? "log" : mode.toString();
        if (!value.equals("log") && !value.equals("table")) {
            throw new ConfigException(MODE, value, "must be log or table");
        }
        table = value.equals("table");
    }

    @Override
    public R apply(R record) {
        if (!(record instanceof SinkRecord sink)) {
            throw new DataException("EventDocument needs a sink record (topic, partition and offset)");
        }
        Object id;
        if (table) {
            if (record.key() == null) {
                throw new DataException("a record without a key cannot be kept in a table (offset "
                        + sink.kafkaOffset() + " of " + record.topic() + "-" + record.kafkaPartition() + ")");
            }
            id = record.key();
        } else {
            id = logId(record.topic(), record.kafkaPartition(), sink.kafkaOffset());
        }
        Map<String, Object> key = new LinkedHashMap<>();
        key.put("_id", id);
        Object value = table && record.value() == null ? null : document(sink);
        return record.newRecord(record.topic(), record.kafkaPartition(), null, key, null, value, record.timestamp());
    }

    static String logId(String topic, Integer partition, long offset) {
        return topic + "#" + partition + "#" + offset;
    }

    private static Map<String, Object> document(SinkRecord record) {
        Map<String, Object> doc = new LinkedHashMap<>();
        Long timestamp = record.timestamp();
        doc.put("_ts", new Date(timestamp == null || timestamp < 0 ? System.currentTimeMillis() : timestamp));
        doc.put("_partition", record.kafkaPartition());
        doc.put("_offset", record.kafkaOffset());
        doc.put("_key", record.key());
        doc.put("value", record.value());
        return doc;
    }

    @Override
    public ConfigDef config() {
        return CONFIG;
    }

    @Override
    public void close() {
    }
}
