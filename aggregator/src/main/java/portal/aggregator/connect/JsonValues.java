package portal.aggregator.connect;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A Jackson tree as schemaless Connect data: objects become maps (field order kept), arrays lists, numbers the
 * narrowest of Long, BigDecimal or Double. The MongoDB sink writes such a map as a document, so a value keeps the
 * shape its team wrote, whatever format it came in.
 */
final class JsonValues {
    private JsonValues() {
    }

    static Object toConnect(JsonNode node) {
        if (node == null || node.isNull() || node.isMissingNode()) {
            return null;
        }
        if (node.isObject()) {
            Map<String, Object> map = new LinkedHashMap<>();
            node.properties().forEach(e -> map.put(e.getKey(), toConnect(e.getValue())));
            return map;
        }
        if (node.isArray()) {
            List<Object> list = new ArrayList<>(node.size());
            node.forEach(item -> list.add(toConnect(item)));
            return list;
        }
        if (node.isTextual()) {
            return node.textValue();
        }
        if (node.isBoolean()) {
            return node.booleanValue();
        }
        if (node.isIntegralNumber()) {
            // BSON has 64-bit integers at most; a larger one is kept exactly as a decimal.
            return node.canConvertToLong() ? (Object) node.longValue() : node.decimalValue();
        }
        if (node.isNumber()) {
            return node.doubleValue();
        }
        return node.asText();
    }
}
