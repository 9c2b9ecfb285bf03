package portal.aggregator.topology;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class BinaryNodesTest {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    /** What a JSON text round trip (the earlier serde) gives for the node. */
    private static JsonNode throughJson(JsonNode node) throws Exception {
        return Harness.JSON.readTree(Harness.JSON.writeValueAsBytes(node));
    }

    @Test
    void valuesReadBackAsAJsonRoundTripGaveThem() throws Exception {
        List<JsonNode> values = Arrays.asList(NODES.numberNode(3), NODES.numberNode(3L), NODES.numberNode(1L << 40),
                NODES.numberNode(Long.MIN_VALUE), NODES.numberNode(2.5), NODES.numberNode(-0.0), NODES.numberNode(1.1f),
                NODES.numberNode(new BigInteger("123456789012345678901234567890")), NODES.numberNode(new BigDecimal("1.10")),
                NODES.textNode("é ✓ text"), NODES.textNode(""), NODES.booleanNode(true), NODES.booleanNode(false),
                NODES.nullNode(), Harness.read("[1,\"a\",{\"b\":null}]"), Harness.read("{\"a\":{\"b\":[1,2]},\"c\":7,\"d\":{}}"));
        for (JsonNode value : values) {
            BinaryNodes.Writer out = new BinaryNodes.Writer();
            out.writeNode(value);
            JsonNode back = new BinaryNodes.Reader(out.toByteArray(), 0).readNode();
            JsonNode expected = throughJson(value);
            assertEquals(expected, back, value.toString());
            assertEquals(expected.getClass(), back.getClass(), value.toString());
        }
    }

    @Test
    void envelopesRoundTripAndTheEarlierJsonFormIsStillRead() {
        Envelope e = new Envelope();
        e.time = 1_700_000_000_123L;
        e.fields = List.of(NODES.numberNode(5), NODES.nullNode(), NODES.textNode("x"));
        e.rawKey = "k".getBytes(StandardCharsets.UTF_8);
        e.rawValue = new byte[]{0, 1, 2, (byte) 255};
        e.lateReason = "late: because";
        Envelope back = Envelope.fromBytes(e.toBytes());
        assertEquals(e.time, back.time);
        assertEquals(e.fields, back.fields);
        assertArrayEquals(e.rawKey, back.rawKey);
        assertArrayEquals(e.rawValue, back.rawValue);
        assertEquals(e.lateReason, back.lateReason);

        Envelope old = Envelope.fromBytes("{\"t\":42,\"f\":[3,null],\"rk\":\"aw==\"}".getBytes(StandardCharsets.UTF_8));
        assertEquals(42, old.time);
        assertEquals(List.of(NODES.numberNode(3), NODES.nullNode()), old.fields);
        assertArrayEquals("k".getBytes(StandardCharsets.UTF_8), old.rawKey);
        assertEquals(null, old.rawValue);
        assertEquals(null, old.lateReason);
        assertThrows(IllegalStateException.class, () -> Envelope.fromBytes(new byte[]{9, 9}));
    }

    @Test
    void statesRoundTripAndTheEarlierJsonFormIsStillRead() {
        ObjectNode state = (ObjectNode) Harness.read(
                "{\"n\":{\"n\":3},\"total\":{\"v\":12.5},\"kinds\":{\"d\":{\"\\\"a\\\"\":1}},\"last\":{\"t\":5,\"v\":{\"x\":[1]}}}");
        byte[] stored = Measures.STATE_SERDE.serializer().serialize("t", state);
        assertEquals(state, Measures.STATE_SERDE.deserializer().deserialize("t", stored));
        assertEquals(state, Measures.STATE_SERDE.deserializer().deserialize("t",
                state.toString().getBytes(StandardCharsets.UTF_8)));
        assertThrows(IllegalStateException.class, () -> Measures.STATE_SERDE.deserializer().deserialize("t", new byte[]{7}));
    }
}
