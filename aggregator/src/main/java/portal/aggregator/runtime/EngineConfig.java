package portal.aggregator.runtime;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.common.config.SaslConfigs;

/**
 * The engine's settings, all from environment variables (docs/aggregations.md). Kafka credentials are the
 * engine's own SCRAM principal; locally the stack's admin may stand in until the portal provisions one.
 */
public record EngineConfig(String bootstrapServers, String securityProtocol, String saslMechanism, String username,
                           String password, String registryUrl, String definitionsTopic, String statusTopic,
                           Path stateDir, int httpPort, String instanceId) {

    public static EngineConfig fromEnvironment(Map<String, String> env) {
        String instance = env.getOrDefault("AGGREGATOR_INSTANCE_ID",
                ManagementFactory.getRuntimeMXBean().getName().replace('@', '-'));
        String stateDir = env.get("AGGREGATOR_STATE_DIR");
        return new EngineConfig(
                env.getOrDefault("AGGREGATOR_BOOTSTRAP_SERVERS", "127.0.0.1:19092"),
                env.getOrDefault("AGGREGATOR_SECURITY_PROTOCOL", "PLAINTEXT"),
                env.getOrDefault("AGGREGATOR_SASL_MECHANISM", "SCRAM-SHA-512"),
                env.get("AGGREGATOR_USERNAME"),
                env.get("AGGREGATOR_PASSWORD"),
                env.getOrDefault("REGISTRY_URL", "http://127.0.0.1:18081/apis/ccompat/v7"),
                env.getOrDefault("AGGREGATIONS_TOPIC", "_portal.aggregations"),
                env.getOrDefault("AGGREGATIONS_STATUS_TOPIC", "_portal.aggregations-status"),
                // Two processes on one machine must not share Kafka Streams' state directory locks.
                stateDir == null || stateDir.isEmpty()
                        ? Path.of(System.getProperty("java.io.tmpdir"), "aggregator-" + instance) : Path.of(stateDir),
                Integer.parseInt(env.getOrDefault("AGGREGATOR_HTTP_PORT", "8095")),
                instance);
    }

    /** Connection settings every client of the engine shares (consumer, producer, admin, Kafka Streams). */
    public Properties clientProperties() {
        Properties props = new Properties();
        props.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, securityProtocol);
        if (securityProtocol.startsWith("SASL")) {
            props.put(SaslConfigs.SASL_MECHANISM, saslMechanism);
            String module = saslMechanism.startsWith("SCRAM")
                    ? "org.apache.kafka.common.security.scram.ScramLoginModule"
                    : "org.apache.kafka.common.security.plain.PlainLoginModule";
            props.put(SaslConfigs.SASL_JAAS_CONFIG, module + " required username=\"" + escape(username)
                    + "\" password=\"" + escape(password) + "\";");
        }
        return props;
    }

    private static String escape(String value) {
        return value == null ? "" : value.replace("\\", "\\\\").replace("\"", "\\\"");
    }
}
