package portal.aggregator.topology;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.burt.jmespath.Expression;
import java.util.regex.Pattern;

/**
 * A JMESPath expression that is only a chain of plain field names ({@code value.provider}, {@code value.a.b}),
 * the common case for group_by, time fields and measure fields, evaluated by looking the names up one after the
 * other instead of through the JMESPath interpreter. Each step is the runtime's own {@code getProperty}, so the
 * results are the interpreter's (null for a missing field or a field of a non-object).
 */
final class FieldPath implements Expression<JsonNode> {
    private static final Pattern CHAIN = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)*");
    private final TextNode[] names;

    private FieldPath(TextNode[] names) {
        this.names = names;
    }

    /** The path for an expression of plain field names only, else null (the interpreter evaluates it). */
    static FieldPath of(String expression) {
        if (expression == null || !CHAIN.matcher(expression).matches()) {
            return null;
        }
        String[] parts = expression.split("\\.");
        TextNode[] names = new TextNode[parts.length];
        for (int i = 0; i < parts.length; i++) {
            names[i] = TextNode.valueOf(parts[i]);
        }
        return new FieldPath(names);
    }

    @Override
    public JsonNode search(JsonNode input) {
        JsonNode node = input;
        for (TextNode name : names) {
            node = Definition.JMESPATH.getProperty(node, name);
        }
        return node;
    }
}
