package portal.aggregator.serde;

/** The registry could not answer (unreachable, unknown id). Distinct from a payload that cannot be decoded. */
public class SchemaLookupException extends Exception {
    public SchemaLookupException(String message) {
        super(message);
    }

    public SchemaLookupException(String message, Throwable cause) {
        super(message, cause);
    }
}
