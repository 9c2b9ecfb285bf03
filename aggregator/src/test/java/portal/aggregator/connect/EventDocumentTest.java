package portal.aggregator.connect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Date;
import java.util.HashMap;
import java.util.List;
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
        assertEquals("2023-11-14T22", doc.get("_h"));  // 1700000000000 ms is 2023-11-14 22:13:20 UTC
        assertEquals(2, doc.get("_partition"));
        assertEquals(41L, doc.get("_offset"));
        assertEquals("k", doc.get("_key"));
        assertEquals(Map.of("a", 1L), doc.get("value"));
    }

    @Test
    void theHourBucketIsTheUtcHourOfTheEventTimeWithItsFirstAndLastMillisecond() {
        assertEquals("2026-01-01T05", EventDocument.hourOf(new Date(1767243600000L)));  // 05:00:00.000
        assertEquals("2026-01-01T05", EventDocument.hourOf(new Date(1767247199999L)));  // 05:59:59.999
        assertEquals("2026-01-01T06", EventDocument.hourOf(new Date(1767247200000L)));
        assertEquals("1970-01-01T00", EventDocument.hourOf(new Date(0L)));
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

    private static EventDocument<SinkRecord> indexing(String mode, String indexed) {
        EventDocument<SinkRecord> t = new EventDocument<>();
        t.configure(Map.of("mode", mode, "indexed", indexed));
        return t;
    }

    @Test
    void indexedFieldsAreCopiedToTheTopLevelUnderTheirCopyNames() {
        Map<String, Object> value = Map.of("ward", "W7", "member", Map.of("id", 42L), "score", 1.5, "ok", true);
        Map<?, ?> doc = (Map<?, ?>) indexing("log", "value.ward, value.member.id,value.score,value.ok,key")
                .apply(record("patient-1", value, 3)).value();
        assertEquals("W7", doc.get("_i:value:ward"));
        assertEquals(42L, doc.get("_i:value:member:id"));
        assertEquals(1.5, doc.get("_i:value:score"));
        assertEquals(true, doc.get("_i:value:ok"));
        assertEquals("patient-1", doc.get("_i:key"));
        assertEquals(value, doc.get("value"));
    }

    @Test
    void theCopyNameHasNoDotsAndCannotMeetAnExistingField() {
        assertEquals("_i:value:member:id", EventDocument.copyName("value.member.id"));
        assertEquals("_i:key", EventDocument.copyName("key"));
        Map<?, ?> doc = (Map<?, ?>) indexing("log", "value.ward").apply(record("k", Map.of("ward", "W1"), 1)).value();
        assertEquals(List.of("_ts", "_h", "_partition", "_offset", "_key", "value", "_i:value:ward"),
                List.copyOf(doc.keySet()));
    }

    @Test
    void aMissingFieldAnObjectOrAListLeavesTheCopyOutAndNullIsKept() {
        Map<String, Object> value = new HashMap<>();
        value.put("member", Map.of("id", 1L));
        value.put("tags", Arrays.asList("a", "b"));
        value.put("ward", null);
        Map<?, ?> doc = (Map<?, ?>) indexing("log", "value.member,value.tags,value.absent,value.tags.x,value.ward")
                .apply(record(null, value, 1)).value();
        assertFalse(doc.containsKey("_i:value:member"));
        assertFalse(doc.containsKey("_i:value:tags"));
        assertFalse(doc.containsKey("_i:value:absent"));
        assertFalse(doc.containsKey("_i:value:tags:x"));
        assertTrue(doc.containsKey("_i:value:ward"));
        assertNull(doc.get("_i:value:ward"));
    }

    @Test
    void aTombstoneOrAMissingKeyHasNoCopies() {
        Map<?, ?> doc = (Map<?, ?>) indexing("log", "value.ward,key").apply(record(null, null, 9)).value();
        assertFalse(doc.containsKey("_i:value:ward"));
        assertFalse(doc.containsKey("_i:key"));
    }

    @Test
    void tableModeDocumentsCarryTheCopiesToo() {
        Map<?, ?> doc = (Map<?, ?>) indexing("table", "key.id,value.ward")
                .apply(record(Map.of("id", 9L), Map.of("ward", "W2"), 4)).value();
        assertEquals(9L, doc.get("_i:key:id"));
        assertEquals("W2", doc.get("_i:value:ward"));
    }

    @Test
    void anIndexedPathOutsideValueAndKeyOrWithAColonIsAConfigError() {
        assertThrows(ConfigException.class, () -> indexing("log", "ward"));
        assertThrows(ConfigException.class, () -> indexing("log", "value"));
        assertThrows(ConfigException.class, () -> indexing("log", "value.a:b"));
        assertThrows(ConfigException.class, () -> indexing("log", "value..a"));
        assertThrows(ConfigException.class, () -> indexing("log", "value.$where"));
    }

    @Test
    void noIndexedFieldsMeansNoCopies() {
        Map<?, ?> doc = (Map<?, ?>) indexing("log", "").apply(record("k", Map.of("ward", "W1"), 1)).value();
        assertEquals(6, doc.size());
    }
}
