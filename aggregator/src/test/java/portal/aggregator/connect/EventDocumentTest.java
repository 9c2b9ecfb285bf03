package portal.aggregator.connect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Date;
import java.util.Map;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.Test;

public class EventDocumentTest {
    private static SinkRecord record(Object key, Object value, long offset) {
        return new SinkRecord("pay.orders", 2, null, key, null, value, offset, 1700000000000L,
                TimestampType.CREATE_TIME);
    }

    private static EventDocument<SinkRecord> transform(String mode) {
        EventDocument<SinkRecord> t = new EventDocument<>();
        t.configure(Map.of("mode", mode));
        return t;
    }

    @Test
    void logModeIdIsThePlaceInTheLogSoAReplayHitsTheSameDocument() {
        EventDocument<SinkRecord> log = transform("log");
        SinkRecord first = log.apply(record("k", Map.of("a", 1L), 41));
        SinkRecord replayed = log.apply(record("k", Map.of("a", 1L), 41));
        SinkRecord next = log.apply(record("k", Map.of("a", 2L), 42));
        assertEquals(Map.of("_id", "pay.orders#2#41"), first.key());
        assertEquals(first.key(), replayed.key());
        assertEquals(Map.of("_id", "pay.orders#2#42"), next.key());
        assertEquals(41L, first.kafkaOffset());
        Map<?, ?> doc = (Map<?, ?>) first.value();
        assertEquals(new Date(1700000000000L), doc.get("_ts"));
        assertEquals(2, doc.get("_partition"));
        assertEquals(41L, doc.get("_offset"));
        assertEquals("k", doc.get("_key"));
        assertEquals(Map.of("a", 1L), doc.get("value"));
    }

    @Test
    void logModeKeepsATombstoneAsAnEvent() {
        Map<?, ?> doc = (Map<?, ?>) transform("log").apply(record("k", null, 7)).value();
        assertNull(doc.get("value"));
        assertEquals("k", doc.get("_key"));
    }

    @Test
    void tableModeIsKeyedAndATombstoneStaysNullForTheDelete() {
        EventDocument<SinkRecord> table = transform("table");
        SinkRecord upsert = table.apply(record(Map.of("id", 9L), Map.of("a", 1L), 3));
        assertEquals(Map.of("_id", Map.of("id", 9L)), upsert.key());
        assertEquals(Map.of("a", 1L), ((Map<?, ?>) upsert.value()).get("value"));
        SinkRecord delete = table.apply(record(Map.of("id", 9L), null, 4));
        assertEquals(Map.of("_id", Map.of("id", 9L)), delete.key());
        assertNull(delete.value());
    }

    @Test
    void tableModeRefusesARecordWithoutAKey() {
        assertThrows(DataException.class, () -> transform("table").apply(record(null, Map.of("a", 1L), 5)));
    }

    @Test
    void anUnknownModeIsAConfigError() {
        assertThrows(ConfigException.class, () -> transform("stream"));
    }
}
