package portal.aggregator.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import portal.aggregator.serde.InMemorySchemaSource;
import portal.aggregator.serde.WireFormatDecoder;

class HttpApiTest {
    private final Map<String, HttpApi.DefinitionView> views = new LinkedHashMap<>();
    private final HttpClient client = HttpClient.newHttpClient();
    private HttpApi api;

    @BeforeEach
    void start() throws Exception {
        api = new HttpApi(0, () -> views, new WireFormatDecoder(new InMemorySchemaSource()));
    }

    @AfterEach
    void stop() {
        api.close();
    }

    private HttpResponse<String> get(String path) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + api.port() + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> post(String path, String body) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + api.port() + path))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void healthIsOkOnlyWhileEveryDefinitionRunsOrRebalances() throws Exception {
        assertEquals(200, get("/healthz").statusCode());
        views.put("t.a", new HttpApi.DefinitionView(2, "RUNNING", null, 0, 0, 0, 0, 0));
        views.put("t.b", new HttpApi.DefinitionView(1, "REBALANCING", null, 0, 0, 0, 0, 0));
        assertEquals(200, get("/healthz").statusCode());
        views.put("t.c", new HttpApi.DefinitionView(1, "ERROR", "MissingSourceTopicException: x", 0, 0, 0, 0, 0));
        HttpResponse<String> unhealthy = get("/healthz");
        assertEquals(503, unhealthy.statusCode());
        assertTrue(unhealthy.body().contains("\"t.c\":{\"version\":1,\"state\":\"ERROR\""), unhealthy.body());
        assertEquals(405, post("/healthz", "").statusCode());
    }

    @Test
    void metricsPerDefinition() throws Exception {
        views.put("t.a", new HttpApi.DefinitionView(2, "RUNNING", null, 10, 4, 2, 1, 7));
        String text = get("/metrics").body();
        assertTrue(text.contains("aggregation_records_in_total{definition=\"t.a\"} 10.0"), text);
        assertTrue(text.contains("aggregation_windows_emitted_total{definition=\"t.a\"} 4.0"), text);
        assertTrue(text.contains("aggregation_late_events_total{definition=\"t.a\",outcome=\"dropped\"} 2.0"), text);
        assertTrue(text.contains("aggregation_late_events_total{definition=\"t.a\",outcome=\"dead_lettered\"} 1.0"), text);
        assertTrue(text.contains("aggregation_lag{definition=\"t.a\"} 7.0"), text);
    }

    @Test
    void previewAnswersResultsOrFieldErrors() throws Exception {
        String definition = "{\"source_topic\":\"s\",\"window\":{\"type\":\"tumbling\",\"size_ms\":1000,\"grace_ms\":0},"
                + "\"measures\":[{\"name\":\"n\",\"op\":\"count\"}],\"emit\":\"on_update\",\"late\":\"drop\"}";
        HttpResponse<String> ok = post("/preview", "{\"definition\":" + definition
                + ",\"events\":[{\"key\":\"a\",\"value\":{},\"timestamp_ms\":5}]}");
        assertEquals(200, ok.statusCode(), ok.body());
        assertTrue(ok.body().contains("\"n\":1") && ok.body().contains("\"late\":[]"), ok.body());
        HttpResponse<String> bad = post("/preview", "{\"definition\":{},\"events\":[]}");
        assertEquals(400, bad.statusCode());
        assertTrue(bad.body().contains("definition.source_topic"), bad.body());
        assertEquals(400, post("/preview", "not json").statusCode());
    }
}
