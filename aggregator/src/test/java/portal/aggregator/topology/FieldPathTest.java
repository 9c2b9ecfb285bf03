package portal.aggregator.topology;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

class FieldPathTest {
    private static final String[] DOCS = {
        "{'value':{'a':{'b':3,'c':[1,2]},'k':'x','n':null,'t':true},'key':'k1','headers':{}}",
        "{'value':{'a':5},'key':null,'headers':{'h':'v'}}",
        "{'value':'plain text','key':{'id':1},'headers':{}}",
        "{'value':[1,2,3],'key':'k','headers':{}}",
        "{'value':null,'key':null,'headers':{}}",
        "{'value':{'a':{'b':{'c':{'d':'deep'}}}},'key':'k','headers':{}}",
    };

    @Test
    void plainPathsGiveTheInterpretersResults() {
        String[] paths = {"value", "value.a", "value.a.b", "value.a.c", "value.k", "value.n", "value.t", "value.missing",
            "value.a.b.c", "value.a.b.c.d", "key", "key.id", "headers.h", "headers", "_x", "value.a_1"};
        for (String text : paths) {
            FieldPath plain = FieldPath.of(text);
            assertNotNull(plain, text);
            for (String doc : DOCS) {
                JsonNode input = Harness.read(doc.replace('\'', '"'));
                assertEquals(Definition.JMESPATH.compile(text).search(input), plain.search(input), text + " on " + doc);
            }
        }
    }

    @Test
    void anythingElseIsLeftToTheInterpreter() {
        for (String text : new String[]{"value.a[0]", "value.\"a b\"", "value.*", "length(value)", "value.a || value.b",
            "`1`", "value.a == 'x'", "value..a", ".a", "value.1a", "value.a.", "@"}) {
            assertNull(FieldPath.of(text), text);
        }
    }

    @Test
    void definitionsUseThePlainPathOnlyWhereTheExpressionIsOne() {
        Definition d = Definition.parse(Harness.read(Harness.definition(
                "{'type':'tumbling','size_ms':60000,'advance_ms':null,'gap_ms':null,'grace_ms':0}",
                "[{'name':'n','op':'count'},{'name':'s','op':'sum','field':'value.amount'},"
                        + "{'name':'m','op':'max','field':'value.items[0]'}]",
                "'group_by':'value.k','emit':'on_update','late':'drop'")), false);
        assertEquals(FieldPath.class, d.groupBy.getClass());
        assertEquals(FieldPath.class, d.measures.get(1).expression().getClass());
        assertEquals(false, d.measures.get(2).expression() instanceof FieldPath);
    }
}
