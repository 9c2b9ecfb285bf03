package portal.aggregator.serde;

/** A payload that cannot be read with its schema (or at all): the record is bad, not the registry. */
public class DecodeException extends Exception {
    public DecodeException(String message) {
        super(message);
    }

    public DecodeException(String message, Throwable cause) {
        super(message, cause);
    }
}
