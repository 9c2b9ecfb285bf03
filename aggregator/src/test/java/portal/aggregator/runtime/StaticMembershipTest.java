package portal.aggregator.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;

class StaticMembershipTest {
    private static Map<String, Object> mainConsumer(String applicationId, String instance) {
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, applicationId);
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "test:9092");
        RunningDefinition.staticMembership(props, applicationId, instance);
        return new StreamsConfig(props).getMainConsumerConfigs(applicationId, "client", 0);
    }

    @Test
    void theMainConsumerIsAStaticMemberNamedByDefinitionAndInstance() {
        Map<String, Object> a = mainConsumer("portal-agg.t.x.v1", "engine-a");
        // Kafka Streams appends the stream thread's index.
        assertEquals("portal-agg.t.x.v1.engine-a-0", a.get(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG));
        assertEquals(RunningDefinition.SESSION_TIMEOUT_MS, a.get(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG));
        // The same instance restarted is the same member; another instance of the same definition is not.
        assertEquals(a.get(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG),
                mainConsumer("portal-agg.t.x.v1", "engine-a").get(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG));
        assertNotEquals(a.get(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG),
                mainConsumer("portal-agg.t.x.v1", "engine-b").get(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG));
    }

    @Test
    void charactersKafkaRefusesInAnInstanceIdBecomeUnderscores() {
        assertEquals("portal-agg.t.x.v1.pod_7_host-1.eu-0",
                mainConsumer("portal-agg.t.x.v1", "pod 7@host-1.eu").get(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG));
    }

    @Test
    void theRestoreConsumerIsNoGroupMember() {
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "portal-agg.t.x.v1");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "test:9092");
        RunningDefinition.staticMembership(props, "portal-agg.t.x.v1", "engine-a");
        assertNull(new StreamsConfig(props).getRestoreConsumerConfigs("client").get(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG));
    }
}
