package portal.aggregator.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import portal.aggregator.serde.WireFormatDecoder;
import portal.aggregator.topology.Preview;

/**
 * The engine's HTTP port: GET /healthz, GET /metrics (Prometheus text), POST /preview (docs/aggregations.md).
 * Bad requests get 400 with field errors; the JDK's server is enough for these three routes.
 */
public final class HttpApi implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(HttpApi.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_BODY = 32 * 1024 * 1024;
    private static final Set<String> HEALTHY = Set.of("RUNNING", "REBALANCING");
    private final HttpServer server;
    private final Supplier<Map<String, DefinitionView>> definitions;
    private final WireFormatDecoder decoder;
    // A preview runs a whole topology in memory: two at a time keep the engine's own work going.
    private final Semaphore previews = new Semaphore(2);

    /** What the HTTP port shows of one running definition. */
    public record DefinitionView(long version, String state, String error, long recordsIn, long windowsEmitted,
                                 long lateDropped, long lateDeadLettered, long lag) {
    }

    public HttpApi(int port, Supplier<Map<String, DefinitionView>> definitions, WireFormatDecoder decoder)
            throws IOException {
        this.definitions = definitions;
        this.decoder = decoder;
        server = HttpServer.create(new InetSocketAddress(port), 64);
        server.setExecutor(Executors.newFixedThreadPool(4));
        server.createContext("/healthz", ex -> handle(ex, "GET", this::healthz));
        server.createContext("/metrics", ex -> handle(ex, "GET", this::metrics));
        server.createContext("/preview", ex -> handle(ex, "POST", this::preview));
        server.start();
    }

    private interface Handler {
        void handle(HttpExchange exchange) throws IOException;
    }

    private void handle(HttpExchange exchange, String method, Handler handler) throws IOException {
        try (exchange) {
            if (!exchange.getRequestMethod().equals(method)) {
                exchange.getResponseHeaders().add("Allow", method);
                send(exchange, 405, error("method", "use " + method));
                return;
            }
            handler.handle(exchange);
        } catch (RuntimeException e) {
            LOG.error("{} {} failed", exchange.getRequestMethod(), exchange.getRequestURI(), e);
            send(exchange, 500, error("", "internal error: " + e.getMessage()));
        }
    }

    private void healthz(HttpExchange exchange) throws IOException {
        ObjectNode body = JSON.createObjectNode();
        ObjectNode states = body.putObject("definitions");
        boolean healthy = true;
        for (Map.Entry<String, DefinitionView> e : definitions.get().entrySet()) {
            ObjectNode d = states.putObject(e.getKey());
            d.put("version", e.getValue().version());
            d.put("state", e.getValue().state());
            d.put("error", e.getValue().error());
            healthy &= HEALTHY.contains(e.getValue().state());
        }
        body.put("status", healthy ? "ok" : "unhealthy");
        send(exchange, healthy ? 200 : 503, body);
    }

    private void metrics(HttpExchange exchange) throws IOException {
        CounterSnapshot.Builder in = CounterSnapshot.builder().name("aggregation_records_in")
                .help("Source events read, per definition");
        CounterSnapshot.Builder emitted = CounterSnapshot.builder().name("aggregation_windows_emitted")
                .help("Window results written to the output topic, per definition");
        CounterSnapshot.Builder late = CounterSnapshot.builder().name("aggregation_late_events")
                .help("Late events (past grace, unreadable time or payload), by outcome");
        GaugeSnapshot.Builder lag = GaugeSnapshot.builder().name("aggregation_lag")
                .help("Source records not yet read by this process, per definition");
        definitions.get().forEach((id, d) -> {
            Labels labels = Labels.of("definition", id);
            in.dataPoint(CounterSnapshot.CounterDataPointSnapshot.builder().labels(labels).value(d.recordsIn()).build());
            emitted.dataPoint(CounterSnapshot.CounterDataPointSnapshot.builder().labels(labels)
                    .value(d.windowsEmitted()).build());
            late.dataPoint(CounterSnapshot.CounterDataPointSnapshot.builder()
                    .labels(Labels.of("definition", id, "outcome", "dropped")).value(d.lateDropped()).build());
            late.dataPoint(CounterSnapshot.CounterDataPointSnapshot.builder()
                    .labels(Labels.of("definition", id, "outcome", "dead_lettered")).value(d.lateDeadLettered()).build());
            lag.dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder().labels(labels).value(d.lag()).build());
        });
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrometheusTextFormatWriter.create().write(out,
                MetricSnapshots.of(in.build(), emitted.build(), late.build(), lag.build()), EscapingScheme.DEFAULT);
        exchange.getResponseHeaders().add("Content-Type", PrometheusTextFormatWriter.CONTENT_TYPE);
        byte[] bytes = out.toByteArray();
        exchange.sendResponseHeaders(200, bytes.length);
        exchange.getResponseBody().write(bytes);
    }

    private void preview(HttpExchange exchange) throws IOException {
        JsonNode body;
        try (InputStream in = exchange.getRequestBody()) {
            byte[] bytes = in.readNBytes(MAX_BODY + 1);
            if (bytes.length > MAX_BODY) {
                send(exchange, 413, error("", "body larger than " + MAX_BODY + " bytes"));
                return;
            }
            body = JSON.readTree(bytes);
        } catch (IOException e) {
            send(exchange, 400, error("", "not JSON: " + e.getMessage()));
            return;
        }
        if (!previews.tryAcquire()) {
            exchange.getResponseHeaders().add("Retry-After", "1");
            send(exchange, 429, error("", "previews are busy, retry shortly"));
            return;
        }
        try {
            send(exchange, 200, Preview.run(body, decoder));
        } catch (Preview.Invalid invalid) {
            ObjectNode answer = JSON.createObjectNode();
            answer.set("errors", JSON.valueToTree(invalid.errors));
            send(exchange, 400, answer);
        } finally {
            previews.release();
        }
    }

    private static ObjectNode error(String field, String message) {
        ObjectNode body = JSON.createObjectNode();
        body.putObject("errors").putArray(field).add(message);
        return body;
    }

    private static void send(HttpExchange exchange, int status, JsonNode body) throws IOException {
        byte[] bytes = JSON.writeValueAsBytes(body);
        exchange.getResponseHeaders().add("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, bytes.length);
        exchange.getResponseBody().write(bytes);
    }

    public int port() {
        return server.getAddress().getPort();
    }

    @Override
    public void close() {
        server.stop(1);
    }

}
