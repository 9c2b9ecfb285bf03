package portal.aggregator.topology;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import portal.aggregator.serde.InMemorySchemaSource;
import portal.aggregator.serde.JsonSchemaWireSerializer;
import portal.aggregator.serde.WireFormatDecoder;

/**
 * Where the engine's own per-event time goes, stage by stage, outside Kafka Streams (the bench's definition:
 * group by value.k, 1-minute tumbling count + sum). Opt-in, it times things:
 * {@code mvn -B -q test -Dtest=EngineStagesBench -Dengine.stages=true}
 */
@EnabledIfSystemProperty(named = "engine.stages", matches = "true")
class EngineStagesBench {
    private static final int EVENTS = 200_000;

    @Test
    void stages() {
        Definition d = Definition.parse(Harness.read(Harness.definition(
                "{'type':'tumbling','size_ms':60000,'advance_ms':null,'gap_ms':null,'grace_ms':3600000}",
                "[{'name':'n','op':'count'},{'name':'total','op':'sum','field':'value.amount'}]",
                "'group_by':'value.k','emit':'on_update','late':'drop'")), false);
        WireFormatDecoder decoder = new WireFormatDecoder(new InMemorySchemaSource());
        List<byte[]> values = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            values.add(("{\"k\": \"key-" + i + "\", \"n\": " + i + ", \"amount\": " + (i % 100)
                    + ", \"ward\": \"ICU\"}").getBytes(StandardCharsets.UTF_8));
        }
        Measures measures = new Measures(d.measures);
        JsonSchemaWireSerializer writer = new JsonSchemaWireSerializer(7);
        Admission admission = new Admission(d, decoder, new Counters());
        MockProcessorContext<String, Envelope> context = new MockProcessorContext<>();
        admission.init(context);
        for (int round = 0; round < 3; round++) { // the first rounds warm the JIT
            long[] ns = new long[5];
            for (int i = 0; i < EVENTS; i++) {
                byte[] value = values.get(i % values.size());
                long t0 = System.nanoTime();
                context.resetForwards();
                admission.process(new Record<>(("key-" + i).getBytes(StandardCharsets.UTF_8), value, i, new RecordHeaders()));
                Envelope e = context.forwarded().get(0).record().value();
                long t1 = System.nanoTime();
                Envelope through = Envelope.SERDE.deserializer().deserialize("t", Envelope.SERDE.serializer().serialize("t", e));
                long t2 = System.nanoTime();
                ObjectNode state = Measures.STATE_SERDE.deserializer().deserialize("t",
                        Measures.STATE_SERDE.serializer().serialize("t", measures.init()));
                state = measures.add(state, through.time, through.fields);
                byte[] stored = Measures.STATE_SERDE.serializer().serialize("t", state);
                long t3 = System.nanoTime();
                ObjectNode out = Harness.JSON.createObjectNode();
                out.put("group", "key-" + i);
                out.put("window_start", "1970-01-01T00:00:00.000Z");
                out.put("window_end", "1970-01-01T00:01:00.000Z");
                measures.output(Measures.STATE_SERDE.deserializer().deserialize("t", stored), out);
                byte[] written = writer.serialize(out);
                long t4 = System.nanoTime();
                ns[0] += t1 - t0;
                ns[1] += t2 - t1;
                ns[2] += t3 - t2;
                ns[3] += t4 - t3;
                ns[4] += written.length;
            }
            System.err.printf("STAGES round %d, us/event: admission (decode, expressions) %.2f, envelope serde %.2f,"
                            + " aggregate + state serde %.2f, output %.2f%n", round,
                    ns[0] / 1e3 / EVENTS, ns[1] / 1e3 / EVENTS, ns[2] / 1e3 / EVENTS, ns[3] / 1e3 / EVENTS);
        }
    }
}
