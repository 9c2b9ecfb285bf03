package portal.aggregator.serde;

/**
 * The registry could not answer (unreachable, an error), or it answered that the schema does not exist
 * ({@link #notFound}): the first is a passing fault to retry, the second makes the record undecodable.
 */
public class SchemaLookupException extends Exception {
    private final boolean notFound;

    public SchemaLookupException(String message, boolean notFound) {
        super(message);
        this.notFound = notFound;
    }

    public SchemaLookupException(String message, Throwable cause) {
        super(message, cause);
        this.notFound = false;
    }

    public boolean notFound() {
        return notFound;
    }
}
