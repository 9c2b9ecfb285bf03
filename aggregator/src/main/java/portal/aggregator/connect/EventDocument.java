package portal.aggregator.connect;

import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
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
 * <p>The document: {@code _ts} (the record timestamp as a date, what the retention TTL index reads), {@code _h}
 * (the hour of {@code _ts} in UTC, {@code 2026-01-01T05}: a time range is an equality per hour, which a store that
 * answers only equalities from its indexes can serve, see {@link #hourOf}), {@code _partition}, {@code _offset},
 * {@code _key}, {@code value} (the record value as the converter read it).
 * Only sink records carry partition and offset, so the transformation belongs on sink connectors only.
 *
 * <p>{@code indexed}: the binding's indexed fields as document paths ({@code value.ward,value.member.id,key}), each
 * also written at the top level of the document under {@link #copyName}: {@code _i:} and the path with its dots as
 * colons ({@code _i:value:ward}). A store that answers only top-level conditions from its indexes (FerretDB 1.x
 * hands a nested path's filter to no index) then finds the events by the copy. No existing field starts with
 * {@code _i:}, and a path part may not hold a colon, so two paths never share a copy. Only scalars are copied
 * (string, number, boolean, date, null); a missing field, an object or a list leaves the copy out.
 */
public final class EventDocument<R extends ConnectRecord<R>> implements Transformation<R> {
    public static final String MODE = "mode";
    public static final String INDEXED = "indexed";
    public static final String COPY_PREFIX = "_i:";
    public static final String HOUR = "_h";
    private static final DateTimeFormatter HOUR_FORMAT = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH")
            .withZone(ZoneOffset.UTC);
    private static final ConfigDef CONFIG = new ConfigDef().define(MODE, ConfigDef.Type.STRING, "log",
            ConfigDef.ValidString.in("log", "table"), ConfigDef.Importance.HIGH,
            "log: a document per record (id topic#partition#offset); table: a document per key (tombstones delete).")
            .define(INDEXED, ConfigDef.Type.STRING, "", ConfigDef.Importance.MEDIUM,
                    "Document paths (value.<field>, key, key.<field>), comma-separated, also written at the top "
                            + "level as _i:<path with : for .>.");

    private boolean table;
    private List<String[]> indexed = List.of();

    @Override
    public void configure(Map<String, ?> configs) {
        Object mode = configs.get(MODE);
        String value = mode == null ? "log" : mode.toString();
        if (!value.equals("log") && !value.equals("table")) {
            throw new ConfigException(MODE, value, "must be log or table");
        }
        table = value.equals("table");
        indexed = indexedPaths(configs.get(INDEXED));
    }

    private static List<String[]> indexedPaths(Object raw) {
        List<String[]> paths = new ArrayList<>();
        if (raw == null) {
            return paths;
        }
        for (String path : raw.toString().split(",")) {
            String trimmed = path.trim();
            if (trimmed.isEmpty()) {
                continue;
            }
            String[] parts = trimmed.split("\\.", -1);
            boolean known = parts[0].equals("value") && parts.length > 1 || parts[0].equals("key");
            for (String part : parts) {
                // An empty part or a colon would make two paths share a copy name; a $ would be an operator.
                known &= !part.isEmpty() && !part.contains(":") && !part.startsWith("$");
            }
            if (!known) {
                throw new ConfigException(INDEXED, trimmed, "must be value.<field>, key or key.<field>, parts "
                        + "without ':' or a leading '$'");
            }
            paths.add(parts);
        }
        return paths;
    }

    /** The hour bucket of an event time: {@code 2026-01-01T05} for any time from 05:00 to 05:59:59.999 UTC. */
    public static String hourOf(Date time) {
        return HOUR_FORMAT.format(time.toInstant());
    }

    /** The top-level name of a document path's copy: {@code value.member.id} is {@code _i:value:member:id}. */
    public static String copyName(String path) {
        return COPY_PREFIX + path.replace('.', ':');
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

    private Map<String, Object> document(SinkRecord record) {
        Map<String, Object> doc = new LinkedHashMap<>();
        Long timestamp = record.timestamp();
        Date time = new Date(timestamp == null || timestamp < 0 ? System.currentTimeMillis() : timestamp);
        doc.put("_ts", time);
        doc.put(HOUR, hourOf(time));
        doc.put("_partition", record.kafkaPartition());
        doc.put("_offset", record.kafkaOffset());
        doc.put("_key", record.key());
        doc.put("value", record.value());
        for (String[] path : indexed) {
            Object root = path[0].equals("key") ? record.key() : record.value();
            Lookup found = lookup(root, path);
            if (found.present && isScalar(found.value)) {
                doc.put(copyName(String.join(".", path)), found.value);
            }
        }
        return doc;
    }

    private record Lookup(boolean present, Object value) {
    }

    private static Lookup lookup(Object root, String[] path) {
        Object current = root;
        for (int i = 1; i < path.length; i++) {
            if (!(current instanceof Map<?, ?> map) || !map.containsKey(path[i])) {
                return new Lookup(false, null);
            }
            current = map.get(path[i]);
        }
        return new Lookup(path.length > 1 || root != null, current);
    }

    private static boolean isScalar(Object value) {
        return value == null || value instanceof String || value instanceof Number || value instanceof Boolean
                || value instanceof Date;
    }

    @Override
    public ConfigDef config() {
        return CONFIG;
    }

    @Override
    public void close() {
    }
}
