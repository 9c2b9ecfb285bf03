package portal.aggregator.connect;

import com.mongodb.kafka.connect.sink.MongoSinkTask;
import com.mongodb.kafka.connect.sink.dlq.WriteConcernException;
import com.mongodb.kafka.connect.sink.dlq.WriteException;
import com.mongodb.kafka.connect.sink.dlq.WriteSkippedException;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.metrics.PluginMetrics;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.errors.RetriableException;
import org.apache.kafka.connect.sink.ErrantRecordReporter;
import org.apache.kafka.connect.sink.SinkRecord;
import org.apache.kafka.connect.sink.SinkTaskContext;

/**
 * MongoDB's sink task, for a log whose documents are inserted ({@code InsertOneDefaultStrategy}, unordered bulk
 * writes, {@code mongo.errors.tolerance=all}): what MongoDB's task reports as a failed record is sorted here.
 *
 * <ul>
 *   <li>A duplicate key: a document's id is its record's place in the log ({@link EventDocument}), so a record
 *       delivered again after a restart (Connect delivers at least once) is refused by the unique {@code _id}, and
 *       that refusal means its document is already there, the same. It counts as written: no dead letter.
 *   <li>A record the store refused for itself (any other write error), or that could not be made a document: to
 *       the dead-letter topic with the reason, as every record the sink cannot keep.
 *   <li>Anything else (the store not answering, a write concern not met, a write skipped): the whole put is
 *       retried by the worker ({@link RetriableException}), so no event is lost while the store is away.
 * </ul>
 *
 * <p>Why inserts: an upsert by id (what a replace does) costs a lookup and a statement per document, which on
 * FerretDB is a small part of the rate of one insert of the batch. A table (one document per key) must replace,
 * and keeps MongoDB's own behaviour: nothing here changes unless the write model is the insert one. MongoDB's own
 * logging of failed records (with their values, PHI) is off for a log ({@code mongo.errors.log.enable=false}).
 */
public final class EventStoreSinkTask extends MongoSinkTask {
    static final String INSERT_STRATEGY = "com.mongodb.kafka.connect.sink.writemodel.strategy.InsertOneDefaultStrategy";
    static final int DUPLICATE_KEY = 11000;
    private static final Pattern CODE = Pattern.compile("\\bcode=(-?\\d+),");

    enum Outcome { STORED, DEAD_LETTER, RETRY }

    private volatile boolean inserts;

    @Override
    public void initialize(SinkTaskContext context) {
        super.initialize(new SortingContext(context, this));
    }

    @Override
    public void start(Map<String, String> props) {
        configure(props);
        super.start(props);
    }

    void configure(Map<String, String> props) {
        inserts = INSERT_STRATEGY.equals(props.get("writemodel.strategy"))
                && "false".equalsIgnoreCase(props.getOrDefault("bulk.write.ordered", "true"));
    }

    /** What a failed record reported by MongoDB's task means for a log that is inserted. */
    static Outcome outcomeOf(Throwable error) {
        if (error instanceof WriteSkippedException || error instanceof WriteConcernException) {
            return Outcome.RETRY;
        }
        if (error instanceof WriteException) {
            Matcher code = CODE.matcher(String.valueOf(error.getMessage()));
            return code.find() && Integer.parseInt(code.group(1)) == DUPLICATE_KEY ? Outcome.STORED
                    : Outcome.DEAD_LETTER;
        }
        return error instanceof DataException ? Outcome.DEAD_LETTER : Outcome.RETRY;
    }

    Future<Void> report(ErrantRecordReporter deadLetters, SinkRecord record, Throwable error) {
        Outcome outcome = inserts ? outcomeOf(error) : Outcome.DEAD_LETTER;
        if (outcome == Outcome.STORED) {
            return CompletableFuture.completedFuture(null);
        }
        if (outcome == Outcome.RETRY) {
            throw new RetriableException("the event store did not take the write; the worker retries it", error);
        }
        if (deadLetters == null) {
            throw new ConnectException("a record the event store refused, and no dead-letter topic", error);
        }
        return deadLetters.report(record, error);
    }

    /** The worker's context, whose errant record reporter sorts what MongoDB's task reports. */
    static final class SortingContext implements SinkTaskContext {
        private final SinkTaskContext worker;
        private final EventStoreSinkTask task;

        SortingContext(SinkTaskContext worker, EventStoreSinkTask task) {
            this.worker = worker;
            this.task = task;
        }

        @Override
        public ErrantRecordReporter errantRecordReporter() {
            ErrantRecordReporter deadLetters = worker.errantRecordReporter();
            return (record, error) -> task.report(deadLetters, record, error);
        }

        @Override
        public Map<String, String> configs() {
            return worker.configs();
        }

        @Override
        public void offset(Map<TopicPartition, Long> offsets) {
            worker.offset(offsets);
        }

        @Override
        public void offset(TopicPartition partition, long offset) {
            worker.offset(partition, offset);
        }

        @Override
        public void timeout(long timeoutMs) {
            worker.timeout(timeoutMs);
        }

        @Override
        public Set<TopicPartition> assignment() {
            return worker.assignment();
        }

        @Override
        public void pause(TopicPartition... partitions) {
            worker.pause(partitions);
        }

        @Override
        public void resume(TopicPartition... partitions) {
            worker.resume(partitions);
        }

        @Override
        public void requestCommit() {
            worker.requestCommit();
        }

        @Override
        public PluginMetrics pluginMetrics() {
            return worker.pluginMetrics();
        }
    }
}
