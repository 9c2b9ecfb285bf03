package portal.aggregator.topology;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.BooleanNode;
import com.fasterxml.jackson.databind.node.DoubleNode;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Map;

/**
 * A compact binary form of the JSON values the engine keeps between its steps (the envelope on the repartition
 * topic, the window state in the store and its changelog), written and read without a JSON text in between.
 *
 * <p>Each value reads back as the node a JSON text round trip gave before: integers as an int node when they fit,
 * else a long node; doubles, strings, booleans and null as such; objects field by field. Anything else (big
 * integers, decimals, floats, arrays) is kept as its JSON text and parsed again, exactly as before.
 */
final class BinaryNodes {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final byte NULL = 0;
    private static final byte INTEGER = 1;
    private static final byte DOUBLE = 2;
    private static final byte TEXT = 3;
    private static final byte FALSE = 4;
    private static final byte TRUE = 5;
    private static final byte OBJECT = 6;
    private static final byte JSON_TEXT = 7;

    private BinaryNodes() {
    }

    /** A growable buffer of big-endian values. */
    static final class Writer {
        private byte[] bytes = new byte[64];
        private int size;

        private void ensure(int more) {
            if (size + more > bytes.length) {
                bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, size + more));
            }
        }

        void writeByte(int b) {
            ensure(1);
            bytes[size++] = (byte) b;
        }

        void writeInt(int v) {
            ensure(4);
            for (int shift = 24; shift >= 0; shift -= 8) {
                bytes[size++] = (byte) (v >>> shift);
            }
        }

        void writeLong(long v) {
            ensure(8);
            for (int shift = 56; shift >= 0; shift -= 8) {
                bytes[size++] = (byte) (v >>> shift);
            }
        }

        /** Bytes with their length first; null as length -1. */
        void writeBytes(byte[] b) {
            if (b == null) {
                writeInt(-1);
                return;
            }
            writeInt(b.length);
            ensure(b.length);
            System.arraycopy(b, 0, bytes, size, b.length);
            size += b.length;
        }

        void writeString(String s) {
            writeBytes(s == null ? null : s.getBytes(StandardCharsets.UTF_8));
        }

        void writeNode(JsonNode node) {
            if (node == null || node.isNull() || node.isMissingNode()) {
                writeByte(NULL);
            } else if (node instanceof IntNode || node instanceof LongNode) {
                writeByte(INTEGER);
                writeLong(node.longValue());
            } else if (node instanceof DoubleNode) {
                writeByte(DOUBLE);
                writeLong(Double.doubleToRawLongBits(node.doubleValue()));
            } else if (node instanceof TextNode) {
                writeByte(TEXT);
                writeString(node.textValue());
            } else if (node instanceof BooleanNode) {
                writeByte(node.booleanValue() ? TRUE : FALSE);
            } else if (node instanceof ObjectNode object) {
                writeByte(OBJECT);
                writeInt(object.size());
                Iterator<Map.Entry<String, JsonNode>> fields = object.fields();
                while (fields.hasNext()) {
                    Map.Entry<String, JsonNode> field = fields.next();
                    writeString(field.getKey());
                    writeNode(field.getValue());
                }
            } else {
                writeByte(JSON_TEXT);
                try {
                    writeBytes(JSON.writeValueAsBytes(node));
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            }
        }

        byte[] toByteArray() {
            return Arrays.copyOf(bytes, size);
        }
    }

    /** Reads what a {@link Writer} wrote, in the same order. */
    static final class Reader {
        private final byte[] bytes;
        private int position;

        Reader(byte[] bytes, int offset) {
            this.bytes = bytes;
            this.position = offset;
        }

        int readByte() {
            return bytes[position++];
        }

        int readInt() {
            int v = 0;
            for (int i = 0; i < 4; i++) {
                v = (v << 8) | (bytes[position++] & 0xff);
            }
            return v;
        }

        long readLong() {
            long v = 0;
            for (int i = 0; i < 8; i++) {
                v = (v << 8) | (bytes[position++] & 0xff);
            }
            return v;
        }

        byte[] readBytes() {
            int length = readInt();
            if (length < 0) {
                return null;
            }
            byte[] b = Arrays.copyOfRange(bytes, position, position + length);
            position += length;
            return b;
        }

        String readString() {
            int length = readInt();
            if (length < 0) {
                return null;
            }
            String s = new String(bytes, position, length, StandardCharsets.UTF_8);
            position += length;
            return s;
        }

        JsonNode readNode() {
            int tag = readByte();
            switch (tag) {
                case NULL:
                    return NullNode.instance;
                case INTEGER: {
                    long v = readLong();
                    return v == (int) v ? IntNode.valueOf((int) v) : LongNode.valueOf(v);
                }
                case DOUBLE:
                    return DoubleNode.valueOf(Double.longBitsToDouble(readLong()));
                case TEXT:
                    return TextNode.valueOf(readString());
                case FALSE:
                    return BooleanNode.FALSE;
                case TRUE:
                    return BooleanNode.TRUE;
                case OBJECT: {
                    int count = readInt();
                    ObjectNode object = NODES.objectNode();
                    for (int i = 0; i < count; i++) {
                        String name = readString();
                        object.set(name, readNode());
                    }
                    return object;
                }
                case JSON_TEXT:
                    try {
                        return JSON.readTree(readBytes());
                    } catch (IOException e) {
                        throw new IllegalStateException("not a stored JSON value", e);
                    }
                default:
                    throw new IllegalStateException("unknown value tag " + tag);
            }
        }
    }
}
