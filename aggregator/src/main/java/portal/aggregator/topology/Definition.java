package portal.aggregator.topology;

import com.fasterxml.jackson.databind.JsonNode;
import io.burt.jmespath.Expression;
import io.burt.jmespath.JmesPathException;
import io.burt.jmespath.jackson.JacksonRuntime;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One row of the definitions table (docs/aggregations.md), checked. {@link #parse} never throws for bad input:
 * every problem is collected under its field path, the shape of the preview's 400 answer and of the ERROR
 * status the runtime reports.
 */
public final class Definition {
    public static final JacksonRuntime JMESPATH = new JacksonRuntime();
    static final Set<String> WINDOW_TYPES = Set.of("tumbling", "hopping", "sliding", "session");
    static final Set<String> OPS = Set.of("count", "sum", "min", "max", "avg", "count_distinct", "first", "last");

    public enum WindowType { TUMBLING, HOPPING, SLIDING, SESSION }

    public record Measure(String name, String op, String field, Expression<JsonNode> expression) {
    }

    public String id;
    public long version;
    public String applicationId;
    public String sourceTopic;
    public String outputTopic;
    public String deadLetterTopic;
    public String filterText;
    public Expression<JsonNode> filter;
    public String groupByText;
    public Expression<JsonNode> groupBy;
    public WindowType windowType;
    public long sizeMs;
    public long advanceMs;
    public long gapMs;
    public long graceMs;
    public boolean timeFromField;
    public String timeFieldText;
    public Expression<JsonNode> timeField;
    public final List<Measure> measures = new ArrayList<>();
    public boolean emitOnClose;
    public boolean lateToDeadLetter;
    public String startFrom = "earliest";
    public int outputSchemaId;
    /** Field path to messages; empty when the definition can run. */
    public final Map<String, List<String>> errors = new LinkedHashMap<>();

    public boolean valid() {
        return errors.isEmpty();
    }

    /**
     * @param forPreview a preview definition has no version, application id, output topic or schema id, and
     *                   its late events are always shown, so a dead-letter topic is not needed either
     */
    public static Definition parse(JsonNode row, boolean forPreview) {
        Definition d = new Definition();
        if (row == null || !row.isObject()) {
            d.error("", "must be a JSON object");
            return d;
        }
        d.id = text(row, "id");
        d.sourceTopic = text(row, "source_topic");
        d.outputTopic = text(row, "output_topic");
        d.deadLetterTopic = text(row, "dead_letter_topic");
        if (d.sourceTopic == null) {
            d.error("source_topic", "is required");
        }
        if (!forPreview) {
            if (d.id == null) {
                d.error("id", "is required");
            }
            d.applicationId = text(row, "application_id");
            if (d.applicationId == null) {
                d.error("application_id", "is required");
            }
            if (d.outputTopic == null) {
                d.error("output_topic", "is required");
            }
            JsonNode version = row.get("version");
            if (version == null || !version.canConvertToLong()) {
                d.error("version", "must be an integer");
            } else {
                d.version = version.asLong();
            }
            JsonNode schemaId = row.get("output_schema_id");
            if (schemaId == null || !schemaId.canConvertToInt()) {
                d.error("output_schema_id", "must be an integer");
            } else {
                d.outputSchemaId = schemaId.asInt();
            }
        }
        d.filterText = text(row, "filter");
        d.filter = d.compile("filter", d.filterText);
        d.groupByText = text(row, "group_by");
        d.groupBy = d.compile("group_by", d.groupByText);
        d.parseWindow(row.get("window"));
        d.parseTime(row.get("time"));
        d.parseMeasures(row.get("measures"));
        String emit = text(row, "emit");
        if (emit == null || !(emit.equals("on_update") || emit.equals("on_close"))) {
            d.error("emit", "must be on_update or on_close");
        }
        d.emitOnClose = "on_close".equals(emit);
        String late = text(row, "late");
        if (late == null || !(late.equals("drop") || late.equals("dead_letter"))) {
            d.error("late", "must be drop or dead_letter");
        }
        d.lateToDeadLetter = "dead_letter".equals(late);
        if (d.lateToDeadLetter && d.deadLetterTopic == null && !forPreview) {
            d.error("dead_letter_topic", "is required when late is dead_letter");
        }
        String startFrom = text(row, "start_from");
        if (startFrom != null && !(startFrom.equals("earliest") || startFrom.equals("latest"))) {
            d.error("start_from", "must be earliest or latest");
        } else if (startFrom != null) {
            d.startFrom = startFrom;
        }
        return d;
    }

    private void parseWindow(JsonNode window) {
        if (window == null || !window.isObject()) {
            error("window", "is required (an object with type and its sizes)");
            return;
        }
        String type = text(window, "type");
        if (type == null || !WINDOW_TYPES.contains(type)) {
            error("window.type", "must be one of tumbling, hopping, sliding, session");
            return;
        }
        windowType = WindowType.valueOf(type.toUpperCase());
        graceMs = millis(window, "grace_ms", true, 0);
        switch (windowType) {
            case TUMBLING, SLIDING -> sizeMs = millis(window, "size_ms", false, 1);
            case HOPPING -> {
                sizeMs = millis(window, "size_ms", false, 1);
                advanceMs = millis(window, "advance_ms", false, 1);
                if (advanceMs > sizeMs && sizeMs > 0) {
                    error("window.advance_ms", "must not be larger than size_ms");
                }
            }
            case SESSION -> gapMs = millis(window, "gap_ms", false, 1);
        }
    }

    private long millis(JsonNode window, String name, boolean zeroAllowed, long min) {
        JsonNode node = window.get(name);
        if (node == null || !node.canConvertToLong() || !node.isIntegralNumber() || node.asLong() < (zeroAllowed ? 0 : min)) {
            error("window." + name, zeroAllowed ? "must be an integer >= 0" : "must be an integer >= " + min);
            return 0;
        }
        return node.asLong();
    }

    private void parseTime(JsonNode time) {
        if (time == null || time.isNull()) {
            return; // the record timestamp
        }
        String source = text(time, "source");
        if ("record".equals(source) || source == null) {
            return;
        }
        if (!"field".equals(source)) {
            error("time.source", "must be record or field");
            return;
        }
        timeFromField = true;
        timeFieldText = text(time, "field");
        if (timeFieldText == null) {
            error("time.field", "is required when time.source is field");
        }
        timeField = compile("time.field", timeFieldText);
    }

    private void parseMeasures(JsonNode list) {
        if (list == null || !list.isArray() || list.isEmpty()) {
            error("measures", "must be a non-empty list");
            return;
        }
        Set<String> names = new HashSet<>();
        for (int i = 0; i < list.size(); i++) {
            JsonNode m = list.get(i);
            String path = "measures[" + i + "]";
            String name = text(m, "name");
            String op = text(m, "op");
            String field = text(m, "field");
            if (name == null) {
                error(path + ".name", "is required");
            } else if (!names.add(name) || name.equals("group") || name.equals("window_start")
                    || name.equals("window_end")) {
                error(path + ".name", "must be unique and not group, window_start or window_end");
            }
            if (op == null || !OPS.contains(op)) {
                error(path + ".op", "must be one of count, sum, min, max, avg, count_distinct, first, last");
                continue;
            }
            if (!op.equals("count") && field == null) {
                error(path + ".field", "is required for " + op);
            }
            Expression<JsonNode> expression = op.equals("count") ? null : compile(path + ".field", field);
            measures.add(new Measure(name, op, field, expression));
        }
    }

    private Expression<JsonNode> compile(String path, String text) {
        if (text == null) {
            return null;
        }
        try {
            Expression<JsonNode> compiled = JMESPATH.compile(text); // also checks the plain paths
            FieldPath plain = FieldPath.of(text);
            return plain != null ? plain : compiled;
        } catch (JmesPathException e) {
            error(path, "not a valid JMESPath expression: " + e.getMessage());
            return null;
        }
    }

    private static String text(JsonNode node, String name) {
        JsonNode value = node == null ? null : node.get(name);
        return value == null || value.isNull() || !value.isTextual() || value.asText().isEmpty() ? null : value.asText();
    }

    void error(String path, String message) {
        errors.computeIfAbsent(path, k -> new ArrayList<>()).add(message);
    }
}
