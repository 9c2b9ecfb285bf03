package portal.aggregator.serde;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Schemas from a Confluent-compatible registry API (the stack's Apicurio at /apis/ccompat/v7). A schema id
 * never changes its content, so every answer is cached for the life of the process.
 */
public final class RegistrySchemaSource implements SchemaSource {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final String baseUrl;
    private final HttpClient http;
    private final Map<Integer, RegisteredSchema> byId = new ConcurrentHashMap<>();
    private final Map<String, RegisteredSchema> bySubject = new ConcurrentHashMap<>();

    public RegistrySchemaSource(String baseUrl) {
        this.baseUrl = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    }

    @Override
    public RegisteredSchema byId(int id) throws SchemaLookupException {
        RegisteredSchema cached = byId.get(id);
        if (cached != null) {
            return cached;
        }
        RegisteredSchema fetched = parse(get("/schemas/ids/" + id));
        byId.put(id, fetched);
        return fetched;
    }

    @Override
    public RegisteredSchema bySubjectVersion(String subject, int version) throws SchemaLookupException {
        String key = subject + "/" + version;
        RegisteredSchema cached = bySubject.get(key);
        if (cached != null) {
            return cached;
        }
        String path = "/subjects/" + URLEncoder.encode(subject, StandardCharsets.UTF_8).replace("+", "%20")
                + "/versions/" + version;
        RegisteredSchema fetched = parse(get(path));
        bySubject.put(key, fetched);
        return fetched;
    }

    private JsonNode get(String path) throws SchemaLookupException {
        HttpRequest request = HttpRequest.newBuilder(URI.create(baseUrl + path))
                .timeout(Duration.ofSeconds(10)).header("Accept", "application/json").GET().build();
        try {
            HttpResponse<byte[]> response = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
            if (response.statusCode() != 200) {
                throw new SchemaLookupException("registry answered " + response.statusCode() + " for " + path + ": "
                        + new String(response.body(), StandardCharsets.UTF_8), response.statusCode() == 404);
            }
            return JSON.readTree(response.body());
        } catch (IOException e) {
            throw new SchemaLookupException("registry unreachable for " + path + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SchemaLookupException("interrupted while asking the registry for " + path, e);
        }
    }

    static RegisteredSchema parse(JsonNode body) {
        List<Reference> references = new ArrayList<>();
        for (JsonNode ref : body.path("references")) {
            references.add(new Reference(ref.path("name").asText(), ref.path("subject").asText(),
                    ref.path("version").asInt()));
        }
        return new RegisteredSchema(body.path("schemaType").asText(null), body.path("schema").asText(), references);
    }
}
