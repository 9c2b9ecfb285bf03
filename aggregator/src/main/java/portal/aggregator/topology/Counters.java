package portal.aggregator.topology;

import java.util.concurrent.atomic.AtomicLong;

/** One definition's counts in this process, for the status rows and /metrics. */
public final class Counters {
    public final AtomicLong recordsIn = new AtomicLong();
    public final AtomicLong windowsEmitted = new AtomicLong();
    public final AtomicLong lateDropped = new AtomicLong();
    public final AtomicLong lateDeadLettered = new AtomicLong();
}
