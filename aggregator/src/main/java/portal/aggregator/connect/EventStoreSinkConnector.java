package portal.aggregator.connect;

import com.mongodb.kafka.connect.MongoSinkConnector;
import org.apache.kafka.connect.connector.Task;

/**
 * The event store's managed sink: Kafka Connect's MongoDB sink connector, whose tasks are {@link EventStoreSinkTask}
 * (an append-only log's records are inserted, and a record written again after a restart is recognised). Its jar
 * must sit in the same plugin directory as MongoDB's connector jar, which it extends.
 */
public final class EventStoreSinkConnector extends MongoSinkConnector {
    @Override
    public Class<? extends Task> taskClass() {
        return EventStoreSinkTask.class;
    }
}
