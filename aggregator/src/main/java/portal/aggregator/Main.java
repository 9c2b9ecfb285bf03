package portal.aggregator;

import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import portal.aggregator.http.HttpApi;
import portal.aggregator.runtime.Engine;
import portal.aggregator.runtime.EngineConfig;
import portal.aggregator.serde.RegistrySchemaSource;
import portal.aggregator.serde.WireFormatDecoder;

/** The aggregation engine's process: the engine following the definitions table, and its HTTP port. */
public final class Main {
    private static final Logger LOG = LoggerFactory.getLogger(Main.class);

    private Main() {
    }

    public static void main(String[] args) throws Exception {
        EngineConfig config = EngineConfig.fromEnvironment(System.getenv());
        WireFormatDecoder decoder = new WireFormatDecoder(new RegistrySchemaSource(config.registryUrl()));
        Engine engine = new Engine(config, decoder);
        HttpApi http = new HttpApi(config.httpPort(), () -> {
            Map<String, HttpApi.DefinitionView> views = new LinkedHashMap<>();
            engine.running().forEach((id, r) -> views.put(id, engine.view(r)));
            return views;
        }, decoder);
        LOG.info("aggregator {} on port {}, definitions from {}", config.instanceId(), http.port(),
                config.definitionsTopic());
        Thread main = Thread.currentThread();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            http.close();
            engine.close();
            try {
                main.join(15_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "aggregator-shutdown"));
        engine.run();
    }
}
