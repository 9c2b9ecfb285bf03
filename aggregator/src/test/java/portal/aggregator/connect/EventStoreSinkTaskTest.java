package portal.aggregator.connect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.mongodb.MongoSocketReadTimeoutException;
import com.mongodb.ServerAddress;
import com.mongodb.WriteError;
import com.mongodb.bulk.WriteConcernError;
import com.mongodb.kafka.connect.sink.dlq.WriteConcernException;
import com.mongodb.kafka.connect.sink.dlq.WriteException;
import com.mongodb.kafka.connect.sink.dlq.WriteSkippedException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.errors.RetriableException;
import org.apache.kafka.connect.sink.ErrantRecordReporter;
import org.apache.kafka.connect.sink.SinkRecord;
import org.bson.BsonDocument;
import org.junit.jupiter.api.Test;

public class EventStoreSinkTaskTest {
    private static WriteException refused(int code) {
        return new WriteException(new WriteError(code, "E" + code + " refused", new BsonDocument()));
    }

    private static final SinkRecord RECORD = new SinkRecord("t", 0, null, null, null, "v", 7, 0L,
            TimestampType.CREATE_TIME);

    @Test
    void aDuplicateKeyIsARecordStoredBefore() {
        assertEquals(EventStoreSinkTask.Outcome.STORED, EventStoreSinkTask.outcomeOf(refused(11000)));
    }

    @Test
    void aRecordTheStoreRefusedOrThatIsNoDocumentIsADeadLetter() {
        assertEquals(EventStoreSinkTask.Outcome.DEAD_LETTER, EventStoreSinkTask.outcomeOf(refused(121)));
        assertEquals(EventStoreSinkTask.Outcome.DEAD_LETTER, EventStoreSinkTask.outcomeOf(refused(110000)));
        assertEquals(EventStoreSinkTask.Outcome.DEAD_LETTER,
                EventStoreSinkTask.outcomeOf(new DataException("no _id in the key")));
    }

    @Test
    void aStoreThatIsAwayOrAWriteNotDoneIsRetried() {
        assertEquals(EventStoreSinkTask.Outcome.RETRY, EventStoreSinkTask.outcomeOf(
                new MongoSocketReadTimeoutException("timed out", new ServerAddress(), new RuntimeException())));
        assertEquals(EventStoreSinkTask.Outcome.RETRY, EventStoreSinkTask.outcomeOf(new WriteSkippedException()));
        assertEquals(EventStoreSinkTask.Outcome.RETRY, EventStoreSinkTask.outcomeOf(new WriteConcernException(
                new WriteConcernError(64, "", "waiting for replication timed out", new BsonDocument()))));
    }

    @Test
    void theReportSendsOnlyDeadLettersToTheTopicAndRetriesTheRest() {
        List<Throwable> sent = new ArrayList<>();
        ErrantRecordReporter deadLetters = (record, error) -> {
            sent.add(error);
            return CompletableFuture.completedFuture(null);
        };
        EventStoreSinkTask task = new EventStoreSinkTask();
        task.configure(Map.of("writemodel.strategy", EventStoreSinkTask.INSERT_STRATEGY, "bulk.write.ordered", "false"));

        task.report(deadLetters, RECORD, refused(11000));
        task.report(deadLetters, RECORD, refused(121));
        assertThrows(RetriableException.class, () -> task.report(deadLetters, RECORD, new WriteSkippedException()));

        assertEquals(1, sent.size());
        assertTrue(sent.get(0).getMessage().contains("code=121,"), sent.get(0).getMessage());
    }

    @Test
    void aTableKeepsMongoDbsOwnBehaviour() {
        List<Throwable> sent = new ArrayList<>();
        EventStoreSinkTask task = new EventStoreSinkTask();
        task.configure(Map.of("writemodel.strategy", "ReplaceOneDefaultStrategy", "bulk.write.ordered", "true"));

        task.report((record, error) -> {
            sent.add(error);
            return CompletableFuture.completedFuture(null);
        }, RECORD, refused(11000));

        assertEquals(1, sent.size());
    }
}
