package portal.aggregator.topology;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class DefinitionTest {
    @Test
    void everyProblemUnderItsFieldPath() {
        Definition d = Definition.parse(Harness.read(("{'id':'t.x','version':'two','source_topic':'s',"
                + "'filter':'value.[','window':{'type':'hopping','size_ms':10,'advance_ms':20,'grace_ms':-1},"
                + "'measures':[{'name':'n','op':'median'},{'name':'n','op':'sum'}],'emit':'sometimes',"
                + "'late':'dead_letter','time':{'source':'field'}}").replace('\'', '"')), false);
        assertTrue(d.errors.keySet().containsAll(java.util.List.of("version", "application_id", "output_topic",
                "output_schema_id", "filter", "window.advance_ms", "window.grace_ms", "measures[0].op",
                "measures[1].name", "measures[1].field", "emit", "dead_letter_topic", "time.field")), d.errors.toString());
    }

    @Test
    void aValidRow() {
        Definition d = Definition.parse(Harness.read(Harness.definition(
                "{'type':'session','size_ms':null,'advance_ms':null,'gap_ms':1000,'grace_ms':0}",
                "[{'name':'n','op':'count'}]", "")), false);
        assertEquals(java.util.Map.of(), d.errors);
        assertEquals(Definition.WindowType.SESSION, d.windowType);
        assertEquals("portal-agg.t.agg.v1", d.applicationId);
    }
}
